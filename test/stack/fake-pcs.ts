// Stand-ins for the tools `tsstor stack --apply` calls on a live cluster, and the built CLI:
// a pcs that logs its argv (one line per call, arguments separated by \x1f; FAIL_AT=N fails the
// Nth call; `pcs cluster cib FILE` writes $FAKE_CIB, else <cib/>), and an sbd whose `dump`
// prints the header format of sbd(8) with $SBD_WATCHDOG/$SBD_MSGWAIT (or fails without them).
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUILD } from "../lib/harness.js";

export const CLI = join(BUILD, "tsstor");

export function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(CLI, args, { encoding: "utf8", env: { ...process.env, ...env } });
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

export interface Fakes {
  /** PATH with the stand-in pcs (and sbd) first */
  env: (log: string, extra?: Record<string, string>) => Record<string, string>;
  /** the calls logged so far, each an argv */
  calls: (log: string) => string[][];
  /** a directory holding only the stand-in sbd (put it before the real pcs on PATH) */
  sbdDir: string;
}

export function fakes(dir: string): Fakes {
  const bin = join(dir, "bin");
  const sbdDir = join(dir, "sbd-bin");
  mkdirSync(bin, { recursive: true });
  mkdirSync(sbdDir, { recursive: true });
  writeFileSync(
    join(bin, "pcs"),
    `#!/bin/bash
n=$(( $(cat "$PCS_LOG" 2>/dev/null | wc -l) + 1 ))
(IFS=$'\\x1f'; printf '%s\\n' "$*") >> "$PCS_LOG"
if [ "$1" = cluster ] && [ "$2" = cib ]; then if [ -n "\${FAKE_CIB:-}" ]; then cp "$FAKE_CIB" "$3"; else echo '<cib/>' > "$3"; fi; fi
if [ "\${FAIL_AT:-0}" = "$n" ]; then echo "Error: injected failure" >&2; exit 1; fi
exit 0
`,
  );
  const sbd = `#!/bin/bash
[ "$1" = -d ] && [ "$3" = dump ] && [ -n "\${SBD_MSGWAIT:-}" ] || { echo "== disk $2 unreadable!" >&2; exit 1; }
printf '==Dumping header on disk %s\\nHeader version     : 2.1\\nNumber of slots    : 255\\nSector size        : 512\\nTimeout (watchdog) : %s\\nTimeout (allocate) : 2\\nTimeout (loop)     : 1\\nTimeout (msgwait)  : %s\\n==Header on disk %s is dumped\\n' "$2" "$SBD_WATCHDOG" "$SBD_MSGWAIT" "$2"
`;
  for (const d of [bin, sbdDir]) writeFileSync(join(d, "sbd"), sbd);
  for (const f of [join(bin, "pcs"), join(bin, "sbd"), join(sbdDir, "sbd")]) chmodSync(f, 0o755);
  return {
    env: (log, extra = {}) => ({ PATH: `${bin}:${process.env.PATH}`, PCS_LOG: log, ...extra }),
    calls: (log) => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean).map((l) => l.split("\x1f")) : []),
    sbdDir,
  };
}

/** temp file names differ between the script and --apply: name them by role */
export const norm = (c: string[][]) => c.map((a) => a.map((w) => w.replace(/^(diff-against=)?\/.*\/(orig|new)\.xml$/, "$1<$2>")));
