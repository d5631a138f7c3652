// The nemesis on the live rig (nemesis.ts): the fenced iSCSI stack through a seeded sequence of
// faults must show 0 split brains, 0 lost writes and converge after every heal; the same stack
// unfenced, through a cut of its back-end network, must show the split brain (the control).
// `npm test` runs a short sequence (TSSTOR_NEMESIS_CYCLES, default 10); `npm run nemesis` a long one.
import t from "tap";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { scratchDir } from "../lib/harness.js";
import { REPO } from "../lib/xml.js";
import { clientToolsMissing } from "../rig/iscsi.js";
import { Nemesis, report } from "./nemesis.js";

const missing = await clientToolsMissing();
const cycles = Number(process.env.TSSTOR_NEMESIS_CYCLES ?? 10);
const seed = Number(process.env.TSSTOR_NEMESIS_SEED ?? 7);

function dir(name: string): string {
  const d = scratchDir(name);
  spawnSync("chmod", ["755", d]);
  return d;
}

t.test(`fenced iSCSI stack: ${cycles} seeded fault cycles (seed ${seed})`, { skip: missing ?? false }, async (t) => {
  const n = new Nemesis({ cycles, seed, fencing: true, dir: dir("nemesis"), log: (m) => t.comment(m) });
  t.teardown(() => n.teardown());
  const r = await n.run();
  const text = report(r);
  t.comment(`\n${text}`);
  mkdirSync(join(REPO, "build"), { recursive: true });
  writeFileSync(join(REPO, "build", "nemesis-report.md"), `${text}\n\nseed ${seed}\n\n${r.log.join("\n")}\n`);
  t.equal(r.cycles, cycles, "every cycle ran");
  t.equal(r.splitBrains, 0, "no split brain: never two Primaries, never two nodes answering ARP for the VIP");
  t.equal(r.lostWrites, 0, `every acknowledged write reads back (${r.acked})`);
  t.ok(r.acked > cycles, "the client kept writing");
  for (const [f, s] of Object.entries(r.perFault)) t.equal(s.violations, 0, `${f}: converged every time, no violation`);
});

t.test("the control: the same stack unfenced, a cut back-end network: split brain", { skip: missing ?? false }, async (t) => {
  const n = new Nemesis({ cycles: 1, seed, fencing: false, faults: ["cluster-partition"], dir: dir("nemesis-ctl"), log: (m) => t.comment(m) });
  t.teardown(() => n.teardown());
  const r = await n.run();
  t.comment(`\n${report(r)}`);
  t.ok(r.splitBrains >= 1, "without fencing both nodes become Primary and serve the VIP");
});
