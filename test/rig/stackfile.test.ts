// Live: a stack file (`kind: failover`, cli/stack/) on the rig, through the built `tsstor` run
// inside a node. Two DRBD resources (the DRBD simulator: this kernel has no DRBD), ext4, one tgt
// target with its LUNs and a VIP as one group, fenced by the rig's fence agent as the stack file
// says (`fencing: method: agent`, fence_tsstor_rig on the rig's power switch).
// - 2 nodes: `tsstor stack apply FILE`; a client writes through the VIP; the active node is
//   hard-killed and fenced; everything comes up on the other node with the client's blocks and
//   the filesystem's files intact; apply again changes nothing; `add-lun` live (the new LUN is
//   there at the next login, the held session carries on); `remove-lun` refused while the client
//   holds a session, done after its logout; `delete` removes the stack and nothing else (the
//   rig's fence device and the stack's own fencing stay).
// - 3 nodes: the same stack file with clone-max 3: apply, hard kill of the active node, the
//   stack on one of the two others (the third stays Unpromoted); then on the survivor add-lun, and
//   remove-lun refused under a held session and done with --force (the session carries on).
// The simulator models DRBD's roles, not its I/O: the ext4 is on a loop device standing in for
// DRBD r0's device, and the LUNs are files both nodes open standing in for DRBD r1's (LUN 1 on
// the host's filesystem, an added LUN 2 on the ext4), as test/live/drbd-fs.test.ts and
// test/rig/iscsi.ts do. The rig's own fence device (rig-fence) runs beside the stack's.
import t from "tap";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tgtSessions } from "../../lib/iscsi/sessions.js";
import { scratchDir } from "../lib/harness.js";
import { installAgents } from "../lib/install.js";
import { drbdSimAvailable } from "./drbd.js";
import { sleep } from "./exec.js";
import { INITIATOR, IQN, IscsiClient, IscsiSession, clientToolsMissing } from "./iscsi.js";
import { startRig, where, type Rig } from "./rig.js";
import { rigDrbdResources, simPrimaries, stackIds, stackYaml, tsstor, tsstorBuilt, waitStack } from "./stackfile.js";

const missing = (await clientToolsMissing()) ?? (!drbdSimAvailable() ? "the DRBD simulator (test/drbd/sim.ts) is not in this checkout" : !tsstorBuilt() ? "build/tsstor missing (npm run build)" : undefined);
const AGENTS = ["drbd", "Filesystem", "iSCSITarget", "iSCSILogicalUnit", "IPaddr2"];
const NAME = "rs";
const DRBD = ["r0", "r1"];

interface Disk {
  dir: string;
  loop: string;
  mnt: string;
  lun1: string;
}

/** A scratch directory every node reads, ext4 on a loop device, a sparse LUN file; undone at teardown (after the rig). */
function disks(t: Tap, name: string): Disk {
  const dir = scratchDir(name);
  spawnSync("chmod", ["755", dir]);
  const img = join(dir, "fs.img");
  spawnSync("truncate", ["-s", "64M", img]);
  t.equal(spawnSync("mkfs.ext4", ["-q", "-F", img]).status, 0, "mkfs.ext4 on the filesystem's image");
  const loop = spawnSync("losetup", ["-f", "--show", img], { encoding: "utf8" }).stdout.trim();
  t.match(loop, /^\/dev\/loop\d+$/, `loop device ${loop}`);
  const mnt = join(dir, "mnt");
  mkdirSync(mnt);
  const lun1 = join(dir, "lun1.img");
  spawnSync("truncate", ["-s", "64M", lun1]);
  return { dir, loop, mnt, lun1 };
}

interface Tap {
  comment(...m: any[]): any;
  equal(a: any, b: any, ...rest: any[]): boolean;
  match(a: any, b: any, ...rest: any[]): boolean;
}

/** A rig whose nodes run tgtd and the DRBD simulator, fenced by the rig's power switch. */
async function rigWith(t: Tap & { teardown(fn: () => any): void }, n: number, d: Disk, sessions: IscsiSession[]): Promise<{ rig: Rig; drbd: Awaited<ReturnType<typeof rigDrbdResources>> }> {
  const nodes = Array.from({ length: n }, (_, i) => `n${i + 1}`);
  const drbd = await rigDrbdResources(nodes, DRBD);
  let rig: Rig | undefined;
  t.teardown(async () => {
    for (const s of sessions) s.close();
    await rig?.stop(); // the nodes' mount namespaces die with them, releasing the mount
    spawnSync("losetup", ["-d", d.loop]);
    rmSync(d.dir, { recursive: true, force: true });
  });
  // what dies and boots with a node when the power switch fences it: its simulated DRBD kernel
  rig = await startRig({
    nodes: n,
    clients: 1,
    boot: [["tgtd", "-f"]],
    env: drbd.env,
    fencing: { onPowerOff: (x) => drbd.crash(x), onPowerOn: (x) => drbd.boot(x) },
    // every node runs on this one machine and reads its load average as its own: past 80% of the
    // cores Pacemaker throttles to one action at a time cluster-wide, and each DRBD start then
    // waits its wfc-timeout (5 s) for peers that are not started yet
    properties: { "load-threshold": "10000%" },
    log: (m) => t.comment(m),
  });
  installAgents(AGENTS);
  return { rig, drbd };
}

/** Power cut of `node` (its simulated DRBD kernel dies with it); returns the kill time. */
async function powerCut(rig: Rig, drbd: { crash(n: string): void }, node: string): Promise<number> {
  const killed = rig.hardKill(node);
  drbd.crash(node); // before the first await: once the node reads as down it may be fenced (see Rig.startPowerSwitch)
  return killed;
}

const blocks = Array.from({ length: 16 }, (_, i) => i);

// the two parts run at the same time, each on its own rig (prefixes tsr, tsr2...: separate
// namespaces, switches, loop devices and DRBD simulators): most of a part is waiting for the cluster
t.jobs = 2;

t.test("stack file on 2 nodes: apply, hard kill, apply again, add-lun, remove-lun, delete", { skip: missing ?? false }, async (t) => {
  const t0 = Date.now();
  const d = disks(t, "stackfile2");
  const sessions: IscsiSession[] = [];
  const { rig, drbd } = await rigWith(t, 2, d, sessions);
  const log = (m: string) => t.comment(m);
  const vip = rig.vip();
  const ids = stackIds(NAME, DRBD, d.mnt, IQN, vip);
  const file = join(d.dir, `${NAME}.yaml`);
  writeFileSync(file, stackYaml({ name: NAME, nodes: ["n1", "n2"], socket: rig.power!.path, drbdconf: drbd.sim.conf, drbd: DRBD, fs: { device: d.loop, directory: d.mnt }, iqn: IQN, initiator: INITIATOR, luns: [{ lun: 1, path: d.lun1 }], vip }));
  const members = [ids.fs, ids.target, ids.lun(1), ids.ip];

  // ---- apply on n1 ----
  let r = await tsstor(rig, "n1", ["stack", "apply", file, "--quiet"], log);
  t.equal(r.code, 0, `tsstor stack apply on n1\n${r.out}`);
  for (const id of [...DRBD.map((x) => `${NAME}-drbd-${x}`), ...members, ids.fence]) t.match(r.stdout, new RegExp(`^\\+ resource ${id.replace(/\./g, "\\.")} \\(`, "m"), `the change shows ${id}`);
  t.match(r.stderr, /pushed as one CIB change/, "pushed once");
  t.comment(`applied after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const active = await waitStack(rig, { clones: ids.clones, members, unpromoted: 1, vip });
  const other = active === "n1" ? "n2" : "n1";
  let s = await rig.status();
  t.same(where(s, ids.group), [active], `the group runs on ${active}, where both DRBD resources are Promoted`);
  for (const res of DRBD) t.same(simPrimaries(drbd, res), [active], `DRBD ${res} Primary on ${active} only (the simulated kernels)`);
  t.equal(where(s, ids.fence).length, 1, "the stack's fence device (fence_tsstor_rig) runs");
  t.equal(where(s, "rig-fence").length, 1, "the rig's fence device runs");
  t.equal(s.options["stonith-enabled"], "true", "stonith enabled");
  t.comment(`stack applied and running on ${active} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  // ---- the client through the VIP, files on the ext4 ----
  const c1 = new IscsiClient(rig, vip, 1);
  t.ok(await c1.write(blocks), "the client writes 16 blocks to LUN 1 through the VIP");
  const serial = await c1.serial();
  t.match(serial, /^[0-9a-f]{8}$/, `LUN 1 serial ${serial}`);
  const files = ["a", "b", "c"];
  for (const f of files) {
    const w = await rig.node(active).run("dd", ["if=/dev/urandom", `of=${join(d.mnt, f)}`, "bs=64k", "count=4", "conv=fsync", "status=none"]);
    t.equal(w.code, 0, `write ${f} on the ext4 (fsync)`);
  }
  const sums = (await rig.node(active).run("sha256sum", files.map((f) => join(d.mnt, f)))).stdout;
  t.equal(sums.trim().split("\n").length, files.length);
  t.not((await rig.node(other).run("grep", ["-q", ` ${d.mnt} `, "/proc/mounts"])).code, 0, "the ext4 is not mounted on the peer");

  // ---- a held session, and its connection published for a takeover (IPaddr2 tickle_ports) ----
  const held = new IscsiSession(rig, vip, 1);
  sessions.push(held);
  t.ok(await held.write(40, 0x6a), "the client holds a session to LUN 1 (one qemu-io, one TCP connection)");
  const attr = `tsstor-clients-${ids.ip}`;
  let published = "";
  for (let i = 0; i < 60 && !/:3260 /.test(published); i++) {
    // the VIP's recurring monitor (10 s) stores the connection in attrd, for every node
    const q = await rig.node(other).run("attrd_updater", ["-Q", "-n", attr, "-N", other]);
    published = /value="([^"]*)"/.exec(q.stdout)?.[1] ?? "";
    if (!/:3260 /.test(published)) await sleep(500);
  }
  t.match(published, new RegExp(`^${vip.replace(/\./g, "\\.")}:3260 \\d+\\.\\d+\\.\\d+\\.\\d+:\\d+`), `${other}'s attrd holds the client's connection to ${vip}:3260: ${published}`);

  // ---- hard kill of the active node ----
  const fencedBefore = rig.fenceEvents().length;
  const logMark = rig.tail(other, "pacemaker.log", Infinity).split("\n").length; // the survivor's log from the kill on
  const killedAt = await powerCut(rig, drbd, active);
  const survivor = await waitStack(rig, { clones: ids.clones, members, unpromoted: 0, vip, on: other, timeoutMs: 120_000 });
  t.equal(survivor, other, `everything runs on ${other}`);
  const failoverMs = Date.now() - killedAt;
  // the whole log since the kill (a slow failover logs thousands of lines), read until the start's
  // output is in: the status can show the stack running while the start still announces and
  // tickles, and execd logs an action's output only when it ends
  const tickleLine = new RegExp(`\\d+ client connection\\(s\\) of ${vip.replace(/\./g, "\\.")} reset by tickle ACKs`);
  let sinceKill: string[] = [];
  let tickled: string | undefined;
  for (let i = 0; i < 40 && !tickled; i++) {
    if (i) await sleep(250);
    sinceKill = rig.tail(other, "pacemaker.log", Infinity).split("\n").slice(logMark - 1);
    tickled = sinceKill.find((l) => tickleLine.test(l));
  }
  const why = tickled ? "" : `\n${sinceKill.filter((l) => /IPaddr2|tickle|tsstor-clients|attrd_updater/.test(l)).slice(-30).join("\n")}\nattrd now: ${(await rig.node(other).run("attrd_updater", ["-Q", "-A", "-n", attr])).stdout}`;
  t.ok(tickled, `${other}'s IPaddr2 start reset the client's old connection (tickle ACK): ${tickled ?? "no such line"}${why}`);
  const resumed = Date.now();
  t.ok(await held.write(41, 0x6b), "the held session writes again on the survivor");
  t.comment(`held session: first write acknowledged ${Date.now() - resumed} ms after the stack was seen running on ${other} (${held.sessions} qemu-io process(es))`);
  held.close(); // logged out: remove-lun below counts the initiator's sessions
  const v = await c1.verify(blocks);
  t.ok(v.ok, `every block the client wrote reads back through the VIP from ${other}\n${v.ok ? "" : v.out}`);
  t.equal(await c1.serial(), serial, "the same LU identity (VPD 0x80 serial)");
  t.equal((await rig.node(other).run("sha256sum", ["-c", "--quiet", "-"], { input: sums })).code, 0, "every fsynced file on the ext4 reads back with its checksum");
  const fenced = rig.fenceEvents().slice(fencedBefore).filter((e) => e.ok && e.plug === active && e.action !== "on");
  t.ok(fenced.length >= 1, `${active} was fenced (${fenced.map((e) => `${e.action} by ${e.from}`).join(", ")})`);
  for (const res of DRBD) t.same(simPrimaries(drbd, res), [other], `DRBD ${res} Primary on ${other}`);
  t.comment(`failover: hard kill -> stack running and VIP answering on ${other}: ${failoverMs} ms`);

  // ---- apply again: nothing to change ----
  const text = readFileSync(file, "utf8");
  r = await tsstor(rig, other, ["stack", "apply", file, "--quiet"], log);
  t.equal(r.code, 0, r.out);
  t.equal(r.stdout, "", "a second apply shows no change");
  t.match(r.stderr, /the CIB already matches; nothing to change, nothing pushed/);
  t.equal(readFileSync(file, "utf8"), text, "the file is untouched");

  // ---- add-lun live: a LUN file on the ext4 ----
  const session = new IscsiSession(rig, vip, 1);
  sessions.push(session);
  t.ok(await session.write(20, 0x5a), "the client holds a session to LUN 1 (one qemu-io, one login)");
  const lun2 = join(d.mnt, "lun2.img");
  t.equal((await rig.node(other).run("truncate", ["-s", "16M", lun2])).code, 0, "a LUN file on the ext4");
  r = await tsstor(rig, other, ["stack", "add-lun", file, "--lun", `2:${lun2}`, "--quiet"], log);
  t.equal(r.code, 0, `add-lun\n${r.out}`);
  t.match(r.stdout, new RegExp(`^\\+ resource ${ids.lun(2).replace(/\./g, "\\.")} \\(ocf:tsstor:iSCSILogicalUnit .*lun=2 path=${lun2}`, "m"), "the change: one new LU");
  t.match(readFileSync(file, "utf8"), new RegExp(`- lun: 2\\n\\s+path: ${lun2}`), "the LUN is in the stack file");
  t.match(readFileSync(file, "utf8"), /^# rs: written by/, "and its comments are kept");
  // the LU joins the group before the VIP (initiators see every LUN at login): the VIP restarts
  if (new RegExp(`Restart\\s+${ids.ip.replace(/\./g, "\\.")}`).test(r.stdout)) t.comment("add-lun: crm_simulate shows the VIP restarting after the new LU starts (the LU is ordered before the VIP in the group)");
  // the new LU starts, then the VIP after it (crm_simulate's Restart above): wait for both
  await waitStack(rig, { clones: ids.clones, members: [...members, ids.lun(2)], unpromoted: 0, vip, on: other, timeoutMs: 60_000 });
  const ls = await rig.client(0).run("iscsi-ls", ["-s", "-i", INITIATOR, `iscsi://${vip}`], { timeoutMs: 20_000 });
  t.match(ls.stdout, /Lun:2\b/, `a new login lists LUN 2\n${ls.out}`);
  const c2 = new IscsiClient(rig, vip, 2);
  t.ok(await c2.write([0, 1, 2, 3]), "the client writes to LUN 2");
  t.ok((await c2.verify([0, 1, 2, 3])).ok, "and reads it back");
  t.ok(await session.write(21, 0x5b), "the held session still writes: adding the LU did not cut it");
  t.equal(session.sessions, 1, "one session all along");

  // ---- remove-lun: refused while the client is logged in, done after its logout ----
  const withLun2 = readFileSync(file, "utf8");
  r = await tsstor(rig, other, ["stack", "remove-lun", file, "--lun", "2", "--quiet"], log);
  t.equal(r.code, 1, `remove-lun refused with a session open\n${r.out}`);
  t.match(r.stderr, new RegExp(`refused: initiator\\(s\\) logged in to ${IQN.replace(/\./g, "\\.")}: ${INITIATOR.replace(/\./g, "\\.")}`));
  t.equal(readFileSync(file, "utf8"), withLun2, "the stack file is as it was");
  s = await rig.status(other);
  t.same(where(s, ids.lun(2)), [other], "LUN 2 still runs");
  t.ok(await session.write(22, 0x5c), "the session carries on");
  session.close(); // logout: the initiator goes away
  let logged: string[] | undefined;
  for (let i = 0; i < 50; i++) {
    const show = await rig.node(other).run("tgtadm", ["--lld", "iscsi", "--mode", "target", "--op", "show"]);
    logged = show.code === 0 ? tgtSessions(show.stdout, IQN) : undefined;
    if (logged?.length === 0) break;
    await sleep(100);
  }
  t.same(logged, [], "tgtd has no session of the client left");
  r = await tsstor(rig, other, ["stack", "remove-lun", file, "--lun", "2", "--quiet"], log);
  t.equal(r.code, 0, `remove-lun after the logout\n${r.out}`);
  t.match(r.stdout, new RegExp(`^- resource ${ids.lun(2).replace(/\./g, "\\.")}$`, "m"));
  t.notMatch(readFileSync(file, "utf8"), /lun2\.img/, "the LUN left the stack file");
  await rig.waitFor(`${ids.lun(2)} gone`, (x) => !x.resources.some((y) => y.id === ids.lun(2)) || undefined, { on: other, timeoutMs: 60_000 });
  const ls2 = await rig.client(0).run("iscsi-ls", ["-s", "-i", INITIATOR, `iscsi://${vip}`], { timeoutMs: 20_000 });
  t.notMatch(ls2.stdout, /Lun:2\b/, "a new login no longer lists LUN 2");
  t.ok((await c1.verify(blocks)).ok, "LUN 1 still serves the client's blocks");

  // ---- delete: the stack and nothing else ----
  r = await tsstor(rig, other, ["stack", "delete", NAME, "--quiet"], log);
  t.equal(r.code, 0, `delete\n${r.out}`);
  t.match(r.stdout, new RegExp(`^- resource ${ids.ip.replace(/\./g, "\\.")}$`, "m"), "the change removes the stack's resources");
  t.notMatch(r.stdout, /^- .*(rig-fence|fence-tsstor_rig)/m, "and no fence device");
  s = await rig.waitFor("the stack gone", (x) => (x.resources.some((y) => y.id.startsWith(`${NAME}-`)) ? undefined : x), { on: other, timeoutMs: 60_000 });
  t.same(where(s, "rig-fence").length, 1, "the rig's fence device stays and runs");
  t.same(where(s, ids.fence).length, 1, "the stack's fence device stays too: fencing protects the whole cluster");
  t.equal(s.options["stonith-enabled"], "true", "stonith stays enabled");
  const cib = (await rig.node(other).run("cibadmin", ["--query", "--scope", "configuration"])).stdout;
  t.notMatch(cib, new RegExp(`id="${NAME}-|id="${ids.tag}"`), "no element of the stack is left in the CIB (resources, constraints, tag)");
  t.not((await rig.node(other).run("grep", ["-q", ` ${d.mnt} `, "/proc/mounts"])).code, 0, "the ext4 is unmounted");
  t.same(await rig.arpOwners(vip, 0, 1), [], "nobody answers for the VIP");
  for (const res of DRBD) t.same(simPrimaries(drbd, res), [], `DRBD ${res} demoted`);
  t.comment(`2-node part: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

t.test("stack file on 3 nodes, clone-max 3: apply, hard kill of the active node, add-lun, remove-lun --force", { skip: missing ?? false }, async (t) => {
  const t0 = Date.now();
  const d = disks(t, "stackfile3");
  const sessions: IscsiSession[] = [];
  const { rig, drbd } = await rigWith(t, 3, d, sessions);
  const log = (m: string) => t.comment(m);
  const nodes = ["n1", "n2", "n3"];
  const vip = rig.vip();
  const ids = stackIds(NAME, DRBD, d.mnt, IQN, vip);
  const file = join(d.dir, `${NAME}.yaml`);
  writeFileSync(file, stackYaml({ name: NAME, nodes, socket: rig.power!.path, drbdconf: drbd.sim.conf, drbd: DRBD, cloneMax: 3, fs: { device: d.loop, directory: d.mnt }, iqn: IQN, initiator: INITIATOR, luns: [{ lun: 1, path: d.lun1 }], vip }));
  const members = [ids.fs, ids.target, ids.lun(1), ids.ip];
  const r = await tsstor(rig, "n1", ["stack", "apply", file, "--quiet"], log);
  t.equal(r.code, 0, `tsstor stack apply on n1\n${r.out}`);
  for (const c of ids.clones) {
    const m = await rig.node("n1").run("crm_resource", ["--resource", c, "--meta", "--get-parameter", "clone-max"]);
    t.equal(m.stdout.trim(), "3", `${c}: clone-max 3 in the CIB`);
  }
  const active = await waitStack(rig, { clones: ids.clones, members, unpromoted: 2, vip });
  const others = nodes.filter((n) => n !== active);
  t.comment(`stack applied and running on ${active} (Unpromoted on ${others.join(", ")}) after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const c1 = new IscsiClient(rig, vip, 1);
  t.ok(await c1.write(blocks), "the client writes through the VIP");
  const w = await rig.node(active).run("dd", ["if=/dev/urandom", `of=${join(d.mnt, "f")}`, "bs=64k", "count=4", "conv=fsync", "status=none"]);
  t.equal(w.code, 0, "a file on the ext4");
  const sums = (await rig.node(active).run("sha256sum", [join(d.mnt, "f")])).stdout;

  const killedAt = await powerCut(rig, drbd, active);
  const survivor = await waitStack(rig, { clones: ids.clones, members, unpromoted: 1, vip, on: others[0], timeoutMs: 120_000 });
  t.ok(others.includes(survivor), `everything runs on ${survivor}, one of ${others.join(", ")}`);
  t.comment(`failover: hard kill -> stack running and VIP answering on ${survivor}: ${Date.now() - killedAt} ms`);
  const s = await rig.status(survivor);
  for (const c of ids.clones) t.same(where(s, c, "Unpromoted"), others.filter((n) => n !== survivor), `${c}: the third node stays Unpromoted`);
  for (const res of DRBD) t.same(simPrimaries(drbd, res), [survivor], `DRBD ${res} Primary on ${survivor} only`);
  t.ok((await c1.verify(blocks)).ok, "every block the client wrote reads back through the VIP");
  t.equal((await rig.node(survivor).run("sha256sum", ["-c", "--quiet", "-"], { input: sums })).code, 0, "the file on the ext4 reads back with its checksum");
  t.ok(rig.fenceEvents().some((e) => e.ok && e.plug === active && e.action !== "on"), `${active} was fenced`);

  // ---- on the survivor: add-lun, then remove-lun --force under a held session ----
  const session = new IscsiSession(rig, vip, 1);
  sessions.push(session);
  t.ok(await session.write(20, 0x5a), "the client holds a session to LUN 1");
  const lun2 = join(d.mnt, "lun2.img");
  t.equal((await rig.node(survivor).run("truncate", ["-s", "16M", lun2])).code, 0, "a LUN file on the ext4");
  let x = await tsstor(rig, survivor, ["stack", "add-lun", file, "--lun", `2:${lun2}`, "--quiet"], log);
  t.equal(x.code, 0, `add-lun\n${x.out}`);
  await waitStack(rig, { clones: ids.clones, members: [...members, ids.lun(2)], unpromoted: 1, vip, on: survivor, timeoutMs: 60_000 });
  t.ok(await new IscsiClient(rig, vip, 2).write([0]), "a new login writes to LUN 2");
  x = await tsstor(rig, survivor, ["stack", "remove-lun", file, "--lun", "2", "--quiet"], log);
  t.equal(x.code, 1, "remove-lun refused: the client is logged in");
  x = await tsstor(rig, survivor, ["stack", "remove-lun", file, "--lun", "2", "--force", "--quiet"], log);
  t.equal(x.code, 0, `remove-lun --force with the session held\n${x.out}`);
  t.notMatch(readFileSync(file, "utf8"), /lun2\.img/, "the LUN left the stack file");
  await rig.waitFor(`${ids.lun(2)} gone`, (y) => !y.resources.some((z) => z.id === ids.lun(2)) || undefined, { on: survivor, timeoutMs: 60_000 });
  t.ok(await session.write(21, 0x5b), "the held session still writes to LUN 1");
  t.ok((await c1.verify(blocks)).ok, "and LUN 1 still holds the client's blocks");
  t.comment(`3-node part: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});
