#!/usr/bin/env bash
# npm test: build everything, then run the whole tap suite (unit, black-box conformance, real
# Pacemaker tools, namespaces, loop devices). Needs root and the packages .ci/run installs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
exec npx --no-install tap "$@"
