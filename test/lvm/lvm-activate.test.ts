// ocf:tsstor:LVM-activate: conformance, then activation inside a private namespace on the fake
// LVM stack (lvmlockd dlm VGs, system_id and tagging VGs): exclusive and shared modes with their
// clone rules, lock start retries and their budget, locks held on another node, monitor from
// device-mapper state only, level 10 read, reload-agent refresh, stop refusals.
import t from "tap";
import * as fs from "node:fs";
import { readFileSync } from "node:fs";
import { agentPath, conformance } from "../lib/harness.js";
import { World } from "./world.js";

const bin = agentPath("LVM-activate");
const clvm = agentPath("clvm");

conformance(t, {
  agent: "LVM-activate",
  valid: { vgname: "vg1", lvname: "lv1", vg_access_mode: "lvmlockd" },
  invalid: [
    { params: { lvname: "lv1", vg_access_mode: "lvmlockd" }, names: "parameter vgname is required" },
    { params: { vgname: "vg1" }, names: "parameter vg_access_mode is required" },
    { params: { vgname: "vg 1", vg_access_mode: "lvmlockd" }, names: "parameter vgname is not a valid volume group name" },
    { params: { vgname: "vg1", lvname: "$(reboot)", vg_access_mode: "lvmlockd" }, names: "parameter lvname is not a valid logical volume name" },
    { params: { vgname: "vg1", lvname: "lv_rimage_0", vg_access_mode: "lvmlockd" }, names: "parameter lvname is a name LVM reserves" },
    { params: { vgname: "vg1", vg_access_mode: "cluster" }, names: "parameter vg_access_mode must be one of lvmlockd, clvmd, system_id, tagging" },
    { params: { vgname: "vg1", vg_access_mode: "lvmlockd", activation_mode: "both" }, names: "parameter activation_mode" },
    { params: { vgname: "vg1", vg_access_mode: "system_id", activation_mode: "shared" }, names: "activation_mode=shared needs vg_access_mode=lvmlockd" },
    { params: { vgname: "vg1", vg_access_mode: "tagging", tag: "a b" }, names: "parameter tag is not a valid LVM tag" },
    { params: { vgname: "vg1", vg_access_mode: "lvmlockd", partial_activation: "maybe" }, names: "parameter partial_activation" },
  ],
  monitorDepths: [0, 10],
});

/** A node with dlm_controld and lvmlockd (started by the clvm agent) and shared VG vg1. */
async function lockdWorld(name: string): Promise<World> {
  const w = await new World(name).start();
  w.addVg("vg1", "dlm", ["lv1", "lv2", "data-lv"]);
  w.daemon("dlm_controld");
  const r = w.run(clvm, "start", {});
  if (r.code !== 0) throw new Error(r.stderr);
  return w;
}

const excl = { vgname: "vg1", lvname: "lv1", vg_access_mode: "lvmlockd" };
const shared = { vgname: "vg1", lvname: "data-lv", vg_access_mode: "lvmlockd", activation_mode: "shared" };
const cloneMeta = { clone: 0, clone_max: 2, clone_node_max: 1, timeout: 30000 };

t.test("exclusive: start, monitor (no LVM command), double start, stop with lockstop, double stop", async (t) => {
  const w = await lockdWorld("excl");
  t.teardown(() => w.stop());
  const o = { params: excl, meta: { timeout: 30000 } };
  t.equal(w.run(bin, "monitor", o).code, 7, "probe");
  w.resetCalls();
  const s = w.run(bin, "start", o);
  t.equal(s.code, 0, s.stderr);
  t.same(w.dm(), ["vg1-lv1"]);
  t.same(w.calls("vgchange"), [["--lockstart", "--", "vg1"]]);
  t.same(w.calls("lvchange"), [["-aey", "--", "vg1/lv1"]]);
  t.equal(w.state().vgs.vg1!.lvs.lv1!.active, "ex");
  w.resetCalls();
  const m = w.run(bin, "monitor", { ...o, meta: { interval: 30000, timeout: 30000 } });
  t.equal(m.code, 0);
  t.same(w.calls(), [], "monitor ran no program at all");
  t.equal(w.run(bin, "start", o).code, 0, "double start");
  t.equal(w.run(bin, "stop", o).code, 0);
  t.same(w.dm(), []);
  t.same(w.calls("vgchange").at(-1), ["--lockstop", "--", "vg1"], "last LV of the VG: lockspace stopped");
  t.notOk(w.state().lockspaces.vg1);
  t.equal(w.run(bin, "stop", o).code, 0, "double stop");
  t.equal(w.run(bin, "monitor", o).code, 7);
});

t.test("lockstop only when nothing of the VG stays active; whole-VG mode", async (t) => {
  const w = await lockdWorld("vgwide");
  t.teardown(() => w.stop());
  const a = { params: excl, meta: { timeout: 30000 } };
  const b = { params: { ...excl, lvname: "lv2" }, meta: { timeout: 30000 }, instance: "b" };
  t.equal(w.run(bin, "start", a).code, 0);
  t.equal(w.run(bin, "start", b).code, 0);
  w.resetCalls();
  t.equal(w.run(bin, "stop", a).code, 0);
  t.same(w.calls("vgchange"), [], "lv2 still active: no lockstop");
  t.ok(w.state().lockspaces.vg1);
  t.equal(w.run(bin, "stop", b).code, 0);
  t.same(w.calls("vgchange"), [["--lockstop", "--", "vg1"]]);
  const whole = { params: { vgname: "vg1", vg_access_mode: "lvmlockd" }, meta: { timeout: 30000 } };
  t.equal(w.run(bin, "start", whole).code, 0);
  t.same(w.dm(), ["vg1-data--lv", "vg1-lv1", "vg1-lv2"]);
  t.same(w.calls("lvchange").at(-1), ["-aey", "--", "vg1"]);
  t.equal(w.run(bin, "monitor", whole).code, 0);
  t.equal(w.run(bin, "stop", whole).code, 0);
  t.same(w.dm(), []);
});

t.test("shared only in a clone, exclusive never in a clone (start and level 10, not level 0)", async (t) => {
  const w = await lockdWorld("clone");
  t.teardown(() => w.stop());
  const a = w.run(bin, "start", { params: shared, meta: { timeout: 30000 } });
  t.equal(a.code, 6);
  t.equal(a.reason, "activation_mode=shared activates vg1/data-lv on several nodes: run it as a clone (pcs resource clone)");
  const b = w.run(bin, "start", { params: excl, meta: cloneMeta });
  t.equal(b.code, 6);
  t.equal(b.reason, "vg1/lv1 is activated exclusively (activation_mode=exclusive, vg_access_mode=lvmlockd): it must not be a clone");
  t.same(w.dm(), [], "nothing activated");
  t.equal(w.run(bin, "validate-all", { params: shared }).code, 0, "level 0: no clone check (pcs validation)");
  t.equal(w.run(bin, "validate-all", { params: shared, env: { OCF_CHECK_LEVEL: "10" } }).code, 6, "level 10 without clone meta");
  t.equal(w.run(bin, "validate-all", { params: shared, meta: cloneMeta, env: { OCF_CHECK_LEVEL: "10" } }).code, 0);
  t.equal(w.run(bin, "validate-all", { params: excl, meta: cloneMeta, env: { OCF_CHECK_LEVEL: "10" } }).code, 6);
  t.equal(w.run(bin, "validate-all", { params: excl, env: { OCF_CHECK_LEVEL: "10" } }).code, 0);
  const s = w.run(bin, "start", { params: shared, meta: cloneMeta });
  t.equal(s.code, 0, s.stderr);
  t.same(w.calls("lvchange").at(-1), ["-asy", "--", "vg1/data-lv"]);
  t.equal(w.state().vgs.vg1!.lvs["data-lv"]!.active, "sh");
  t.match(w.sh("lvmlockctl", ["--info"]).stdout, /^LK LV sh /m);
  t.equal(w.run(bin, "stop", { params: shared, meta: cloneMeta }).code, 0);
});

t.test("\"lock start in progress\" is retried inside the timeout, and gives up at its end", async (t) => {
  const w = await lockdWorld("retry");
  t.teardown(() => w.stop());
  w.setState((s) => (s.lockStartDelay = 3));
  const r = w.run(bin, "start", { params: excl, meta: { timeout: 30000 } });
  t.equal(r.code, 0, r.stderr);
  t.equal(w.calls("lvchange").length, 4, "three refusals, then success");
  t.match(r.stderr, /retrying: lvchange failed \(rc=5\): VG vg1 lock skipped: lock start in progress; Cannot access VG vg1 due to failed lock./);
  t.equal(w.run(bin, "stop", { params: excl }).code, 0);
  w.setState((s) => (s.lockStartDelay = 1000));
  const e = w.run(bin, "start", { params: excl, meta: { timeout: 5000 } });
  t.equal(e.code, 1);
  t.match(e.reason, /^the lockspace of vg1 was still starting when the timeout ran out: lvchange failed \(rc=5\): VG vg1 lock skipped: lock start in progress/);
  t.ok(e.ms < 5000, `returned inside the 5000 ms timeout (${Math.round(e.ms)} ms)`);
  t.same(w.dm(), []);
});

t.test("exclusive LV active on another node; lockspace failures; lvmlockd down", async (t) => {
  const w = await lockdWorld("remote");
  t.teardown(() => w.stop());
  w.setState((s) => (s.vgs.vg1!.lvs.lv1!.remote = "ex"));
  const r = w.run(bin, "start", { params: excl, meta: { timeout: 30000 } });
  t.equal(r.code, 1);
  t.equal(r.reason, "vg1/lv1 is active on another node (its exclusive lock is held there): lvchange failed (rc=5): LV locked by other host: vg1/lv1");
  t.equal(w.calls("lvchange").length, 1, "not retried");
  w.setState((s) => (s.vgs.vg1!.lvs.lv1!.remote = "sh"));
  t.equal(w.run(bin, "start", { params: { ...excl }, meta: { timeout: 30000 } }).code, 1, "shared elsewhere blocks exclusive");
  const sh = w.run(bin, "start", { params: { ...shared, lvname: "lv1" }, meta: cloneMeta });
  t.equal(sh.code, 0, "shared elsewhere allows shared here");
  t.equal(w.run(bin, "stop", { params: { ...shared, lvname: "lv1" }, meta: cloneMeta }).code, 0);
  w.setState((s) => s.faults.push({ tool: "vgchange", args: "--lockstart", times: 1, code: 5, stderr: "  VG vg1 start failed: lock manager dlm is not running\n" }));
  const f = w.run(bin, "start", { params: { ...excl, lvname: "lv2" } });
  t.equal(f.code, 1);
  t.equal(f.reason, "vgchange --lockstart vg1 failed: vgchange failed (rc=5): VG vg1 start failed: lock manager dlm is not running");
  t.equal(w.run(clvm, "stop", {}).code, 0);
  const d = w.run(bin, "start", { params: { ...excl, lvname: "lv2" } });
  t.equal(d.code, 1);
  t.equal(d.reason, "lvmlockd is not running: start the ocf:tsstor:clvm clone first (order it before this resource)");
  t.equal(w.run(bin, "monitor", { params: excl }).code, 7, "probe with lvmlockd down: 7");
});

t.test("VG checks: not found, access mode mismatch, LV not in VG, partial, use_lvmlockd", async (t) => {
  const w = await lockdWorld("vgcheck");
  t.teardown(() => w.stop());
  w.addVg("local", "", ["lv1"]);
  w.addVg("broken", "dlm", ["lv1"], { partial: true });
  const v10 = (params: Record<string, string>) => w.run(bin, "validate-all", { params, env: { OCF_CHECK_LEVEL: "10" } });
  const nf = v10({ ...excl, vgname: "nosuch" });
  t.equal(nf.code, 1);
  t.equal(nf.reason, "volume group nosuch not found on this node (are its PVs visible? multipath/iSCSI logged in?)");
  const mm = v10({ ...excl, vgname: "local" });
  t.equal(mm.code, 6);
  t.equal(mm.reason, "vg_access_mode=lvmlockd but local is not a shared VG (lock_type none): vgchange --locktype dlm|sanlock local, or set vg_access_mode to match");
  t.equal(v10({ ...excl, vg_access_mode: "system_id" }).reason, "vg_access_mode=system_id but vg1 has no system ID (lock_type dlm): vgchange --systemid");
  t.equal(v10({ ...excl, lvname: "nolv" }).reason, "logical volume nolv is not in volume group vg1");
  const p = v10({ ...excl, vgname: "broken" });
  t.equal(p.code, 1);
  t.equal(p.reason, "volume group broken has PVs missing; set partial_activation=true to activate it anyway");
  t.equal(v10({ ...excl, vgname: "broken", partial_activation: "true" }).code, 0);
  const ps = w.run(bin, "start", { params: { ...excl, vgname: "broken", partial_activation: "true", degraded_activation: "true" } });
  t.equal(ps.code, 0, ps.stderr);
  t.same(w.calls("lvchange").at(-1), ["-aey", "--partial", "--activationmode", "degraded", "--", "broken/lv1"]);
  w.conf("global {\n\tuse_lvmlockd = 0\n}\n");
  t.match(v10(excl).reason, /^global\/use_lvmlockd must be 1 for vg_access_mode=lvmlockd \(0 at .*lvm.conf line 2\)$/);
  const cl = v10({ ...excl, vg_access_mode: "clvmd" });
  t.equal(cl.code, 6, "a dlm VG is not a clvmd VG");
});

t.test("monitor: device-mapper state only; suspended device; level 10 reads the device", async (t) => {
  const w = await lockdWorld("monitor");
  t.teardown(() => w.stop());
  t.equal(w.run(bin, "start", { params: excl }).code, 0);
  const sus = w.inside("/sys/block/dm-0/dm/suspended");
  fs.writeFileSync(sus, "1\n");
  const m = w.run(bin, "monitor", { params: excl, meta: { interval: 30000, timeout: 20000 } });
  t.equal(m.code, 1);
  t.equal(m.reason, "device-mapper device vg1-lv1 is suspended: I/O to it is blocked");
  fs.writeFileSync(sus, "0\n");
  t.equal(w.run(bin, "monitor", { params: excl, env: { OCF_CHECK_LEVEL: "10" } }).code, 0, "level 10 read");
  fs.rmSync(w.inside("/dev/mapper/vg1-lv1"));
  const r = w.run(bin, "monitor", { params: excl, env: { OCF_CHECK_LEVEL: "10" } });
  t.equal(r.code, 1);
  t.match(r.reason, /^cannot read vg1\/lv1: \/dev\/mapper\/vg1-lv1: ENOENT/);
  t.equal(w.run(bin, "monitor", { params: excl }).code, 0, "level 0 does not read");
  w.sh("lvchange", ["-an", "vg1/lv1"]);
  t.equal(w.run(bin, "monitor", { params: excl, meta: { interval: 30000 } }).code, 7, "deactivated behind our back: not running");
});

t.test("reload-agent (refresh parameter) runs lvchange --refresh: a resize on another node reaches device-mapper", async (t) => {
  const w = await lockdWorld("refresh");
  t.teardown(() => w.stop());
  t.equal(w.run(bin, "start", { params: shared, meta: cloneMeta }).code, 0);
  w.setState((s) => (s.vgs.vg1!.lvs["data-lv"]!.size_m = 128)); // lvextend on the other node
  t.match(w.sh("dmsetup", ["table", "vg1-data--lv"]).stdout, /^0 131072 linear/, "table still 64 MiB");
  const r = w.run(bin, "reload-agent", { params: { ...shared, refresh: "2026-11-22T05:00" }, meta: cloneMeta });
  t.equal(r.code, 0, r.stderr);
  t.same(w.calls("lvchange").at(-1), ["--refresh", "--", "vg1/data-lv"]);
  t.match(w.sh("dmsetup", ["table", "vg1-data--lv"]).stdout, /^0 262144 linear/, "table now 128 MiB");
  t.equal(readFileSync(w.inside("/sys/block/dm-0/size"), "utf8").trim(), "262144");
  w.resetCalls();
  t.equal(w.run(bin, "stop", { params: shared, meta: cloneMeta }).code, 0);
  t.equal(w.run(bin, "reload-agent", { params: shared, meta: cloneMeta }).code, 0, "not active: nothing to refresh");
  t.same(w.calls("lvchange").filter((c) => c[0] === "--refresh"), []);
  t.match(readFileSync("metadata/LVM-activate.xml", "utf8"), /<parameter name="refresh"[^>]*reloadable="1"/);
});

t.test("stop: LV in use fails with the reason; deactivation retried on transient lock errors", async (t) => {
  const w = await lockdWorld("inuse");
  t.teardown(() => w.stop());
  t.equal(w.run(bin, "start", { params: excl }).code, 0);
  w.setState((s) => (s.vgs.vg1!.lvs.lv1!.open = 1));
  const r = w.run(bin, "stop", { params: excl });
  t.equal(r.code, 1);
  t.equal(r.reason, "deactivation of vg1/lv1 failed (still in use: stop what mounts or opens it first): lvchange failed (rc=5): Logical volume vg1/lv1 in use.");
  w.setState((s) => {
    s.vgs.vg1!.lvs.lv1!.open = 0;
    s.faults.push({ tool: "lvchange", args: "-an", times: 2, code: 5, stderr: "  Retrying ex lock on VG vg1\n  VG vg1 lock failed: held by other host.\n" });
  });
  const s = w.run(bin, "stop", { params: excl });
  t.equal(s.code, 0, s.stderr);
  t.equal(w.calls("lvchange").filter((c) => c[0] === "-an").length, 4);
  t.same(w.dm(), []);
});

t.test("system_id: takes the VG over from the previous owner, then activates", async (t) => {
  const w = await new World("sysid").start();
  t.teardown(() => w.stop());
  w.conf('global {\n\tsystem_id_source = "lvmlocal"\n}\n', 'local {\n\tsystem_id = "node2"\n}\n');
  w.addVg("svg", "", ["lv1"], { systemid: "node1" });
  const o = { params: { vgname: "svg", lvname: "lv1", vg_access_mode: "system_id", majority_pvs: "true" } };
  t.equal(w.run(bin, "validate-all", { ...o, env: { OCF_CHECK_LEVEL: "10" } }).code, 0);
  const s = w.run(bin, "start", o);
  t.equal(s.code, 0, s.stderr);
  t.same(w.calls("vgchange")[0], ["-y", "--config", 'local/extra_system_ids=["node1"]', "--systemid", "node2", "--majoritypvs", "--", "svg"]);
  t.equal(w.state().vgs.svg!.systemid, "node2");
  t.same(w.dm(), ["svg-lv1"]);
  t.equal(w.run(bin, "stop", o).code, 0);
  w.conf("global {\n}\n", "");
  t.match(w.run(bin, "validate-all", { ...o, env: { OCF_CHECK_LEVEL: "10" } }).reason, /^global\/system_id_source is not set/);
});

t.test("tagging: our tag only, on our VG; volume_list checked", async (t) => {
  const w = await new World("tag").start();
  t.teardown(() => w.stop());
  w.conf('activation {\n\tvolume_list = [ "vg0" ]\n}\n', "");
  w.addVg("tvg", "", ["lv1"], { tags: ["othernode"] });
  w.addVg("other", "", ["lv1"], { tags: ["keepme"] });
  const o = { params: { vgname: "tvg", lvname: "lv1", vg_access_mode: "tagging", tag: "tsl-ha" } };
  const s = w.run(bin, "start", o);
  t.equal(s.code, 0, s.stderr);
  t.same(w.state().vgs.tvg!.tags, ["tsl-ha"]);
  t.same(w.state().vgs.other!.tags, ["keepme"], "another VG's tags untouched (heartbeat strips by an unset variable)");
  t.same(w.calls("lvchange").at(-1), ["-ay", "--config", 'activation{volume_list=["@tsl-ha"]}', "--", "tvg/lv1"]);
  t.equal(w.run(bin, "stop", o).code, 0);
  t.same(w.state().vgs.tvg!.tags, []);
  w.conf('activation {\n\tvolume_list = [ "vg0", "@tsl-ha" ]\n}\n', "");
  t.match(w.run(bin, "validate-all", { ...o, env: { OCF_CHECK_LEVEL: "10" } }).reason, /activation\/volume_list \(.*lvm.conf line 2\) must not contain "@tsl-ha" or "tvg"/);
  w.conf("global {\n}\n", "");
  t.match(w.run(bin, "start", o).reason, /vg_access_mode=tagging needs activation\/volume_list/);
});

t.test("clvmd access mode only where clvmd exists", async (t) => {
  const w = await new World("clvmdmode").start();
  t.teardown(() => w.stop());
  w.addVg("cvg", "clvm", ["lv1"]);
  w.conf("global {\n\tlocking_type = 3\n}\n", "");
  const params = { vgname: "cvg", lvname: "lv1", vg_access_mode: "clvmd" };
  const r = w.run(bin, "start", { params });
  t.equal(r.code, 0, `with clvmd (a fake): ${r.stderr}`);
  t.same(w.calls("lvchange").at(-1), ["-aey", "--", "cvg/lv1"]);
  t.equal(w.run(bin, "stop", { params }).code, 0);
  fs.rmSync(`${w.bin}/clvmd`);
  const n = w.run(bin, "start", { params });
  t.equal(n.code, 5);
  t.match(n.reason, /^vg_access_mode=clvmd needs LVM 2.02's clvmd \(LVM >= 2.03 has none: vgchange --locktype dlm/);
});
