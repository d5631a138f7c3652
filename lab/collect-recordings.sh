#!/usr/bin/env bash
# Copy a lab run's recordings (RUN/*/n*/recordings/<tool>/...) into test/recordings/<tool>/.
# Cases recorded in this run overwrite the committed ones; cases not recorded in this run stay
# (a run of one phase must not drop the other phase's cases: delete renamed cases by hand).
set -euo pipefail
shopt -s nullglob
source "$(dirname "$0")/lib.sh"
run=$1
dest="$REPO_DIR/test/recordings"
mkdir -p "$dest"
declare -A seen=() fresh=()
for src in "$run"/single/n1/recordings "$run"/pair/n1/recordings "$run"/pair/n2/recordings; do
  [ -d "$src" ] || continue
  for tdir in "$src"/*/; do
    tool=$(basename "$tdir")
    seen[$tool]=1
    mkdir -p "$dest/$tool"
    # VERSIONS accumulate per VM: keep this run's
    if [ -f "$tdir/VERSIONS" ]; then
      if [ -z "${fresh[$tool]:-}" ]; then rm -f "$dest/$tool/VERSIONS"; fresh[$tool]=1; fi
      cat "$tdir/VERSIONS" >> "$dest/$tool/VERSIONS"
    fi
    find "$tdir" -maxdepth 1 -type f ! -name VERSIONS -exec cp {} "$dest/$tool/" \;
  done
done
log "recordings: ${!seen[*]} -> test/recordings/"
