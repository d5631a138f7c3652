// ocf:tsstor:clvm (and its ocf:tsstor:lvmlockd name): conformance, then start/monitor/stop of a
// real (fake) lvmlockd process inside a private namespace, with dlm and sanlock, and every exit
// path: lock manager missing or silent, lvm.conf wrong (with and without update_lvm_conf),
// daemon hung, LVs still active at stop, a daemon that ignores SIGTERM, timeouts.
import t from "tap";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { agentPath, conformance } from "../lib/harness.js";
import { World } from "./world.js";

const bin = agentPath("clvm");

for (const agent of ["clvm", "lvmlockd"]) {
  conformance(t, {
    agent,
    valid: { activate_vgs: "vg1 vg2" },
    invalid: [
      { params: { lock_type: "gfs" }, names: "parameter lock_type must be one of dlm, sanlock, clvmd" },
      { params: { host_id: "2001" }, names: "parameter host_id must be <= 2000" },
      { params: { adopt: "2" }, names: "parameter adopt must be <= 1" },
      { params: { syslog_priority: "loud" }, names: "parameter syslog_priority" },
      { params: { activate_vgs: "vg1 -bad" }, names: "parameter activate_vgs: -bad is not a valid volume group name" },
      { params: { pidfile: "/tmp/lvmlockd.pid" }, names: "pidfile=/tmp/lvmlockd.pid: LVM commands find lvmlockd only through /run/lvmlockd.pid" },
      { params: { socket_path: "/tmp/s" }, names: "socket_path=/tmp/s: lvmlockctl and LVM commands connect to /run/lvm/lvmlockd.socket" },
      { params: { with_cmirrord: "true" }, names: "parameter with_cmirrord applies to lock_type=clvmd only" },
    ],
  });
}

t.test("dlm: start, monitor, double start, stop, double stop; real daemon process", async (t) => {
  const w = await new World("dlm").start();
  t.teardown(() => w.stop());
  w.addVg("vg1", "dlm", ["lv1"]);
  w.addVg("vg2", "dlm", ["lv2"]);
  w.daemon("dlm_controld");
  const o = { params: { activate_vgs: "vg1 vg2" }, meta: { timeout: 30000 } };
  const mon = { ...o, meta: { interval: 30000, timeout: 30000 } };
  t.equal(w.run(bin, "monitor", o).code, 7, "probe: not running");
  const s = w.run(bin, "start", o);
  t.equal(s.code, 0, s.stderr);
  const pid = w.pid("lvmlockd")!;
  t.ok(pid, "lvmlockd runs");
  t.equal(readFileSync(`/proc/${pid}/comm`, "utf8").trim(), "lvmlockd");
  t.same(w.calls("lvmlockd"), [["-p", "/run/lvmlockd.pid", "-s", "/run/lvm/lvmlockd.socket", "-S", "warning", "-A", "1", "-g", "dlm"]]);
  t.same(w.calls("vgchange"), [["--lockstart", "--", "vg1"], ["--lockstart", "--", "vg2"]]);
  t.equal(w.calls("dlm_tool").length, 1, "dlm_tool status once");
  t.same(Object.keys(w.state().lockspaces).sort(), ["", "vg1", "vg2"]);
  w.resetCalls();
  t.equal(w.run(bin, "monitor", mon).code, 0);
  t.same(w.calls(), [["--info"]], "monitor: one lvmlockctl call, nothing else");
  t.equal(w.run(bin, "start", o).code, 0, "double start");
  t.equal(w.pid("lvmlockd"), pid, "same daemon");
  t.equal(w.run(bin, "stop", o).code, 0);
  t.equal(w.pid("lvmlockd"), undefined, "daemon gone");
  t.same(w.state().lockspaces, {});
  t.equal(w.sh("dlm_tool", ["ls"]).stdout, "", "dlm lockspaces left");
  t.equal(w.run(bin, "stop", o).code, 0, "double stop");
  t.equal(w.run(bin, "monitor", mon).code, 7);
});

t.test("the ocf:tsstor:lvmlockd name runs the same agent", async (t) => {
  const w = await new World("alias").start();
  t.teardown(() => w.stop());
  w.daemon("dlm_controld");
  const lb = agentPath("lvmlockd");
  t.equal(w.run(lb, "start", {}).code, 0);
  t.equal(w.run(lb, "monitor", { meta: { interval: 30000 } }).code, 0);
  t.equal(w.run(lb, "stop", {}).code, 0);
});

t.test("dlm checks: dlm_controld missing or not answering (heartbeat's check never fires)", async (t) => {
  const w = await new World("nodlm").start();
  t.teardown(() => w.stop());
  const r = w.run(bin, "start", {});
  t.equal(r.code, 1);
  t.match(r.reason, /dlm_controld is not running \(no live process in \/var\/run\/dlm_controld\/dlm_controld.pid\): run an ocf:pacemaker:controld clone/);
  t.equal(w.pid("lvmlockd"), undefined, "lvmlockd not started");
  const v = w.run(bin, "validate-all", { env: { OCF_CHECK_LEVEL: "10" } });
  t.equal(v.code, 1, "validate-all level 10 reports it too");
  t.match(v.reason, /dlm_controld is not running/);
  t.equal(w.run(bin, "validate-all", {}).code, 0, "level 0 touches nothing");
  w.daemon("dlm_controld");
  w.setState((s) => s.faults.push({ tool: "dlm_tool", args: "status", times: -1, code: 0, stdout: "cannot connect to dlm_controld\n" }));
  const q = w.run(bin, "start", {});
  t.equal(q.code, 1);
  t.match(q.reason, /dlm_controld \(pid \d+\) does not answer dlm_tool status: cannot connect to dlm_controld/);
});

t.test("lvm.conf: exact report at level 10 and start; update_lvm_conf fixes and says what it changed", async (t) => {
  const w = await new World("conf").start();
  t.teardown(() => w.stop());
  w.daemon("dlm_controld");
  w.conf("# site config\nglobal {\n\tuse_lvmlockd = 0\n\tlocking_type = 1\n}\n");
  const lvmconf = join(w.lvmDir, "lvm.conf");
  const v = w.run(bin, "validate-all", { env: { OCF_CHECK_LEVEL: "10" } });
  t.equal(v.code, 6);
  t.equal(v.reason, `global/use_lvmlockd = 0 (${lvmconf} line 3): lvmlockd needs 1 (fix it, or set update_lvm_conf=true)`);
  const s = w.run(bin, "start", {});
  t.equal(s.code, 6);
  t.equal(readFileSync(lvmconf, "utf8"), "# site config\nglobal {\n\tuse_lvmlockd = 0\n\tlocking_type = 1\n}\n", "unchanged without update_lvm_conf");
  const v2 = w.run(bin, "validate-all", { params: { update_lvm_conf: "true" }, env: { OCF_CHECK_LEVEL: "10" } });
  t.equal(v2.code, 0, "with update_lvm_conf validate says what start will do");
  t.match(v2.stderr, /start will set global\/use_lvmlockd = 1 in .*lvm.conf/);
  const s2 = w.run(bin, "start", { params: { update_lvm_conf: "true" } });
  t.equal(s2.code, 0, s2.stderr);
  t.match(s2.stderr, new RegExp(`changed ${lvmconf} line 3: global/use_lvmlockd 0 -> 1 \\(update_lvm_conf=true\\)`));
  t.equal(readFileSync(lvmconf, "utf8"), "# site config\nglobal {\n\tuse_lvmlockd = 1\n\tlocking_type = 1\n}\n");
  t.equal(w.run(bin, "stop", {}).code, 0);

  w.conf("global {\n\tuse_lvmlockd = 1\n\tlocking_type = 3\n}\n");
  const lt = w.run(bin, "validate-all", { env: { OCF_CHECK_LEVEL: "10" } });
  t.equal(lt.code, 6);
  t.match(lt.reason, /global\/locking_type = 3 \(.*lvm.conf line 3\): remove it/);
  w.conf("global {\n\tuse_lvmlockd = \n");
  t.match(w.run(bin, "validate-all", { env: { OCF_CHECK_LEVEL: "10" } }).reason, /lvm.conf:2: use_lvmlockd has no value/);
});

t.test("sanlock: host_id from the parameter, lvmlocal.conf or the corosync node id; conflicts reported", async (t) => {
  const w = await new World("sanlock").start();
  t.teardown(() => w.stop());
  w.addVg("vgs1", "sanlock", ["lv1"]);
  const o = { params: { lock_type: "sanlock", activate_vgs: "vgs1" }, meta: { timeout: 30000 } };
  const withId = { ...o, meta: { timeout: 30000, on_node_uuid: "2" } };
  t.match(w.run(bin, "start", withId).reason, /the sanlock daemon is not running/);
  w.daemon("sanlock");
  t.match(w.run(bin, "start", withId).reason, /wdmd is not running \(no live process in \/var\/run\/wdmd\/wdmd.pid\)/);
  w.daemon("wdmd");
  const none = w.run(bin, "validate-all", { ...o, env: { OCF_CHECK_LEVEL: "10", PATH: `${w.bin}:/nonexistent` } });
  t.equal(none.code, 6);
  t.match(none.reason, /no sanlock host_id: nowhere \(no host_id parameter, no local\/host_id in lvmlocal.conf, no corosync node id\)/);
  const big = w.run(bin, "validate-all", { ...o, meta: { on_node_uuid: "3232235777" }, env: { OCF_CHECK_LEVEL: "10" } });
  t.match(big.reason, /sanlock host_id 3232235777 from the corosync node id \(CRM_meta_on_node_uuid\) is outside 1-2000: set host_id/);
  const s = w.run(bin, "start", { ...o, meta: { timeout: 30000, on_node_uuid: "2" } });
  t.equal(s.code, 0, s.stderr);
  t.same(w.calls("lvmlockd").at(-1), ["-p", "/run/lvmlockd.pid", "-s", "/run/lvm/lvmlockd.socket", "-S", "warning", "-A", "1", "-g", "sanlock", "--host-id", "2"]);
  t.match(w.sh("sanlock", ["client", "status"]).stdout, /^s lvm_vgs1:0:\/dev\/mapper\/vgs1-lvmlock:0$/m);
  t.same(w.dm(), ["vgs1-lvmlock"], "the lease LV is active while the lockspace runs");
  t.equal(w.run(bin, "monitor", { ...o, meta: { interval: 30000 } }).code, 0);
  t.equal(w.run(bin, "stop", o).code, 0, "the lease LV does not block stop");
  t.same(w.dm(), []);

  w.conf("global {\n\tuse_lvmlockd = 1\n}\n", "local {\n\thost_id = 5\n}\n");
  const c = w.run(bin, "validate-all", { params: { lock_type: "sanlock", host_id: "3" }, env: { OCF_CHECK_LEVEL: "10" } });
  t.equal(c.code, 6);
  t.match(c.reason, /local\/host_id = 5 \(.*lvmlocal.conf line 2\) differs from host_id=3: LVM commands pass the lvmlocal.conf value/);
  const fix = w.run(bin, "start", { params: { lock_type: "sanlock", host_id: "3", update_lvm_conf: "true" } });
  t.equal(fix.code, 0, fix.stderr);
  t.match(readFileSync(join(w.lvmDir, "lvmlocal.conf"), "utf8"), /host_id = 3/);
  t.equal(w.run(bin, "validate-all", { params: { lock_type: "sanlock" }, env: { OCF_CHECK_LEVEL: "10" } }).code, 0, "lvmlocal.conf host_id used");
  t.equal(w.run(bin, "stop", {}).code, 0);
});

t.test("monitor: daemon alive and answering, lockspaces present; a hung daemon fails within the timeout", async (t) => {
  const w = await new World("mon").start();
  t.teardown(() => w.stop());
  w.addVg("vg1", "dlm", ["lv1"]);
  w.daemon("dlm_controld");
  const o = { params: { activate_vgs: "vg1" }, meta: { timeout: 20000, interval: 10000 } };
  t.equal(w.run(bin, "start", o).code, 0);
  t.equal(w.sh("vgchange", ["--lockstop", "vg1"]).code, 0);
  const m = w.run(bin, "monitor", o);
  t.equal(m.code, 1);
  t.equal(m.reason, "lockspace not started for vg1 (vgchange --lockstart)");
  t.equal(w.run(bin, "start", o).code, 0, "start repairs it");
  t.equal(w.run(bin, "monitor", o).code, 0);
  const pid = w.pid("lvmlockd")!;
  process.kill(pid, "SIGSTOP");
  const h = w.run(bin, "monitor", { ...o, meta: { timeout: 6000, interval: 10000 } });
  process.kill(pid, "SIGCONT");
  t.equal(h.code, 1);
  t.match(h.reason, new RegExp(`lvmlockd \\(pid ${pid}\\) does not answer lvmlockctl --info: lvmlockctl timed out`));
  t.ok(h.ms < 6000, `returned in ${Math.round(h.ms)} ms, inside the 6000 ms timeout`);
  w.kill("lvmlockd");
  const gone = w.run(bin, "monitor", o);
  t.equal(gone.code, 7, "crashed daemon: not running (stale pid file ignored)");
  t.equal(w.run(bin, "stop", o).code, 0);
});

t.test("stop: refuses while LVs are active (names them) instead of hanging; then stops cleanly", async (t) => {
  const w = await new World("stop").start();
  t.teardown(() => w.stop());
  w.addVg("vg1", "dlm", ["lv1", "data-lv"]);
  w.daemon("dlm_controld");
  t.equal(w.run(bin, "start", { params: { activate_vgs: "vg1" } }).code, 0);
  t.equal(w.sh("lvchange", ["-aey", "vg1/data-lv"]).code, 0);
  const r = w.run(bin, "stop", { meta: { timeout: 20000 } });
  t.equal(r.code, 1);
  t.match(r.reason, /^LVs still active in shared VGs: vg1\/data-lv; deactivate them first/);
  t.ok(w.pid("lvmlockd"), "daemon left running");
  t.equal(w.sh("lvchange", ["-an", "vg1/data-lv"]).code, 0);
  t.equal(w.run(bin, "stop", {}).code, 0);
  t.equal(w.pid("lvmlockd"), undefined);
});

t.test("stop: TERM ignored -> KILL within the budget; lockspaces that never leave -> 1", async (t) => {
  const w = await new World("kill").start();
  t.teardown(() => w.stop());
  w.daemon("dlm_controld");
  t.equal(w.run(bin, "start", {}).code, 0);
  w.setState((s) => (s.lockdIgnoreTerm = true));
  const r = w.run(bin, "stop", { meta: { timeout: 8000 } });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /lvmlockd \(pid \d+\) ignored SIGTERM; sending SIGKILL/);
  t.equal(w.pid("lvmlockd"), undefined);
  t.ok(r.ms < 8000, `inside the 8000 ms timeout (${Math.round(r.ms)} ms)`);

  w.setState((s) => (s.lockdIgnoreTerm = false));
  w.addVg("vg1", "dlm", ["lv1"]);
  t.equal(w.run(bin, "start", { params: { activate_vgs: "vg1" } }).code, 0);
  w.setState((s) => s.faults.push({ tool: "lvmlockctl", args: "--stop-lockspaces", times: -1, code: 0 }, { tool: "vgchange", args: "--lockstop", times: -1, code: 5, stderr: "  VG vg1 stop failed: LVs must first be deactivated\n" }));
  const l = w.run(bin, "stop", { meta: { timeout: 6000 } });
  t.equal(l.code, 1);
  t.match(l.stderr, /WARN: vgchange --lockstop vg1: vgchange failed \(rc=5\): VG vg1 stop failed: LVs must first be deactivated/);
  t.match(l.reason, /lockspaces did not leave: lvm_global lvm_vg1 lvm_global \(dlm\) lvm_vg1 \(dlm\)/);
  t.ok(l.ms < 6000, `inside the 6000 ms timeout (${Math.round(l.ms)} ms)`);
  w.setState((s) => (s.faults = []));
  t.equal(w.run(bin, "stop", {}).code, 0);
});

t.test("start failures: lvmlockd exits, lock start fails, transient lock start retried", async (t) => {
  const w = await new World("startfail").start();
  t.teardown(() => w.stop());
  w.addVg("vg1", "dlm", ["lv1"]);
  w.daemon("dlm_controld");
  w.setState((s) => s.faults.push({ tool: "lvmlockd", times: 1, code: 1, stderr: "lvmlockd: failed to set up socket\n" }));
  const a = w.run(bin, "start", { params: { activate_vgs: "vg1" } });
  t.equal(a.code, 1);
  t.match(a.reason, /lvmlockd failed to start: lvmlockd failed \(rc=1\): lvmlockd: failed to set up socket/);
  w.setState((s) => s.faults.push({ tool: "vgchange", args: "--lockstart", times: 2, code: 5, stderr: "  Global lock failed: lockspace is starting\n" }));
  const b = w.run(bin, "start", { params: { activate_vgs: "vg1" } });
  t.equal(b.code, 0, b.stderr);
  t.match(b.stderr, /retrying lock start: vgchange failed \(rc=5\): Global lock failed: lockspace is starting/);
  t.equal(w.calls("vgchange").filter((c) => c[0] === "--lockstart").length, 3);
  w.setState((s) => s.faults.push({ tool: "vgchange", args: "--lockstart", times: -1, code: 5, stderr: "  VG vg2 start failed: lock manager dlm is not running\n" }));
  const c = w.run(bin, "start", { params: { activate_vgs: "vg2" } });
  t.equal(c.code, 1);
  t.equal(c.reason, "lock start of vg2 failed: vgchange failed (rc=5): VG vg2 start failed: lock manager dlm is not running");
  w.setState((s) => (s.faults = [{ tool: "vgchange", args: "--lockstart", times: -1, code: 5, stderr: "  VG vg1 lock skipped: lock start in progress\n" }]));
  const d = w.run(bin, "start", { params: { activate_vgs: "vg1" }, meta: { timeout: 6000 } });
  t.equal(d.code, 1, "budget expiry while the lock start stays in progress");
  t.match(d.reason, /lock start of vg1 failed: .*lock start in progress/);
  t.ok(d.ms < 6000, `inside the timeout (${Math.round(d.ms)} ms)`);
  w.setState((s) => (s.faults = []));
  t.equal(w.run(bin, "stop", {}).code, 0);
});

t.test("missing software: 5 with the package to install; clvmd only where it exists", async (t) => {
  const w = await new World("missing").start();
  t.teardown(() => w.stop());
  const noFakes = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
  const r = w.run(bin, "validate-all", { env: { ...noFakes, OCF_CHECK_LEVEL: "10" } });
  t.equal(r.code, 5);
  t.equal(r.reason, "lvmlockd not found: install lvm2-lockd");
  const c = w.run(bin, "start", { params: { lock_type: "clvmd" }, env: noFakes });
  t.equal(c.code, 5);
  t.match(c.reason, /clvmd not found: lock_type=clvmd needs LVM 2.02's clvmd \(LVM >= 2.03 has none/);
  t.equal(w.run(bin, "monitor", { params: { lock_type: "clvmd" }, env: noFakes }).code, 7, "probe without clvmd: not running");
  t.equal(w.run(bin, "stop", { params: { lock_type: "clvmd" }, env: noFakes }).code, 0);
});

t.test("legacy clvmd where the binary exists (LVM 2.02 semantics)", async (t) => {
  const w = await new World("clvmd").start();
  t.teardown(() => w.stop());
  w.addVg("cvg", "clvm", ["lv1"]);
  w.conf("global {\n\tlocking_type = 3\n\tuse_lvmlockd = 0\n}\n", "");
  const o = { params: { lock_type: "clvmd", daemon_options: "-d0 -C" } };
  const s = w.run(bin, "start", o);
  t.equal(s.code, 0, s.stderr);
  t.ok(w.pid("clvmd"));
  t.same(w.calls("clvmd")[0], ["-T90", "-d0", "-C"]);
  t.same(w.calls("vgchange").at(-1), ["-aay"]);
  t.equal(w.run(bin, "monitor", { ...o, meta: { interval: 30000 } }).code, 0);
  t.equal(w.run(bin, "stop", o).code, 0);
  t.same(w.calls("vgchange").at(-1), ["-anl", "cvg"]);
  t.equal(w.pid("clvmd"), undefined);
  w.conf("global {\n\tuse_lvmlockd = 1\n}\n", "");
  t.match(w.run(bin, "validate-all", { ...o, env: { OCF_CHECK_LEVEL: "10" } }).reason, /use_lvmlockd = 1 .* must be 0 for clvmd; global\/locking_type must be 3 for clvmd \(not set/);
});

t.test("side by side with heartbeat lvmlockd: its DLM check never fires, its stop hangs on an active LV", async (t) => {
  const hb = "/usr/lib/ocf/resource.d/heartbeat/lvmlockd";
  const w = await new World("hb").start();
  t.teardown(() => w.stop());
  w.addVg("vg1", "dlm", ["lv1"]);
  const env = { OCF_ROOT: "/usr/lib/ocf" };
  const up = w.run(hb, "start", { env });
  t.equal(up.code, 0, "heartbeat starts lvmlockd without dlm_controld (pgrep finds nothing, [ -d /proc/ ] is true)");
  t.ok(w.pid("lvmlockd"));
  const ours = w.run(bin, "start", {});
  t.equal(ours.code, 1, "ours refuses");
  t.match(ours.reason, /dlm_controld is not running/);
  t.equal(w.run(hb, "stop", { env }).code, 0);
  w.daemon("dlm_controld");
  t.equal(w.run(bin, "start", { params: { activate_vgs: "vg1" } }).code, 0);
  t.equal(w.sh("lvchange", ["-aey", "vg1/lv1"]).code, 0);
  const hang = w.run(hb, "stop", { env, timeoutMs: 4000 });
  t.not(hang.code, 0, "heartbeat stop blocks in lvmlockctl --stop-lockspaces until Pacemaker's timeout (then fencing)");
  t.ok(hang.ms >= 3900, `killed by the harness after ${Math.round(hang.ms)} ms`);
  const r = w.run(bin, "stop", {});
  t.equal(r.code, 1);
  t.match(r.reason, /LVs still active in shared VGs: vg1\/lv1/);
  t.ok(r.ms < hang.ms, `ours answers without waiting for a timeout (${Math.round(r.ms)} ms)`);
  t.equal(w.sh("lvchange", ["-an", "vg1/lv1"]).code, 0);
  t.equal(w.run(bin, "stop", {}).code, 0);
});
