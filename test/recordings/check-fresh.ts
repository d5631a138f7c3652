// Real tools vs the committed recordings: every lab run records the real outputs again; this
// compares them by shape (test/lib/recordings.ts shape(): values masked, format kept) with
// test/recordings/ and prints each drift, so a Debian update that changes a format fails the lab
// before the fakes (held to the committed recordings by test/recordings/replay.test.ts) go stale.
//   bun test/recordings/check-fresh.ts RUN/single/n1/recordings RUN/pair/n1/recordings ...
// A tool with no fresh recordings (its record suite skipped or not selected, a directory that does
// not exist) is listed and not compared: only outputs recorded in this run can drift.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { RECORDINGS, shape } from "../lib/recordings.js";

// Outputs that differ from run to run in more than values (timing-dependent states, dmesg, raw
// on-disk bytes such as a superblock with its UUID and creation time).
const VOLATILE = /(resync|sync(source|target)|dmesg|starting|events2|proc-drbd|after-wrong|configfs-tree|hexdump)/i;
// Outputs listed in hash-table order (the DLM's lock dump walks its resource table, keyed by a
// hash of each resource name, and an LV lock's name is its new UUID): compared as a set of blocks.
const ORDERLESS = /lockdump/i;
const blocks = (text: string) => text.split(/\n\n+/).map((b) => b.trim()).filter(Boolean).sort().join("\n\n");
const norm = (name: string, text: string) => (ORDERLESS.test(name) ? blocks(shape(text)) : shape(text));

let drift = 0;
let compared = 0;
const fresh = new Set<string>();
for (const dir of process.argv.slice(2)) {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
  for (const tool of readdirSync(dir)) {
    if (!statSync(join(dir, tool)).isDirectory()) continue;
    fresh.add(tool);
    const committed = join(RECORDINGS, tool);
    if (!existsSync(committed)) {
      console.log(`check-recordings: ${tool}: not committed yet (bash lab/run.sh --record)`);
      continue;
    }
    for (const f of readdirSync(join(dir, tool))) {
      const m = /^(.*)\.(out|err|rc)$/.exec(f);
      if (!m || VOLATILE.test(m[1]!)) continue;
      const old = join(committed, f);
      if (!existsSync(old)) {
        console.log(`check-recordings: ${tool}/${f}: new case (not committed)`);
        continue;
      }
      compared++;
      const a = norm(m[1]!, readFileSync(old, "utf8"));
      const b = norm(m[1]!, readFileSync(join(dir, tool, f), "utf8"));
      if (a !== b) {
        drift++;
        console.log(`check-recordings: DRIFT ${tool}/${f}\n--- committed (shape)\n${a.slice(0, 800)}\n--- this run (shape)\n${b.slice(0, 800)}`);
      }
    }
  }
}
// the lab's own tools (a VERSIONS file; test/recordings/ also holds recordings made by hand)
const stale = readdirSync(RECORDINGS)
  .filter((t) => existsSync(join(RECORDINGS, t, "VERSIONS")) && !fresh.has(t))
  .sort();
if (stale.length) console.log(`check-recordings: not recorded in this run, not compared: ${stale.join(" ")}`);
console.log(`check-recordings: ${compared} outputs compared, ${drift} drifted`);
process.exit(drift ? 1 : 0);
