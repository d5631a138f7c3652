// Live: the drbd-fs stack from `tsstor stack drbd-fs` on the 2-node rig: DRBD (simulated) ->
// ext4 on a loop device -> virtual IP -> a service, as one group after the promotion. Files are
// written with fsync on the Primary, the Primary is hard-killed, the survivor promotes, mounts
// and serves, and every file written before the kill reads back with its checksum.
import t from "tap";
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startRig, where } from "../rig/rig.js";
import { drbdSimAvailable, rigDrbd } from "../rig/drbd.js";
import { drbdFsStack } from "../../cli/stacks.js";
import { scratchDir } from "../lib/harness.js";
import { installAgents } from "../lib/install.js";
import { builtAgents, planAgents, withStandIns } from "../stack/agents.js";
import { sleep } from "../rig/exec.js";

const built = builtAgents();
const skip = built.includes("drbd") && drbdSimAvailable() ? false : "ocf:tsstor:drbd or its simulator (test/drbd/sim.ts) not in this checkout yet";

t.test("drbd-fs: hard kill of the Primary, the survivor mounts and every fsynced file reads back", { skip }, async (t) => {
  const dir = scratchDir("live-drbdfs");
  spawnSync("chmod", ["755", dir]);
  const img = join(dir, "fs.img");
  spawnSync("truncate", ["-s", "64M", img]);
  t.equal(spawnSync("mkfs.ext4", ["-q", "-F", img]).status, 0, "mkfs.ext4");
  const loop = spawnSync("losetup", ["-f", "--show", img], { encoding: "utf8" }).stdout.trim();
  t.match(loop, /^\/dev\/loop\d+$/);
  const mnt = join(dir, "mnt");
  mkdirSync(mnt);
  const drbd = await rigDrbd();
  const rig = await startRig({ nodes: 2, clients: 1, env: drbd.env, log: (m) => t.comment(m) });
  t.teardown(async () => {
    await rig.stop(); // the nodes' mount namespaces die, releasing the mount
    spawnSync("losetup", ["-d", loop]);
  });
  const full = drbdFsStack({ prefix: "data", drbdResource: drbd.res, drbdconf: drbd.sim.conf, device: loop, directory: mnt, fstype: "ext4", ip: `${rig.vip(1)}/24`, service: "ocf:pacemaker:Dummy" }, { method: "none" });
  const { plan, replaced } = withStandIns(full, built);
  if (replaced.length) t.comment(`ocf:tsstor:{${replaced.join(",")}} not built in this checkout: the upstream agents stand in`);
  installAgents(planAgents(plan));
  await rig.applyPcs(plan.commands);
  const [p] = await rig.waitResource("data-service", { timeoutMs: 90_000 });
  let s = await rig.status();
  t.same(where(s, "data-drbd-clone", "Promoted"), [p], "the group runs on the Primary");
  for (const r of ["data-fs", "data-ip"]) t.same(where(s, r), [p]);
  const node = rig.node(p!);
  const files = Array.from({ length: 8 }, (_, i) => `f${i}`);
  for (const f of files) {
    const w = await node.run("dd", ["if=/dev/urandom", `of=${join(mnt, f)}`, "bs=64k", "count=4", "conv=fsync", "status=none"]);
    t.equal(w.code, 0, `write ${f}`);
  }
  const sums = (await node.run("sha256sum", files.map((f) => join(mnt, f)))).stdout;
  t.equal(sums.trim().split("\n").length, files.length);
  t.notOk((await rig.node(p === "n1" ? "n2" : "n1").run("sh", ["-c", `grep -q ' ${mnt} ' /proc/mounts`])).code === 0, "not mounted on the peer");

  const survivor = p === "n1" ? "n2" : "n1";
  const t0 = await rig.hardKill(p!);
  drbd.crash(p!);
  let mountedMs = 0;
  for (let i = 0; i < 600; i++) {
    const r = await rig.node(survivor).run("sha256sum", ["-c", "--quiet", "-"], { input: sums });
    if (r.code === 0) {
      mountedMs = Date.now() - t0;
      break;
    }
    await sleep(100);
  }
  t.ok(mountedMs > 0, "every fsynced file reads back with its checksum on the survivor");
  t.comment(`drbd-fs failover (hard kill -> files readable on the survivor): ${mountedMs} ms`);
  await rig.waitResource("data-service", { node: survivor, on: survivor });
  s = await rig.status(survivor);
  t.same(where(s, "data-drbd-clone", "Promoted"), [survivor], "the survivor promoted");
  for (const r of ["data-fs", "data-ip", "data-service"]) t.same(where(s, r), [survivor], `${r} on the survivor`);
  t.same(await rig.arpOwners(rig.vip(1)), [rig.mac(survivor)], "the VIP answers from the survivor");
});
