// The pure parts of `tsstor status`: constraints from a CIB (sets, Pacemaker 1.1 names) and from
// a stack plan, stacks as connected components in start order, failed-operation keys, LIO ACL
// info, the resync rate/ETA tracker, the progress bar.
import t from "tap";
import { parseCibConfig, planConfig } from "../../cli/status/config.js";
import { formatEta, SyncTracker } from "../../cli/status/eta.js";
import { parseAclInfo } from "../../cli/status/local.js";
import { buildReport, failureRows, startOrder, type LocalView, type StatusReport } from "../../cli/status/model.js";
import { progressBar } from "../../cli/status/render.js";
import { iscsiStack } from "../../cli/stacks.js";
import type { CrmStatus } from "../../cli/crm-mon.js";

const CIB = `<cib><configuration><crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes/><resources>
  <primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2"><instance_attributes id="vip-ia"><nvpair id="vip-ip" name="ip" value="192.0.2.5"/></instance_attributes></primitive>
  <master id="ms-drbd"><primitive id="drbd" class="ocf" provider="linbit" type="drbd"><instance_attributes id="d-ia"><nvpair id="d-r" name="drbd_resource" value="r0"/></instance_attributes></primitive></master>
  <group id="g"><primitive id="fs" class="ocf" provider="heartbeat" type="Filesystem"/><primitive id="svc" class="systemd" type="nfs-server"/></group>
  <primitive id="lonely" class="ocf" provider="pacemaker" type="Dummy"/>
  <clone id="ping-clone"><primitive id="ping" class="ocf" provider="pacemaker" type="ping"/></clone>
</resources><constraints>
  <rsc_colocation id="c1" rsc="g" with-rsc="ms-drbd" with-rsc-role="Master" score="INFINITY"/>
  <rsc_order id="o1" first="ms-drbd" first-action="promote" then="g" then-action="start"/>
  <rsc_order id="o2" kind="Optional"><resource_set id="s1"><resource_ref id="g"/></resource_set><resource_set id="s2"><resource_ref id="vip"/></resource_set></rsc_order>
  <rsc_colocation id="c2" score="INFINITY"><resource_set id="s3"><resource_ref id="g"/><resource_ref id="vip"/></resource_set></rsc_colocation>
</constraints></configuration><status/></cib>`;

t.test("CIB: primitives, Pacemaker 1.1 master, groups, sets", async (t) => {
  const c = parseCibConfig(CIB);
  t.same(c.resources.map((r) => [r.id, r.agent, r.top]), [
    ["vip", "ocf:heartbeat:IPaddr2", "vip"],
    ["lonely", "ocf:pacemaker:Dummy", "lonely"],
    ["fs", "ocf:heartbeat:Filesystem", "g"],
    ["svc", "systemd:nfs-server", "g"],
    ["ping", "ocf:pacemaker:ping", "ping-clone"],
    ["drbd", "ocf:linbit:drbd", "ms-drbd"],
  ]);
  t.equal(c.resources.find((r) => r.id === "drbd")!.promotable, true, "<master> is promotable");
  t.equal(c.resources.find((r) => r.id === "vip")!.params.ip, "192.0.2.5");
  t.same(c.properties, { "stonith-enabled": "false" });
  t.same(
    c.constraints.map((x) => (x.kind === "order" ? `${x.first}:${x.firstAction}->${x.then}:${x.thenAction}/${x.strength}` : `${x.rsc}@${x.rscRole}~${x.with}@${x.withRole}`)),
    ["ms-drbd:promote->g:start/Mandatory", "g:start->vip:start/Optional", "g@Started~ms-drbd@Promoted", "vip@Started~g@Started"],
    "Master read as Promoted; ordered and colocated sets as pairs",
  );
});

t.test("a stack plan as configuration", async (t) => {
  const plan = iscsiStack({ prefix: "x", drbdResource: "r0", iqn: "iqn.2003-01.org.example:t", luns: ["1:/dev/drbd0"], ips: ["192.0.2.9/24"], initiators: ["iqn.1993-08.org.debian:01:client"] }, { method: "none" });
  const c = planConfig(plan.commands);
  t.same(c.resources.map((r) => [r.id, r.agent, r.clone ?? "", r.promotable]), [
    ["x-drbd", "ocf:tsstor:drbd", "x-drbd-clone", true],
    ["x-target", "ocf:tsstor:iSCSITarget", "", false],
    ["x-lun1", "ocf:tsstor:iSCSILogicalUnit", "", false],
    ["x-ip1", "ocf:tsstor:IPaddr2", "", false],
  ]);
  t.equal(c.resources[1]!.params.iqn, "iqn.2003-01.org.example:t");
  t.same(c.resources[0]!.params, { drbd_resource: "r0" }, "op and clone options are not parameters");
  t.ok(c.constraints.some((x) => x.kind === "colocation" && x.rsc === "x-target" && x.with === "x-drbd-clone" && x.withRole === "Promoted"));
  t.ok(c.constraints.some((x) => x.kind === "order" && x.first === "x-lun1" && x.then === "x-ip1" && x.strength === "Optional"));
  t.same(startOrder(c, [...c.resources].reverse()).map((r) => r.id), ["x-drbd", "x-target", "x-lun1", "x-ip1"], "start order from the constraints");
});

const crm = (over: Partial<CrmStatus> = {}): CrmStatus => ({ dc: "n1", quorum: true, lastUpdate: "", options: {}, nodes: [], resources: [], failures: [], fenceEvents: [], xml: "", ...over });
const noLocal: LocalView = { drbd: () => undefined, targets: () => undefined, addresses: () => undefined, mounts: () => undefined, gfs2Sys: () => undefined, dlm: () => undefined, lvmlockd: () => undefined };

t.test("stacks: connected by constraints, unconstrained resources together", async (t) => {
  const r = buildReport({ version: "x", crm: crm(), cfg: parseCibConfig(CIB), local: noLocal, hazards: [] });
  t.same(r.stacks.map((s) => [s.name, s.kind, s.resources.map((x) => x.id)]), [
    ["ms-drbd", "filesystem over DRBD r0", ["drbd", "fs", "svc", "vip"]],
    ["other resources", "unconstrained", ["lonely", "ping"]],
  ]);
});

t.test("failed operations: resource ids with underscores, intervals", async (t) => {
  const f = (opKey: string, task: string, interval: string) => ({ opKey, node: "n1", exitStatus: "error", exitReason: "", task, interval, exitCode: 1, lastRcChange: "", status: "complete" });
  t.same(
    failureRows(crm({ failures: [f("my_lun_1_monitor_10000", "monitor", "10000"), f("vip_start_0", "start", "0"), f("x_monitor_120000", "monitor", "120000")] })).map((x) => [x.resource, x.operation, x.interval]),
    [["my_lun_1", "monitor", "10s"], ["vip", "start", "0s"], ["x", "monitor", "2min"]],
  );
});

t.test("LIO ACL info", async (t) => {
  t.equal(parseAclInfo("No active iSCSI Session for Initiator Endpoint: iqn.x:y\n"), undefined);
  t.same(
    parseAclInfo("InitiatorName: iqn.x:y\nInitiatorAlias: \nLIO Session ID: 3   ISID: 0x80 12 34 56 dd 65  TSIH: 2  SessionType: Normal\nSession State: TARG_SESS_STATE_LOGGED_IN\n----\nCID: 1  Connection State: TARG_CONN_STATE_LOGGED_IN\n   Address 192.168.69.3 TCP  StatSN: 0x1a00d3e6\nCID: 2  Connection State: TARG_CONN_STATE_LOGGED_IN\n   Address 192.168.70.3 TCP  StatSN: 0x1a00d3e7\n"),
    { initiator: "iqn.x:y", addresses: ["192.168.69.3", "192.168.70.3"] },
  );
  t.equal(parseAclInfo("InitiatorName: iqn.x:y\nSession State: TARG_SESS_STATE_FAILED\n"), undefined, "a failed session is not logged in");
});

function syncing(done: number): StatusReport {
  return {
    tool: "tsstor status",
    version: "x",
    cluster: { quorum: true, lastUpdate: "", stonithEnabled: true, fencing: { method: "agent", devices: [] }, maintenanceMode: false },
    nodes: [],
    failures: [],
    hazards: [],
    notes: [],
    stacks: [{ name: "s", kind: "", resources: [], vips: [], targets: [], filesystems: [], lockd: [], drbd: [{ resource: "c", drbdResource: "r0", nodes: [], syncs: [{ target: "n2", source: "n1", volume: 0, done }] }] }],
  };
}

t.test("resync rate and ETA across readings", async (t) => {
  const tr = new SyncTracker();
  const a = syncing(10);
  tr.observe(a, 0);
  t.equal(a.stacks[0]!.drbd[0]!.syncs[0]!.etaSeconds, undefined, "no rate from one reading");
  const b = syncing(12);
  tr.observe(b, 1000);
  t.equal(b.stacks[0]!.drbd[0]!.syncs[0]!.etaSeconds, 44, "2 %/s, 88 % left");
  const c = syncing(12);
  tr.observe(c, 40_000);
  t.equal(c.stacks[0]!.drbd[0]!.syncs[0]!.etaSeconds, null, "no progress over the window: stalled");
  const d = syncing(1);
  tr.observe(d, 41_000);
  t.equal(d.stacks[0]!.drbd[0]!.syncs[0]!.etaSeconds, undefined, "progress went back: a new resync, rate unknown again");
  tr.observe({ ...syncing(0), stacks: [] }, 42_000);
  t.equal(tr.syncing, false);
  t.same([formatEta(undefined), formatEta(null), formatEta(42), formatEta(725), formatEta(3723)], ["--:--", "stalled", "0:42", "12:05", "1:02:03"]);
});

t.test("progress bar", async (t) => {
  t.equal(progressBar(0), `[${"-".repeat(24)}]`);
  t.equal(progressBar(37.5), "[#########---------------]");
  t.equal(progressBar(100), `[${"#".repeat(24)}]`);
  t.equal(progressBar(130), `[${"#".repeat(24)}]`);
});
