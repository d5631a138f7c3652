#!/usr/bin/env bash
# npm test: build everything, then run the whole tap suite (unit, black-box conformance, real
# Pacemaker tools, namespaces, loop devices). Needs root and the packages .ci/run installs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
start=$(mktemp)
trap 'rm -f "$start"' EXIT
rc=0
npx --no-install tap "$@" || rc=$?
# CI keeps only the tail of a long log: when something failed, repeat each failed assertion with
# its diagnostics last, from the per-file TAP that tap keeps in .tap/test-results (this run's files only).
if [ "$rc" -ne 0 ] && [ -d .tap/test-results ]; then
  echo "# ---- failures (from .tap/test-results) ----"
  find .tap/test-results -name '*.tap' -newer "$start" -print0 | xargs -0r grep -l '^ *not ok ' | sort | while read -r f; do
    echo "# ${f#.tap/test-results/}"
    # a failed point, its YAML block (indented "---" ... "..."), nothing else; 60 lines each at most
    awk '/^ *not ok / { p = 1; n = 0; ind = match($0, /[^ ]/) }
         p { print; n++ }
         p && /^ *\.\.\.$/ && match($0, /[^ ]/) > ind { p = 0 }
         p && n >= 60 { print "    (cut)"; p = 0 }' "$f"
  done
fi
exit "$rc"
