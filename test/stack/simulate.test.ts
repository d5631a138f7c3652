// The scheduler on every generated stack (crm_simulate, Pacemaker's real policy engine, no
// cluster): initial start order, node failure moving everything in order, a failed LU monitor
// recovering only that LU, and the reverse order when everything stops. Orders are checked on the
// transition graph's dependency edges. Agents this checkout has not built yet are replaced by
// their upstream equivalents (same parameters; the scheduler never runs them), and the test says so.
import t from "tap";
import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { drbdFsStack, gfs2Stack, iscsiStack, sanStack, type Plan } from "../../cli/stacks.js";
import { applyPlan } from "../../cli/pcs.js";
import { parseStack } from "../../cli/stack/file.js";
import { installAgents } from "../lib/install.js";
import { scratchDir } from "../lib/harness.js";
import { REPO } from "../lib/xml.js";
import { builtAgents, planAgents, withStandIns } from "./agents.js";
import { forgetNode, nodesUp, promotionScore, property, simulate, type Graph } from "./simulate.js";

const built = builtAgents();
const tmp = scratchDir("stacksim");
const IQN = "iqn.2003-01.org.example:storage";
/** the scheduler tests of the stacks themselves run unfenced (stonith-enabled=false below) */
const NONE = { method: "none" };

/** The assertions these helpers use (tap's subtest type is not exported simply). */
interface Tap {
  ok(v: any, ...rest: any[]): any;
  same(a: any, b: any, ...rest: any[]): any;
  equal(a: any, b: any, ...rest: any[]): any;
  match(a: any, b: any, ...rest: any[]): any;
  comment(...m: any[]): any;
}

/** CIB file with the plan applied (stand-ins for agents not built), nodes n1 n2 up with quorum. */
function prepare(t: Tap, name: string, plan: Plan): string {
  const { plan: p, replaced } = withStandIns(plan, built);
  const ours = planAgents(p);
  if (ours.length) installAgents(ours);
  if (replaced.length) t.comment(`${name}: ocf:tsstor:{${replaced.join(",")}} not built in this checkout: scheduled with the upstream agents instead`);
  const cib = join(tmp, `${name}.xml`);
  writeFileSync(cib, execFileSync("cibadmin", ["--empty"]));
  property(cib, "stonith-enabled", "false");
  // node steps (sbd device setup/enable) act on cluster nodes, not on a CIB file
  applyPlan({ ...p, nodeSteps: [] }, { cib });
  const up = join(tmp, `${name}-up.xml`);
  nodesUp(cib, up, ["n1", "n2"]);
  return up;
}

/** Assert that each step's actions precede the next step's, e.g. promote -> start -> start. */
function chain(t: Tap, g: Graph, steps: Array<[string, string, string?]>, msg: string): void {
  for (let i = 0; i + 1 < steps.length; i++) {
    const [ra, oa, na] = steps[i]!;
    const [rb, ob, nb] = steps[i + 1]!;
    const a = g.one(ra, oa, na);
    const b = g.one(rb, ob, nb);
    t.ok(g.before(a, b), `${msg}: ${ra} ${oa}${na ? `@${na}` : ""} before ${rb} ${ob}${nb ? `@${nb}` : ""}`);
  }
}

function onlyChanges(t: Tap, g: Graph, expected: string[], msg: string): void {
  t.same(g.describe().split(" ").filter(Boolean), [...expected].sort(), msg);
}

t.test("iscsi (DRBD): start, node failure, LU monitor failure, stop", async (t) => {
  const plan = iscsiStack({ prefix: "iscsi", drbdResource: "r0", iqn: IQN, luns: ["1:/dev/drbd1", "2:/dev/drbd2"], ips: ["10.233.1.200/24", "10.233.1.201/24"], initiators: ["iqn.1993-08.org.debian:01:client"] }, NONE);
  const up = prepare(t, "iscsi", plan);
  promotionScore(up, "n1", "iscsi-drbd", 10);
  promotionScore(up, "n2", "iscsi-drbd", 5);
  const s1 = join(tmp, "iscsi-s1.xml");
  const start = simulate(up, s1, join(tmp, "iscsi-g1.xml")).graph;
  for (const lun of ["iscsi-lun1", "iscsi-lun2"]) {
    for (const ip of ["iscsi-ip1", "iscsi-ip2"]) {
      chain(t, start, [["iscsi-drbd", "promote", "n1"], ["iscsi-target", "start", "n1"], [lun, "start", "n1"], [ip, "start", "n1"]], "initial start");
    }
  }
  t.equal(start.find("iscsi-drbd", "start").length, 2, "DRBD starts on both nodes");
  t.equal(start.find("iscsi-drbd", "promote").length, 1, "and is promoted on one");

  const fail1 = simulate(s1, join(tmp, "iscsi-f1.xml"), join(tmp, "iscsi-gf1.xml"), ["--node-fail", "n1"]).graph;
  for (const lun of ["iscsi-lun1", "iscsi-lun2"]) {
    chain(t, fail1, [["iscsi-drbd", "promote", "n2"], ["iscsi-target", "start", "n2"], [lun, "start", "n2"], ["iscsi-ip1", "start", "n2"]], "n1 fails");
  }
  onlyChanges(
    t,
    fail1,
    ["iscsi-drbd:promote@n2", "iscsi-target:start@n2", "iscsi-lun1:start@n2", "iscsi-lun2:start@n2", "iscsi-ip1:start@n2", "iscsi-ip2:start@n2"],
    "n1 fails: everything moves to n2, nothing else happens",
  );
  const fail2 = simulate(s1, join(tmp, "iscsi-f2.xml"), join(tmp, "iscsi-gf2.xml"), ["--node-fail", "n2"]).graph;
  onlyChanges(t, fail2, [], "the Unpromoted node n2 fails: nothing on n1 moves or restarts");

  const lu = simulate(s1, join(tmp, "iscsi-lu.xml"), join(tmp, "iscsi-glu.xml"), ["-i", "iscsi-lun1_monitor_10000@n1=1"]).graph;
  onlyChanges(t, lu, ["iscsi-lun1:start@n1", "iscsi-lun1:stop@n1"], "a failed LU monitor recovers only that LU (no target, other LUN or IP restart)");
  t.ok(lu.before(lu.one("iscsi-lun1", "stop", "n1"), lu.one("iscsi-lun1", "start", "n1")));

  const stopCib = join(tmp, "iscsi-stopall.xml");
  copyFileSync(s1, stopCib);
  property(stopCib, "stop-all-resources", "true");
  const stop = simulate(stopCib, join(tmp, "iscsi-st.xml"), join(tmp, "iscsi-gst.xml")).graph;
  for (const lun of ["iscsi-lun1", "iscsi-lun2"]) {
    chain(t, stop, [["iscsi-ip2", "stop", "n1"], [lun, "stop", "n1"], ["iscsi-target", "stop", "n1"], ["iscsi-drbd", "demote", "n1"], ["iscsi-drbd", "stop", "n1"]], "stop order is the reverse");
  }
});

t.test("iscsi without DRBD (shared SAN LUN)", async (t) => {
  const plan = iscsiStack({ prefix: "san", san: true, iqn: IQN, luns: ["1:/dev/mapper/mpatha"], ips: ["10.233.1.200/24"], initiators: ["iqn.1993-08.org.debian:01:client"] }, NONE);
  const up = prepare(t, "san", plan);
  const s1 = join(tmp, "san-s1.xml");
  const start = simulate(up, s1, join(tmp, "san-g1.xml")).graph;
  const node = start.one("san-target", "start").node!;
  const other = node === "n1" ? "n2" : "n1";
  chain(t, start, [["san-target", "start", node], ["san-lun1", "start", node], ["san-ip1", "start", node]], "initial start");
  const fail = simulate(s1, join(tmp, "san-f.xml"), join(tmp, "san-gf.xml"), ["--node-fail", node]).graph;
  chain(t, fail, [["san-target", "start", other], ["san-lun1", "start", other], ["san-ip1", "start", other]], `${node} fails`);
  const lu = simulate(s1, join(tmp, "san-lu.xml"), join(tmp, "san-glu.xml"), ["-i", `san-lun1_monitor_10000@${node}=1`]).graph;
  onlyChanges(t, lu, [`san-lun1:start@${node}`, `san-lun1:stop@${node}`], "a failed LU monitor recovers only that LU");
  const stopCib = join(tmp, "san-stopall.xml");
  copyFileSync(s1, stopCib);
  property(stopCib, "stop-all-resources", "true");
  const stop = simulate(stopCib, join(tmp, "san-st.xml"), join(tmp, "san-gst.xml")).graph;
  chain(t, stop, [["san-ip1", "stop", node], ["san-lun1", "stop", node], ["san-target", "stop", node]], "stop order is the reverse");
});

t.test("gfs2: per-node order on both nodes, a node failure leaves the survivor alone, reverse stop", async (t) => {
  const plan = gfs2Stack({ prefix: "gfs2", filesystems: ["vg1/lv1:/srv/gfs2"], options: "noatime" }, NONE);
  const up = prepare(t, "gfs2", plan);
  const s1 = join(tmp, "gfs2-s1.xml");
  const start = simulate(up, s1, join(tmp, "gfs2-g1.xml")).graph;
  for (const n of ["n1", "n2"]) {
    chain(t, start, [["gfs2-dlm", "start", n], ["gfs2-lvmlockd", "start", n], ["gfs2-lv", "start", n], ["gfs2-fs", "start", n]], `start on ${n}`);
  }
  t.notOk(start.before(start.one("gfs2-fs", "start", "n2"), start.one("gfs2-fs", "start", "n1")), "interleave: n1's mount does not wait for n2's");
  t.match(execFileSync("crm_attribute", ["-t", "crm_config", "-n", "no-quorum-policy", "-G", "-q"], { env: { ...process.env, CIB_file: s1 }, encoding: "utf8" }), /freeze/);
  const fail = simulate(s1, join(tmp, "gfs2-f.xml"), join(tmp, "gfs2-gf.xml"), ["--node-fail", "n2"]).graph;
  onlyChanges(t, fail, [], "n2 fails: nothing restarts on n1 (interleaved clones)");
  forgetNode(join(tmp, "gfs2-f.xml"), "n2"); // it rebooted: no resource history
  const back = simulate(join(tmp, "gfs2-f.xml"), join(tmp, "gfs2-b.xml"), join(tmp, "gfs2-gb.xml"), ["-u", "n2"]).graph;
  chain(t, back, [["gfs2-dlm", "start", "n2"], ["gfs2-lvmlockd", "start", "n2"], ["gfs2-lv", "start", "n2"], ["gfs2-fs", "start", "n2"]], "n2 returns");
  t.same(back.changes().filter((a) => a.node === "n1").map((a) => a.rsc), [], "n1 untouched when n2 returns");
  const stopCib = join(tmp, "gfs2-stopall.xml");
  copyFileSync(s1, stopCib);
  property(stopCib, "stop-all-resources", "true");
  const stop = simulate(stopCib, join(tmp, "gfs2-st.xml"), join(tmp, "gfs2-gst.xml")).graph;
  for (const n of ["n1", "n2"]) {
    chain(t, stop, [["gfs2-fs", "stop", n], ["gfs2-lv", "stop", n], ["gfs2-lvmlockd", "stop", n], ["gfs2-dlm", "stop", n]], `stop on ${n}`);
  }
});

t.test("san: paths before LVM on each node, a failed or cut path restarts alone, logouts last at stop", async (t) => {
  const plan = sanStack({ prefix: "san", target: "iqn.2026-01.com.example:array1", portals: ["10.233.10.5", "10.233.11.5"], filesystems: ["vg1/lv1:/srv/gfs2"], vmVgs: ["vmvg"] }, NONE);
  const up = prepare(t, "sanstack", plan);
  const s1 = join(tmp, "sanstack-s1.xml");
  const start = simulate(up, s1, join(tmp, "sanstack-g1.xml")).graph;
  for (const n of ["n1", "n2"]) {
    for (const path of ["san-path1", "san-path2"]) {
      chain(t, start, [[path, "start", n], ["san-lv", "start", n], ["san-fs", "start", n]], `start on ${n}`);
      chain(t, start, [[path, "start", n], ["san-lvmlockd", "start", n]], `start on ${n} (lvmlockd starts the VM disks' VG lockspace)`);
    }
    chain(t, start, [["san-dlm", "start", n], ["san-lvmlockd", "start", n], ["san-lv", "start", n], ["san-fs", "start", n]], `start on ${n}`);
  }
  const cut = simulate(s1, join(tmp, "sanstack-cut.xml"), join(tmp, "sanstack-gcut.xml"), ["-i", "san-path2_monitor_30000@n1=1"]).graph;
  onlyChanges(t, cut, ["san-path2:start@n1", "san-path2:stop@n1"], "path 2's monitor fails on n1: only that path restarts, GFS2 stays up on the other path");
  const fail = simulate(s1, join(tmp, "sanstack-f.xml"), join(tmp, "sanstack-gf.xml"), ["--node-fail", "n2"]).graph;
  onlyChanges(t, fail, [], "n2 fails: nothing restarts on n1");
  const stopCib = join(tmp, "sanstack-stopall.xml");
  copyFileSync(s1, stopCib);
  property(stopCib, "stop-all-resources", "true");
  const stop = simulate(stopCib, join(tmp, "sanstack-st.xml"), join(tmp, "sanstack-gst.xml")).graph;
  for (const n of ["n1", "n2"]) {
    for (const path of ["san-path1", "san-path2"]) {
      chain(t, stop, [["san-fs", "stop", n], ["san-lv", "stop", n], [path, "stop", n]], `stop on ${n}: unmount, deactivate, then log out`);
      chain(t, stop, [["san-lvmlockd", "stop", n], [path, "stop", n]], `stop on ${n}: lockspaces end before the logout`);
    }
  }
});

t.test("drbd-fs: promote -> mount -> IP -> service, failover in order, reverse stop", async (t) => {
  const plan = drbdFsStack({ prefix: "data", drbdResource: "r0", device: "/dev/drbd0", directory: "/srv/data", fstype: "ext4", ip: "10.233.1.210/24", service: "ocf:pacemaker:Dummy" }, NONE);
  const up = prepare(t, "drbdfs", plan);
  promotionScore(up, "n1", "data-drbd", 10);
  promotionScore(up, "n2", "data-drbd", 5);
  const s1 = join(tmp, "drbdfs-s1.xml");
  const start = simulate(up, s1, join(tmp, "drbdfs-g1.xml")).graph;
  chain(t, start, [["data-drbd", "promote", "n1"], ["data-fs", "start", "n1"], ["data-ip", "start", "n1"], ["data-service", "start", "n1"]], "initial start");
  const fail = simulate(s1, join(tmp, "drbdfs-f.xml"), join(tmp, "drbdfs-gf.xml"), ["--node-fail", "n1"]).graph;
  chain(t, fail, [["data-drbd", "promote", "n2"], ["data-fs", "start", "n2"], ["data-ip", "start", "n2"], ["data-service", "start", "n2"]], "n1 fails");
  const stopCib = join(tmp, "drbdfs-stopall.xml");
  copyFileSync(s1, stopCib);
  property(stopCib, "stop-all-resources", "true");
  const stop = simulate(stopCib, join(tmp, "drbdfs-st.xml"), join(tmp, "drbdfs-gst.xml")).graph;
  chain(t, stop, [["data-service", "stop", "n1"], ["data-ip", "stop", "n1"], ["data-fs", "stop", "n1"], ["data-drbd", "demote", "n1"], ["data-drbd", "stop", "n1"]], "stop order is the reverse");
});

// ---- stack files of kind failover: several DRBD resources, exclusive LVs, one group ----

/** An example stack file, unfenced, with its service replaced by a Dummy (the scheduler never runs it). */
function exampleFile(f: string, edit: (s: string) => string = (s) => s): Plan {
  const text = readFileSync(join(REPO, "examples", f), "utf8").replace(/^fencing:\n(?: {2}.*\n)+/m, "fencing:\n  method: none\n");
  return parseStack(edit(text).replace(/systemd:nginx/, "ocf:pacemaker:Dummy"), f).plan;
}

t.test("failover (two DRBD volumes behind one VIP): both promotions, then mount -> target -> LUN -> VIP on that node; failover; disagreeing scores", async (t) => {
  const up = prepare(t, "twovol", exampleFile("two-drbd-volumes-one-vip.yaml"));
  const D = ["storage-drbd-config", "storage-drbd-target"];
  const G = ["storage-fs-data", "storage-target-storage.disk.0", "storage-target-storage.disk.0-lun0", "storage-ip-10.11.55.50"];
  for (const d of D) {
    promotionScore(up, "n1", d, 10);
    promotionScore(up, "n2", d, 5);
  }
  const s1 = join(tmp, "twovol-s1.xml");
  const start = simulate(up, s1, join(tmp, "twovol-g1.xml")).graph;
  for (const d of D) chain(t, start, [[d, "promote", "n1"], [G[0]!, "start", "n1"]], `initial start: ${d} promoted first`);
  chain(t, start, G.map((r) => [r, "start", "n1"] as [string, string, string]), "initial start: the group in order");
  const fail = simulate(s1, join(tmp, "twovol-f.xml"), join(tmp, "twovol-gf.xml"), ["--node-fail", "n1"]).graph;
  for (const d of D) chain(t, fail, [[d, "promote", "n2"], [G[0]!, "start", "n2"]], `n1 fails: ${d} promoted on n2 first`);
  chain(t, fail, G.map((r) => [r, "start", "n2"] as [string, string, string]), "n1 fails: the group in order on n2");
  onlyChanges(t, fail, [...D.map((d) => `${d}:promote@n2`), ...G.map((r) => `${r}:start@n2`)], "n1 fails: everything moves together, nothing else");
  const stopCib = join(tmp, "twovol-stopall.xml");
  copyFileSync(s1, stopCib);
  property(stopCib, "stop-all-resources", "true");
  const stop = simulate(stopCib, join(tmp, "twovol-st.xml"), join(tmp, "twovol-gst.xml")).graph;
  chain(t, stop, [...[...G].reverse().map((r) => [r, "stop", "n1"] as [string, string, string]), [D[0]!, "demote", "n1"]], "stop order is the reverse");
  t.ok(stop.before(stop.one(G[0]!, "stop", "n1"), stop.one(D[1]!, "demote", "n1")), "the mount stops before either DRBD is demoted");

  // each DRBD prefers another node: the scheduler must still promote both on ONE node
  const odd = prepare(t, "twovol-odd", exampleFile("two-drbd-volumes-one-vip.yaml"));
  promotionScore(odd, "n1", D[0]!, 10);
  promotionScore(odd, "n2", D[0]!, 5);
  promotionScore(odd, "n1", D[1]!, 5);
  promotionScore(odd, "n2", D[1]!, 10);
  const g = simulate(odd, join(tmp, "twovol-odd-s1.xml"), join(tmp, "twovol-odd-g.xml")).graph;
  const promoted = D.map((d) => g.find(d, "promote").map((a) => a.node));
  t.equal(promoted[0]!.length, 1);
  t.same(promoted[0], promoted[1], `both DRBD resources are promoted on the same node (${promoted[0]})`);
  t.same(g.find(G[3]!, "start").map((a) => a.node), promoted[0], "and the VIP starts there");
});

t.test("failover on three DRBD 9 nodes (clone-max 3): the survivors take over, on one node", async (t) => {
  const plan = exampleFile("two-drbd-volumes-one-vip.yaml", (s) => s.replace(/- resource: (config|target)/g, "- resource: $1\n    clone-max: 3"));
  const { plan: p } = withStandIns(plan, built);
  installAgents(planAgents(p));
  const cib = join(tmp, "three.xml");
  writeFileSync(cib, execFileSync("cibadmin", ["--empty"]));
  property(cib, "stonith-enabled", "false");
  applyPlan({ ...p, nodeSteps: [] }, { cib });
  const up = join(tmp, "three-up.xml");
  nodesUp(cib, up, ["n1", "n2", "n3"]);
  for (const d of ["storage-drbd-config", "storage-drbd-target"]) {
    promotionScore(up, "n1", d, 10);
    promotionScore(up, "n2", d, 5);
    promotionScore(up, "n3", d, 5);
  }
  const s1 = join(tmp, "three-s1.xml");
  const start = simulate(up, s1, join(tmp, "three-g1.xml")).graph;
  t.equal(start.find("storage-drbd-config", "start").length, 3, "DRBD runs on all three nodes");
  const fail = simulate(s1, join(tmp, "three-f.xml"), join(tmp, "three-gf.xml"), ["--node-fail", "n1"]).graph;
  const node = fail.find("storage-drbd-config", "promote")[0]?.node;
  t.ok(node === "n2" || node === "n3", `promoted on a survivor (${node})`);
  t.same(fail.find("storage-drbd-target", "promote").map((a) => a.node), [node], "the other DRBD on the same node");
  t.same(fail.find("storage-ip-10.11.55.50", "start").map((a) => a.node), [node], "the VIP follows");
});

t.test("failover (an exclusive LV): lvmlockd on every node before the LV; the LV, mount, VIP and service move together", async (t) => {
  const up = prepare(t, "exlv", exampleFile("exclusive-lv.yaml"));
  const G = ["app-lv-lv_app", "app-fs-app", "app-ip-192.168.10.50", "app-Dummy"];
  const s1 = join(tmp, "exlv-s1.xml");
  const start = simulate(up, s1, join(tmp, "exlv-g1.xml")).graph;
  t.equal(start.find("app-lvmlockd", "start").length, 2, "lvmlockd runs on both nodes");
  const node = start.find(G[0]!, "start")[0]?.node ?? "n1";
  chain(t, start, [["app-lvmlockd", "start", node], ...G.map((r) => [r, "start", node] as [string, string, string])], "lvmlockd, then the group in order");
  t.equal(start.find(G[0]!, "start").length, 1, "the LV is activated on one node only (exclusive)");
  const other = node === "n1" ? "n2" : "n1";
  const fail = simulate(s1, join(tmp, "exlv-f.xml"), join(tmp, "exlv-gf.xml"), ["--node-fail", node]).graph;
  chain(t, fail, G.map((r) => [r, "start", other] as [string, string, string]), `${node} fails: the group starts in order on ${other}`);
  onlyChanges(t, fail, G.map((r) => `${r}:start@${other}`), "and nothing else happens (lvmlockd keeps running there)");
  const lockd = simulate(s1, join(tmp, "exlv-l.xml"), join(tmp, "exlv-gl.xml"), ["-i", `app-lvmlockd_monitor_30000@${node}=1`]).graph;
  t.ok(lockd.find(G[0]!, "stop", node).length === 1, "a failed lvmlockd takes the LV (and what is above it) down first");
  t.ok(lockd.before(lockd.one(G[0]!, "stop", node), lockd.one("app-lvmlockd", "stop", node)), "the LV is deactivated before lvmlockd stops");
});

t.test("fencing agent with a failover stack file: the failed node is fenced before the promotion", async (t) => {
  const text = `kind: failover\nname: fo\nfencing:\n  method: agent\n  fence-agent: fence_ipmilan\n  fence-param: [n1:ip=10.233.9.1, n2:ip=10.233.9.2, username=admin, lanplus=1]\n  corosync-conf: ${COROSYNC2}\ndrbd:\n  - resource: r0\n    drbdconf: ${DRBDCONF}\nfilesystems:\n  - device: /dev/drbd1\n    directory: /srv/fo\n    fstype: ext4\nips:\n  - address: 10.233.1.220/24\n`;
  const plan = parseStack(text, "fo.yaml").plan;
  t.same(plan.fencing.devices, ["fence-n1", "fence-n2"]);
  fencedFailover(t, "fence-failover", plan, "fo-drbd-r0", undefined);
});

// ---- fencing: each method's plan through pcs -f and the scheduler ----

const FIX = join(REPO, "test/doctor/fixtures/node/etc");
const COROSYNC2 = join(FIX, "corosync/corosync.conf");
/** the fixture node's DRBD 9 r0: fencing resource-and-stonith with the crm-fence-peer.9.sh handlers */
const DRBDCONF = join(FIX, "drbd.conf");
const stonithOf = (g: Graph, node: string) => [...g.actions.values()].filter((a) => a.op === "stonith" && a.node === node);

/** n1 fails: it is fenced (with the plan's stonith-timeout), and only then does DRBD promote on n2. */
function fencedFailover(t: Tap, name: string, plan: Plan, drbd: string, timeout: string | undefined): void {
  const up = prepare(t, name, plan);
  promotionScore(up, "n1", drbd, 10);
  promotionScore(up, "n2", drbd, 5);
  const s1 = join(tmp, `${name}-s1.xml`);
  const start = simulate(up, s1, join(tmp, `${name}-g1.xml`));
  for (const d of plan.fencing.devices) t.equal(start.graph.find(d, "start").length, 1, `${name}: fence device ${d} starts`);
  const fail = simulate(s1, join(tmp, `${name}-f.xml`), join(tmp, `${name}-gf.xml`), ["--node-fail", "n1"]);
  const [fence] = stonithOf(fail.graph, "n1");
  t.ok(fence, `${name}: the failed node n1 is fenced`);
  if (fence) t.ok(fail.graph.before(fence, fail.graph.one(drbd, "promote", "n2")), `${name}: fencing of n1 precedes the promotion on n2`);
  if (timeout) t.match(fail.graph.xml, new RegExp(`<transition_graph [^>]*stonith-timeout="${timeout}"`), `${name}: the scheduler uses stonith-timeout=${timeout}`);
}

t.test("fencing sbd (iscsi, two nodes): fence_sbd runs, a failed node is fenced before the failover", async (t) => {
  const plan = iscsiStack(
    { prefix: "iscsi", drbdResource: "r0", drbdconf: DRBDCONF, iqn: IQN, luns: ["1:/dev/drbd1"], ips: ["10.233.1.200/24"], initiators: ["iqn.1993-08.org.debian:01:client"] },
    { method: "sbd", sbdDevices: ["/dev/loop0"], sbdInit: true, corosyncConf: COROSYNC2 },
  );
  t.same(plan.fencing, { method: "sbd", devices: ["fence-sbd"] });
  fencedFailover(t, "fence-sbd", plan, "iscsi-drbd", "67s");
});

t.test("fencing agent (drbd-fs, two nodes): one fence_ipmilan per node, a failed node is fenced before the failover", async (t) => {
  const plan = drbdFsStack(
    { prefix: "data", drbdResource: "r0", drbdconf: DRBDCONF, device: "/dev/drbd1", directory: "/srv/data", fstype: "ext4", ip: "10.233.1.210/24" },
    { method: "agent", fenceAgent: "fence_ipmilan", fenceParams: ["n1:ip=10.233.9.1", "n2:ip=10.233.9.2", "username=admin", "lanplus=1"], corosyncConf: COROSYNC2 },
  );
  t.same(plan.fencing.devices, ["fence-n1", "fence-n2"]);
  fencedFailover(t, "fence-agent", plan, "data-drbd", undefined);
});

t.test("fencing watchdog (gfs2, three nodes): stonith-watchdog-timeout set, a failed node is fenced", async (t) => {
  const cs = join(tmp, "corosync3.conf");
  writeFileSync(cs, `totem {\n\tversion: 2\n}\nnodelist {\n${["n1", "n2", "n3"].map((n, i) => `\tnode {\n\t\tname: ${n}\n\t\tnodeid: ${i + 1}\n\t\tring0_addr: 10.233.0.${i + 1}\n\t}\n`).join("")}}\n`);
  const plan = gfs2Stack({ prefix: "gfs2", filesystems: ["vg1/lv1:/srv/gfs2"] }, { method: "watchdog", corosyncConf: cs });
  const up = prepare(t, "fence-wd", plan);
  t.match(execFileSync("crm_attribute", ["-t", "crm_config", "-n", "stonith-watchdog-timeout", "-G", "-q"], { env: { ...process.env, CIB_file: up }, encoding: "utf8" }), /^10s/);
  // without sbd running (the DC sets have-watchdog=true when it is) nothing can fence: nothing starts
  t.same(simulate(up, join(tmp, "fence-wd-nosbd.xml"), join(tmp, "fence-wd-g0.xml")).graph.changes(), [], "no have-watchdog: nothing starts");
  property(up, "have-watchdog", "true");
  const s1 = join(tmp, "fence-wd-s1.xml");
  t.equal(simulate(up, s1, join(tmp, "fence-wd-g1.xml")).graph.find("gfs2-fs", "start").length, 2, "sbd running: the stack starts");
  const fail = simulate(s1, join(tmp, "fence-wd-f.xml"), join(tmp, "fence-wd-gf.xml"), ["--node-fail", "n2"]);
  t.equal(stonithOf(fail.graph, "n2").length, 1, "n2 is fenced (by its own watchdog)");
  t.match(fail.graph.xml, /<transition_graph [^>]*stonith-timeout="69s"/);
});

t.test("fencing drbd-quorum (drbd-fs): stonith-enabled=false, the failover needs no fencing", async (t) => {
  const conf = join(tmp, "drbd-quorum.conf");
  writeFileSync(
    conf,
    `resource "r0" {\n\tdevice minor 1;\n\tdisk "/dev/vdb";\n\tmeta-disk internal;\n\toptions {\n\t\tquorum majority;\n\t\ton-no-quorum io-error;\n\t}\n` +
      ["n1", "n2", "n3"].map((n, i) => `\ton "${n}" {\n\t\tnode-id ${i};\n${n === "n3" ? "\t\tdisk none;\n" : ""}\t\taddress 10.233.0.${i + 1}:7789;\n\t}\n`).join("") +
      "\tconnection-mesh {\n\t\thosts n1 n2 n3;\n\t}\n}\n",
  );
  const plan = drbdFsStack({ prefix: "q", drbdResource: "r0", drbdconf: conf, device: "/dev/drbd1", directory: "/srv/data", fstype: "ext4", ip: "10.233.1.210/24" }, { method: "drbd-quorum" });
  const up = prepare(t, "fence-q", plan);
  promotionScore(up, "n1", "q-drbd", 10);
  promotionScore(up, "n2", "q-drbd", 5);
  const s1 = join(tmp, "fence-q-s1.xml");
  simulate(up, s1, join(tmp, "fence-q-g1.xml"));
  const fail = simulate(s1, join(tmp, "fence-q-f.xml"), join(tmp, "fence-q-gf.xml"), ["--node-fail", "n1"]).graph;
  t.same(stonithOf(fail, "n1"), [], "no fencing");
  chain(t, fail, [["q-drbd", "promote", "n2"], ["q-fs", "start", "n2"], ["q-ip", "start", "n2"]], "n1 fails");
});
