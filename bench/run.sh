#!/usr/bin/env bash
# npm run bench: build, then every bench/*.bench.ts (or the ones named) with the bundled Bun.
set -euo pipefail
cd "$(dirname "$0")/.."
BUN=node_modules/@oven/bun-linux-x64-baseline/bin/bun
bash scripts/build.sh
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(bench/*.bench.ts)
for f in "${files[@]}"; do
  echo "== $f"
  "$BUN" "$f"
done
node_modules/@oven/bun-linux-x64-baseline/bin/bun scripts/bench-report.ts
