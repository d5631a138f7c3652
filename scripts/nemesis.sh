#!/usr/bin/env bash
# npm run nemesis [-- CYCLES [SEED]]: the long nemesis (test/nemesis/): each fenced stack (iscsi, drbd-fs) on
# the live rig through CYCLES seeded faults (default 50), then the unfenced control. The report
# (one line, a table per fault kind, every cycle) is written to build/nemesis-STACK.md;
# TSSTOR_NEMESIS_STACKS=iscsi,drbd-fs picks the stacks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
export TSSTOR_NEMESIS_CYCLES=${1:-${TSSTOR_NEMESIS_CYCLES:-50}}
export TSSTOR_NEMESIS_SEED=${2:-${TSSTOR_NEMESIS_SEED:-7}}
# about 20-25 s a cycle on this 2-core machine, two stacks
# one stack at a time (--jobs 1): the stall and convergence numbers are not shared with another rig
files=()
IFS=, read -ra stacks <<< "${TSSTOR_NEMESIS_STACKS:-iscsi,drbd-fs}"
for s in "${stacks[@]}"; do files+=("test/nemesis/$s.test.ts"); done
npx --no-install tap --jobs 1 --timeout $((TSSTOR_NEMESIS_CYCLES * 60 + 600)) "${files[@]}"
echo "reports: $(printf 'build/nemesis-%s.md ' "${stacks[@]}")"
