#!/usr/bin/env bash
# npm run build: type-check, compile the one executable, agents and tsstor command (Bun, x86-64
# baseline: no AVX2, glibc >= 2.17), and the test agent, write one shell front per agent, and fail when the
# committed metadata/ is stale (refresh it with `npm run metadata`).
set -euo pipefail
cd "$(dirname "$0")/.."
BUN=node_modules/@oven/bun-linux-x64-baseline/bin/bun
[ -x "$BUN" ] || { echo "build: $BUN missing; run npm ci" >&2; exit 1; }

rm -rf build && mkdir -p build/agents build/test build/gen
# metadata first: the agents binary embeds it, and tsc checks the import of it
"$BUN" scripts/gen-metadata.ts

npx --no-install tsc -p .

# One executable for the agents and the command (the name it is run as picks which, agents/main.ts).
# --bytecode: JSC bytecode compiled at build time, measured ~60% less user CPU per action (the
# bundle is no longer parsed and compiled at every start). --splitting (ESM only): each agent and
# the command are chunks loaded on first import, so an agent call does not load the command's
# modules (measured: one unsplit bundle cost the agents ~6 MB RSS) and the command gets bytecode
# too (its top-level await needs ESM; `tsstor --version` 146 -> 58 ms).
"$BUN" build --compile --splitting --format=esm --minify --bytecode --sourcemap=none agents/main.ts --outfile build/tsstor >/dev/null
ln -s tsstor build/tsstor-agents
"$BUN" build --compile --minify --bytecode --sourcemap=none test/fixtures/test-agent-main.ts --outfile build/test/tsstor-test-agent >/dev/null
ln -s tsstor-test-agent build/test/TestAgent
# the test rig's fence agent (fence-agents conventions; pacemaker-fenced runs it inside rig nodes)
"$BUN" build --compile --minify --bytecode --sourcemap=none test/rig/fence-agent.ts --outfile build/test/fence_tsstor_rig >/dev/null

# Fakes of system tools for tests: every test/fakes/*.ts exporting `fakes` joins one binary.
mkdir -p build/test/fakes
{
  echo 'import { basename } from "node:path";'
  echo 'import { logArgv, type FakeMain } from "../../test/fakes/lib.js";'
  echo 'const all: Record<string, FakeMain> = {};'
  i=0
  for f in test/fakes/*.ts; do
    case "$(basename "$f")" in lib.ts|shim.ts) continue ;; esac
    echo "import { fakes as f$i } from \"../../$f\";"
    echo "Object.assign(all, f$i);"
    i=$((i+1))
  done
  echo 'import { shim } from "../../test/fakes/shim.js";'
  echo 'import { existsSync } from "node:fs";'
  echo 'const name = basename(process.argv0);'
  echo 'const args = process.argv.slice(2);'
  echo 'if (name === "tsstor-fakes") { console.log(Object.keys(all).join(String.fromCharCode(10))); process.exit(0); }'
  echo 'logArgv(name, args);'
  echo '// shim mode: our name is linked in TSSTOR_SHIM_DIR (argv0 may hold the bare name, so check the link)'
  echo 'if (process.env.TSSTOR_SHIM_DIR && existsSync(`${process.env.TSSTOR_SHIM_DIR}/${name}`)) process.exit(shim(name, args));'
  echo 'const f = all[name];'
  echo 'if (!f) { console.error(`fake ${name}: unknown`); process.exit(127); }'
  echo 'process.exit(f(args));'
} > build/test/fakes-main.ts
"$BUN" build --compile --minify --bytecode --sourcemap=none build/test/fakes-main.ts --outfile build/test/fakes/tsstor-fakes >/dev/null
for f in $(build/test/fakes/tsstor-fakes); do ln -s tsstor-fakes "build/test/fakes/$f"; done

# each agent: the shell front the package installs (packaging/front.sh), calling this build
source packaging/front.sh
for a in $(build/tsstor-agents --list); do
  write_front "$a" "$PWD/build/tsstor-agents" "build/agents/$a"
done

if [ "${1:-}" = "--update-metadata" ]; then
  rm -f metadata/*.xml
  "$BUN" scripts/gen-metadata.ts --write metadata
  echo "metadata/ refreshed"
fi

stale=0
for a in $(build/tsstor-agents --list); do
  if ! env -i OCF_RA_VERSION_MAJOR=1 OCF_RA_VERSION_MINOR=1 build/tsstor-agents "$a" meta-data | cmp -s - "metadata/$a.xml"; then
    echo "build: metadata/$a.xml is stale or missing; run: npm run metadata" >&2
    stale=1
  fi
done
for f in metadata/*.xml; do
  [ -e "$f" ] || continue
  a=$(basename "$f" .xml)
  [ -e "build/agents/$a" ] || { echo "build: metadata/$f has no agent; run: npm run metadata" >&2; stale=1; }
done
exit $stale
