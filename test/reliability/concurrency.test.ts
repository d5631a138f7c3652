// Concurrency: many LUs on one target and many LVs in one VG started, monitored and stopped in
// parallel (as Pacemaker does with independent resources): no lost or duplicated configuration,
// the shared per-node locks never deadlock. (Many addresses on one NIC: crash.test.ts.)
import t from "tap";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { agentPath, runAgentAsync } from "../lib/harness.js";
import { TgtRig } from "../iscsi/rig.js";
import { World } from "../lvm/world.js";

const N = 12;
const range = Array.from({ length: N }, (_, i) => i + 1);
const allZero = range.map(() => 0);

t.test(`iSCSILogicalUnit (tgt): ${N} LUs on one target in parallel`, async (t) => {
  const rig = new TgtRig("cc");
  t.teardown(() => rig.destroy());
  const iqn = "iqn.2026-01.org.tsstor.test:concurrency";
  const tgt = rig.agent("iSCSITarget", "start", { params: { implementation: "tgt", iqn } });
  t.equal(tgt.code, 0, tgt.stderr);
  const lu = (lun: number) => {
    const path = join(rig.dir, `lu${lun}.img`);
    spawnSync("truncate", ["-s", "4M", path]);
    return { implementation: "tgt", target_iqn: iqn, lun: String(lun), path };
  };
  const run = (action: string, lun: number, interval = 0) =>
    runAgentAsync(agentPath("iSCSILogicalUnit"), action, { params: lu(lun), env: rig.env(), instance: `lu${lun}`, meta: { timeout: 30000, interval } });
  const started = await Promise.all(range.map((l) => run("start", l)));
  t.same(started.map((r) => r.code), allZero, `every start 0: ${started.map((r) => r.reason).filter(Boolean).join("; ")}`);
  const shown = rig.tgtadm(["--op", "show", "--mode", "target"]).stdout;
  for (const l of range) t.equal(shown.split(`LUN: ${l}\n`).length - 1, 1, `LUN ${l} configured exactly once`);
  t.same((await Promise.all(range.map((l) => run("monitor", l, 10000)))).map((r) => r.code), allZero, "every monitor 0");
  const stopped = await Promise.all(range.map((l) => run("stop", l)));
  t.same(stopped.map((r) => r.code), allZero, "every stop 0");
  const after = rig.tgtadm(["--op", "show", "--mode", "target"]).stdout;
  for (const l of range) t.notOk(after.includes(`LUN: ${l}\n`), `LUN ${l} gone`);
  t.equal(rig.agent("iSCSITarget", "stop", { params: { implementation: "tgt", iqn } }).code, 0);
});

t.test(`LVM-activate: ${N} LVs of one VG in parallel (lvmlockd, dlm)`, async (t) => {
  const w = new World("cc").startSync();
  t.teardown(() => w.stop());
  w.addVg("vg1", "dlm", range.map((i) => `lv${i}`));
  w.daemon("dlm_controld");
  const wrap = ["/usr/bin/nsenter", "-t", String(w.holder), "-m", "--"];
  const lockd = w.run(agentPath("clvm"), "start", {});
  t.equal(lockd.code, 0, lockd.stderr);
  const run = (action: string, i: number, interval = 0) =>
    runAgentAsync(agentPath("LVM-activate"), action, {
      params: { vgname: "vg1", lvname: `lv${i}`, vg_access_mode: "lvmlockd", activation_mode: "exclusive" },
      env: w.env,
      wrap,
      instance: `lv${i}`,
      meta: { timeout: 60000, interval },
    });
  const started = await Promise.all(range.map((i) => run("start", i)));
  t.same(started.map((r) => r.code), allZero, `every start 0: ${started.map((r) => r.reason).filter(Boolean).join("; ")}`);
  const dm = w.dm();
  for (const i of range) t.equal(dm.filter((d) => d === `vg1-lv${i}`).length, 1, `vg1-lv${i} active exactly once`);
  t.same((await Promise.all(range.map((i) => run("monitor", i, 10000)))).map((r) => r.code), allZero, "every monitor 0");
  const stopped = await Promise.all(range.map((i) => run("stop", i)));
  t.same(stopped.map((r) => r.code), allZero, "every stop 0");
  t.same(w.dm().filter((d) => d.startsWith("vg1-lv")), [], "no LV left active");
  t.equal(w.run(agentPath("clvm"), "stop", {}).code, 0);
});
