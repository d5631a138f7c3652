#!/usr/bin/env bash
# npm run nemesis [-- CYCLES [SEED]]: the long nemesis (test/nemesis/): the fenced iSCSI stack on
# the live rig through CYCLES seeded faults (default 50), then the unfenced control. The report
# (one line, a table per fault kind, every cycle) is written to build/nemesis-report.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
export TSSTOR_NEMESIS_CYCLES=${1:-${TSSTOR_NEMESIS_CYCLES:-50}}
export TSSTOR_NEMESIS_SEED=${2:-${TSSTOR_NEMESIS_SEED:-7}}
# about 25 s a cycle on this 2-core machine
npx --no-install tap --timeout $((TSSTOR_NEMESIS_CYCLES * 60 + 600)) test/nemesis/nemesis.test.ts
echo "report: build/nemesis-report.md"
