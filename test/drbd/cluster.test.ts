// ocf:tsstor:drbd in a real 2-node Pacemaker + Corosync cluster (test/rig) over the DRBD
// simulator: the promotable clone starts Unpromoted on both nodes and exactly one promotes; a hard
// kill of the Promoted node (power cut: the node's DRBD "kernel" dies with it) promotes the
// survivor; an Outdated or Inconsistent node is never promoted; a Promoted instance is demoted
// before it stops. DRBD and Pacemaker roles are compared at every step.
import t from "tap";
import { join } from "node:path";
import { installAgents } from "../lib/install.js";
import { startRig, where, type Rig } from "../rig/rig.js";
import { makeSim } from "./sim.js";
import { parseEvents2 } from "../../lib/drbd/state.js";

installAgents(["drbd"]);
const sim = makeSim({ nodes: ["n1", "n2"], minor: 12, shims: false, prefix: "drbdrig" });
const other = (n: string) => (n === "n1" ? "n2" : "n1");
const drbd = (n: string) => parseEvents2(sim.tool(n, "drbdsetup", ["events2", "--now", "r0"]).stdout, "r0");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let rig: Rig;
t.before(async () => {
  rig = await startRig({
    nodes: 2,
    log: (m) => t.comment(m),
    // Every agent Pacemaker runs on node nK sees the simulator as its DRBD.
    env: (n) => ({ PATH: `${sim.bin}:/usr/sbin:/usr/bin:/sbin:/bin`, TSSTOR_DRBD_SIM_DIR: sim.dir, TSSTOR_PROC_ROOT: join(sim.dir, "proc", n) }),
  });
});
t.teardown(() => rig?.stop());

async function score(on: string, node: string): Promise<string> {
  const r = await rig.node(on).run("crm_attribute", ["-N", node, "-n", "master-p_drbd", "-l", "reboot", "-G", "-q"]);
  return r.code === 0 ? r.stdout.trim() : "unset";
}

/** Hard kill as a power cut: Pacemaker, corosync and the node's DRBD all die at once. */
async function powerCut(n: string): Promise<number> {
  const at = await rig.hardKill(n);
  sim.ctl("crash", n);
  return at;
}

/** Boot a node again; drbd is loaded at boot (modules-load.d, as the published article configures). */
async function boot(n: string): Promise<void> {
  sim.ctl("load", n);
  await rig.restart(n);
}

t.test("the promotable clone starts Unpromoted on both nodes, exactly one promotes", async (t) => {
  await rig.applyPcs([
    [
      "resource", "create", "p_drbd", "ocf:tsstor:drbd", "drbd_resource=r0", `drbdconf=${sim.conf}`, "wfc_timeout=2",
      "op", "monitor", "interval=3s", "role=Promoted", "timeout=20s",
      "op", "monitor", "interval=4s", "role=Unpromoted", "timeout=20s",
      "promotable", "promoted-max=1", "promoted-node-max=1", "clone-max=2", "clone-node-max=1", "notify=true",
    ],
  ]);
  const [p] = await rig.waitResource("p_drbd-clone", { role: "Promoted", timeoutMs: 60_000 });
  const u = other(p!);
  await rig.waitResource("p_drbd-clone", { role: "Unpromoted", node: u });
  const s = await rig.status();
  t.same(where(s, "p_drbd-clone", "Promoted"), [p], "exactly one Promoted");
  t.same(where(s, "p_drbd-clone", "Unpromoted"), [u]);
  t.same(s.failures, [], "no failed operations");
  t.equal(drbd(p!).role, "Primary", `${p} is DRBD Primary`);
  t.equal(drbd(u).role, "Secondary", `${u} is DRBD Secondary`);
  t.equal(drbd(u).connections[0]!.connection, "Connected");
  t.equal(await score(p!, p!), "10000");
  t.equal(await score(p!, u), "10000");
});

t.test("hard kill of the Promoted node promotes the survivor; the killed node rejoins Unpromoted and resyncs", async (t) => {
  const [p] = await rig.waitResource("p_drbd-clone", { role: "Promoted" });
  const survivor = other(p!);
  const killed = await powerCut(p!);
  await rig.waitResource("p_drbd-clone", { role: "Promoted", node: survivor, on: survivor, timeoutMs: 60_000 });
  t.comment(`DRBD promotion on the survivor ${Date.now() - killed} ms after the power cut`);
  t.equal(drbd(survivor).role, "Primary");
  t.equal(drbd(survivor).connections[0]!.connection, "Connecting", "the survivor waits for its peer");
  t.equal(await score(survivor, survivor), "10000");
  sim.ctl("sync-ms", "2000");
  await boot(p!);
  await rig.waitResource("p_drbd-clone", { role: "Unpromoted", node: p, timeoutMs: 60_000 });
  t.same(where(await rig.status(), "p_drbd-clone", "Promoted"), [survivor], "no promotion back (no flapping)");
  t.equal(drbd(p!).role, "Secondary");
  for (let i = 0; i < 100 && drbd(p!).volumes[0]?.disk !== "UpToDate"; i++) await sleep(200);
  t.equal(drbd(p!).volumes[0]!.disk, "UpToDate", "resynced from the survivor");
  sim.ctl("sync-ms", "0");
});

t.test("an Outdated or Inconsistent node is never promoted", async (t) => {
  for (const bad of ["Outdated", "Inconsistent"]) {
    const [p] = await rig.waitResource("p_drbd-clone", { role: "Promoted" });
    const u = other(p!);
    await rig.waitResource("p_drbd-clone", { role: "Unpromoted", node: u });
    // The replication link breaks and the Secondary's data is marked bad (as fencing would).
    sim.ctl("cut", p!, u);
    sim.ctl("md", u, "r0", "0", bad);
    for (let i = 0; i < 60 && (await score(p!, u)) !== "unset"; i++) await sleep(250);
    t.equal(await score(p!, u), "unset", `${bad}: ${u} has no promotion score`);
    await powerCut(p!);
    await rig.waitOnline([u], { timeoutMs: 30_000 });
    // Give the scheduler time to try: several monitor intervals.
    await sleep(10_000);
    const s = await rig.status(u);
    t.same(where(s, "p_drbd-clone", "Promoted"), [], `${bad}: nothing promoted`);
    t.same(where(s, "p_drbd-clone", "Unpromoted"), [u], `${bad}: ${u} stays Unpromoted`);
    t.equal(drbd(u).role, "Secondary", `${bad}: DRBD on ${u} stays Secondary`);
    // Repair: the good node comes back, the link heals, u resyncs, one node is promoted again.
    sim.ctl("heal", p!, u);
    await boot(p!);
    await rig.waitResource("p_drbd-clone", { role: "Promoted", count: 1, timeoutMs: 60_000 });
    await rig.waitResource("p_drbd-clone", { role: "Unpromoted", count: 1, timeoutMs: 60_000 });
    for (let i = 0; i < 100 && drbd(u).volumes[0]?.disk !== "UpToDate"; i++) await sleep(200);
    t.equal(drbd(u).volumes[0]!.disk, "UpToDate", `${u} resynced after the repair`);
  }
});

t.test("DRBD's crm-fence-peer.9.sh finds our clone; its constraint keeps the fenced peer from promotion", async (t) => {
  const [p] = await rig.waitResource("p_drbd-clone", { role: "Promoted" });
  const u = other(p!);
  await rig.waitResource("p_drbd-clone", { role: "Unpromoted", node: u });
  const ids = { n1: "0", n2: "1" } as Record<string, string>;
  // As drbdadm calls the fence-peer handler on the Primary when it loses its peer.
  const handlerEnv = { DRBD_RESOURCE: "r0", DRBD_MY_NODE_ID: ids[p!]!, UP_TO_DATE_NODES: `0x${(1 << Number(ids[p!])).toString(16)}`, DRBD_NODE_ID_0: "n1", DRBD_NODE_ID_1: "n2" };
  sim.ctl("cut", p!, u);
  const f = await rig.node(p!).run("/usr/lib/drbd/crm-fence-peer.9.sh", ["--timeout=30", "--dc-timeout=10"], { env: handlerEnv, timeoutMs: 60_000 });
  t.ok([4, 5].includes(f.code), `fence-peer exit code ${f.code} (4: peer outdated by constraint, 5: peer down): ${f.out.trim().split("\n").slice(-3).join(" | ")}`);
  const cons = (await rig.node(p!).run("cibadmin", ["-Q", "-o", "constraints"])).stdout;
  t.match(cons, new RegExp(`<rsc_location rsc="p_drbd-clone" id="drbd-fence-by-handler-r0-p_drbd-clone">`), "constraint on our promotable clone, id as DRBD names it");
  t.match(cons, /<rule role="(Master|Promoted)" score="-INFINITY" id="drbd-fence-by-handler-r0-rule-p_drbd-clone">/);
  await powerCut(p!);
  await rig.waitOnline([u], { timeoutMs: 30_000 });
  await sleep(8_000);
  const s = await rig.status(u);
  t.same(where(s, "p_drbd-clone", "Promoted"), [], "the fenced survivor is not promoted, although its score is set");
  t.equal(await score(u, u), "1000", "(its DRBD score: UpToDate, peer unknown)");
  sim.ctl("heal", p!, u);
  await boot(p!);
  await rig.waitResource("p_drbd-clone", { role: "Promoted", node: p, timeoutMs: 60_000 });
  const uf = await rig.node(p!).run("/usr/lib/drbd/crm-unfence-peer.9.sh", [], { env: { ...handlerEnv, UP_TO_DATE_NODES: "0x3" }, timeoutMs: 60_000 });
  t.equal(uf.code, 0, uf.out.trim().split("\n").slice(-2).join(" | "));
  t.notMatch((await rig.node(p!).run("cibadmin", ["-Q", "-o", "constraints"])).stdout, /drbd-fence-by-handler/, "unfence removed it");
});

t.test("a Promoted instance is demoted before it stops; stopped instances leave no score", async (t) => {
  const [p] = await rig.waitResource("p_drbd-clone", { role: "Promoted" });
  const u = other(p!);
  await rig.node(p!).run("pcs", ["node", "standby", p!, "--wait=60"], { timeoutMs: 90_000 });
  await rig.waitResource("p_drbd-clone", { role: "Promoted", node: u, timeoutMs: 60_000 });
  t.equal(drbd(p!).configured, false, `DRBD down on the standby node ${p}`);
  t.equal(drbd(u).role, "Primary");
  const log = rig.tail(p!, "pacemaker.log", 2000);
  const demote = log.search(/Result of demote operation for p_drbd on /);
  const stop = log.search(/Result of stop operation for p_drbd on /);
  t.ok(demote >= 0 && stop > demote, "demote ran (and succeeded) before stop");
  t.equal(await score(u, p!), "unset", "the stopped node's score is deleted");
  await rig.node(p!).run("pcs", ["node", "unstandby", p!, "--wait=60"], { timeoutMs: 90_000 });
  await rig.waitResource("p_drbd-clone", { role: "Unpromoted", node: p, timeoutMs: 60_000 });
  await rig.pcsOk(["resource", "disable", "p_drbd-clone", "--wait=60"]);
  t.equal(drbd("n1").configured, false);
  t.equal(drbd("n2").configured, false);
  const s = await rig.status();
  t.same(s.failures, [], "no failed operations in the whole run");
});
