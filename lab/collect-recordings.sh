#!/usr/bin/env bash
# Copy a lab run's recordings (RUN/*/n*/recordings/<tool>/...) into test/recordings/<tool>/.
# Tools recorded in this run replace their committed directory as a whole (no stale cases).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
run=$1
dest="$REPO_DIR/test/recordings"
mkdir -p "$dest"
declare -A seen=()
for src in "$run"/single/n1/recordings "$run"/pair/n1/recordings "$run"/pair/n2/recordings; do
  [ -d "$src" ] || continue
  for tdir in "$src"/*/; do
    tool=$(basename "$tdir")
    if [ -z "${seen[$tool]:-}" ]; then rm -rf "${dest:?}/$tool"; seen[$tool]=1; fi
    mkdir -p "$dest/$tool"
    cp -r "$tdir"/. "$dest/$tool/"
  done
done
log "recordings: ${!seen[*]} -> test/recordings/"
