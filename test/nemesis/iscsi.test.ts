// The nemesis on the live rig (nemesis.ts), iSCSI stack: fenced, through a seeded sequence of
// faults, it must show 0 split brains, 0 lost writes and converge after every heal; the same stack
// unfenced, through a cut of its back-end network, must show the split brain (the control).
// `npm test` runs a short sequence (TSSTOR_NEMESIS_CYCLES, default 10); `npm run nemesis` a long one.
import t from "tap";
import { rmSync } from "node:fs";
import { clientToolsMissing } from "../rig/iscsi.js";
import { Nemesis, report } from "./nemesis.js";
import { cycles, fencedRun, nemesisDir, seed, STACKS } from "./fenced.js";

const missing = await clientToolsMissing();

t.test(`fenced ${STACKS.iscsi}: ${cycles} seeded fault cycles (seed ${seed})`, { skip: missing ?? false }, (t) => fencedRun(t, "iscsi"));

t.test("the control: the same stack unfenced, a cut back-end network: split brain", { skip: missing ?? false }, async (t) => {
  const d = nemesisDir("nemesis-ctl");
  const n = new Nemesis({ cycles: 1, seed, fencing: false, faults: ["cluster-partition"], dir: d, log: (m) => t.comment(m) });
  t.teardown(async () => {
    await n.teardown();
    rmSync(d, { recursive: true, force: true });
  });
  const r = await n.run();
  t.comment(`\n${report(r)}`);
  t.ok(r.splitBrains >= 1, "without fencing both nodes become Primary and serve the VIP");
});
