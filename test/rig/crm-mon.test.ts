// parseCrmMon on real crm_mon XML, offline: a CIB file with a primitive, a promotable clone and a
// group, run through crm_simulate (nodes up, one transition, an injected monitor failure), then
// `CIB_file=... crm_mon --output-as=xml`.
import t from "tap";
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseCrmMon, where, instances, summarize } from "./crm-mon.js";
import { scratchDir } from "../lib/harness.js";

const dir = scratchDir("crmmon");
const cib = join(dir, "cib.xml");
const env = { ...process.env, CIB_file: cib, LC_ALL: "C" };
writeFileSync(cib, execFileSync("cibadmin", ["--empty"]));
execFileSync("crm_attribute", ["-t", "crm_config", "-n", "stonith-enabled", "-v", "false"], { env });
for (const c of [
  ["resource", "create", "d1", "ocf:pacemaker:Dummy"],
  ["resource", "create", "st", "ocf:pacemaker:Stateful", "promotable"],
  ["resource", "create", "g1", "ocf:pacemaker:Dummy", "--group", "grp"],
]) execFileSync("pcs", ["-f", cib, ...c]);
const up = join(dir, "up.xml");
const run1 = join(dir, "run1.xml");
const failed = join(dir, "failed.xml");
spawnSync("crm_simulate", ["-x", cib, "-q", "1", "-u", "n1", "-u", "n2", "-O", up]);
execFileSync("crm_attribute", ["-N", "n1", "-n", "master-st", "-v", "10", "-l", "reboot"], { env: { ...env, CIB_file: up } });
spawnSync("crm_simulate", ["-x", up, "-S", "-O", run1]);
const mon = (f: string) => parseCrmMon(execFileSync("crm_mon", ["--output-as=xml"], { env: { ...env, CIB_file: f }, encoding: "utf8" }));

t.test("nodes, a primitive, a promotable clone and a group", async (t) => {
  const s = mon(run1);
  t.same(s.nodes.map((n) => [n.name, n.online, n.standby]), [["n1", true, false], ["n2", true, false]]);
  t.equal(where(s, "d1").length, 1, "d1 started once");
  t.same(where(s, "st-clone", "Promoted"), ["n1"], "promoted where the score is");
  t.same(where(s, "st", "Unpromoted"), ["n2"], "clone instances by primitive id too");
  t.equal(instances(s, "grp").length, 1);
  t.equal(instances(s, "grp")[0]!.group, "grp");
  t.equal(instances(s, "st")[0]!.clone, "st-clone");
  t.equal(instances(s, "st")[0]!.agent, "ocf:pacemaker:Stateful");
  t.match(summarize(s), /st-clone\/st=Promoted@n1/);
  t.same(s.failures, []);
});

t.test("a failed monitor shows in failures and on the instance", async (t) => {
  const s0 = mon(run1);
  const at = where(s0, "d1")[0]!;
  spawnSync("crm_simulate", ["-x", run1, "-i", `d1_monitor_10000@${at}=1`, "-O", failed]);
  const s = mon(failed);
  t.equal(s.failures.length, 1);
  t.match(s.failures[0], { node: at, task: "monitor", exitStatus: "error" });
  t.equal(instances(s, "d1")[0]!.failed, true);
});

t.test("stopped resources have no node", async (t) => {
  const s = mon(cib);
  t.same(s.nodes, []);
  t.ok(s.resources.every((r) => r.node === undefined && !r.active && r.role === "Stopped"));
  t.equal(s.dc, undefined);
});

t.test("Pacemaker 3.0's names for a failure's result and status read as 2.1's (the exit code decides)", async (t) => {
  // as crm_mon 3.0.0 (Debian 13) prints a failed monitor; 2.1.5 says "not running" and "complete"
  const xml = `<pacemaker-result api-version="2.39" request="crm_mon --output-as=xml"><summary/><nodes/><resources/>
<failures><failure op_key="lu_monitor_10000" node="n1" exitstatus="Not running" exitreason="" exitcode="7" call="31" status="Done" last-rc-change="2026-12-07 18:47:25 +00:00" queued="0" exec="0" interval="10000" task="monitor"/>
<failure op_key="t_start_0" node="n2" exitstatus="Error occurred" exitreason="boom" exitcode="1" call="5" status="Timed out" interval="0" task="start"/></failures>
<status code="0" message="OK"/></pacemaker-result>`;
  const s = parseCrmMon(xml);
  t.match(s.failures, [{ exitStatus: "not running", exitCode: 7, status: "complete" }, { exitStatus: "error", exitCode: 1, status: "Timed Out", exitReason: "boom" }]);
});
