// The cluster LVM lock manager's life on a node, for the clvm/lvmlockd agent: lvmlockd over dlm
// or sanlock (the configuration it needs, start with lockspaces, monitor, a stop that refuses
// while shared LVs are active) and LVM 2.02's clvmd where it exists.

import type { ActionTools } from "../ocf/runner.js";
import { OCF, fail } from "../ocf/codes.js";
import { ocfIsFalse, ocfIsTrue, splitList } from "../ocf/env.js";
import { endProcess } from "../system/proc.js";
import { removeState } from "../system/state-file.js";
import { describeFailure, sleepMs } from "../system/run.js";
import { activeLvs, dmDevices } from "./dm.js";
import {
  Dlm, DLM_CONTROLD_PIDFILE, Lockctl, LVMLOCKD_PIDFILE, LVMLOCKD_SOCKET, SANLOCK_PIDFILE, Sanlock, WDMD_PIDFILE,
  daemonPid, vgLockspaces, type Lockspace, type LockdQuery,
} from "./lockd.js";
import { Lvm, LVM_ENV, lvmError, retryTransient } from "./commands.js";
import { LvmConfig, setLvmConf } from "./conf.js";

/** The agent's parameters this needs (its params object fits). */
export interface Manager {
  lock_type: "dlm" | "sanlock" | "clvmd";
  pidfile: string;
  socket_path: string;
  syslog_priority: string;
  adopt: number;
  host_id?: number | undefined;
  activate_vgs: string;
  update_lvm_conf: boolean;
  with_cmirrord: boolean;
  daemon_options: string;
}

// ---- checks -----------------------------------------------------------------------------------

/** activate_vgs: a VG list, or the legacy boolean ("all" / "none"). */
export function vgList(v: string): { all: boolean; vgs: string[] } {
  const t = v.trim();
  if (t !== "" && ocfIsTrue(t)) return { all: true, vgs: [] };
  if (t !== "" && ocfIsFalse(t)) return { all: false, vgs: [] };
  return { all: false, vgs: splitList(t) };
}

function lockdPid(): number | undefined {
  return daemonPid(LVMLOCKD_PIDFILE, "lvmlockd");
}

/** The sanlock host_id this node will use and where it comes from. */
function hostId(t: ActionTools, m: Manager, conf: LvmConfig): { id?: number; from: string } {
  const local = conf.get("local/host_id");
  if (m.host_id !== undefined) return { id: m.host_id, from: "parameter host_id" };
  if (local && typeof local.value === "number" && local.value > 0) return { id: local.value, from: `${LvmConfig.where(local)}` };
  const uuid = t.env.meta.onNodeUuid;
  if (uuid && /^\d+$/.test(uuid)) return { id: Number(uuid), from: "the corosync node id (CRM_meta_on_node_uuid)" };
  const r = t.run.run("crm_node", ["-i"], { timeoutMs: 10000 });
  const nodeId = /^\s*(\d+)\s*$/.exec(r.stdout);
  if (r.code === 0 && nodeId) return { id: Number(nodeId[1]), from: "the corosync node id (crm_node -i)" };
  return { from: "nowhere (no host_id parameter, no local/host_id in lvmlocal.conf, no corosync node id)" };
}

interface ConfPlan {
  /** what is wrong, exactly and where */
  problems: string[];
  /** the changes update_lvm_conf=true makes, each fixing one of the problems */
  fixes: Array<{ file: string; section: string; key: string; value: number; problem: string }>;
  hostId?: number;
}

/** lvm.conf/lvmlocal.conf as this lock_type needs them. Reads files only. */
function checkConf(t: ActionTools, m: Manager): ConfPlan {
  const dir = t.env.paths.lvm;
  const conf = new LvmConfig(dir);
  const plan: ConfPlan = { problems: [...conf.errors], fixes: [] };
  const mode = m.lock_type;
  const use = conf.get("global/use_lvmlockd");
  const lt = conf.get("global/locking_type");
  if (mode === "clvmd") {
    if (use && use.value !== 0) plan.problems.push(`global/use_lvmlockd = ${use.value} (${LvmConfig.where(use)}) must be 0 for clvmd`);
    if (!lt || lt.value !== 3) plan.problems.push(`global/locking_type must be 3 for clvmd (${lt ? `${lt.value} at ${LvmConfig.where(lt)}` : "not set"}; lvmconf --enable-cluster sets it)`);
    return plan;
  }
  if (!use || use.value !== 1) {
    const problem = use
      ? `global/use_lvmlockd = ${JSON.stringify(use.value)} (${LvmConfig.where(use)}): lvmlockd needs 1`
      : `global/use_lvmlockd is not set in ${dir}/lvm.conf (default 0): lvmlockd needs 1`;
    plan.problems.push(problem);
    plan.fixes.push({ file: use?.file ?? `${dir}/lvm.conf`, section: "global", key: "use_lvmlockd", value: 1, problem });
  }
  if (lt && lt.value !== 1) plan.problems.push(`global/locking_type = ${lt.value} (${LvmConfig.where(lt)}): remove it (LVM 2.03 ignores it; 3 meant clvmd)`);
  if (mode === "sanlock") {
    const h = hostId(t, m, conf);
    const local = conf.get("local/host_id");
    if (h.id === undefined) plan.problems.push(`no sanlock host_id: ${h.from}; set host_id (1-2000, unique per node)`);
    else if (h.id < 1 || h.id > 2000) plan.problems.push(`sanlock host_id ${h.id} from ${h.from} is outside 1-2000: set host_id`);
    else {
      plan.hostId = h.id;
      if (local && local.value !== h.id) {
        const problem = `local/host_id = ${JSON.stringify(local.value)} (${LvmConfig.where(local)}) differs from host_id=${h.id}: LVM commands pass the lvmlocal.conf value to lvmlockd`;
        plan.problems.push(problem);
        plan.fixes.push({ file: local.file, section: "local", key: "host_id", value: h.id, problem });
      }
    }
  }
  return plan;
}

function need(t: ActionTools, cmd: string, why: string): void {
  if (!t.run.which(cmd)) throw fail.installed(`${cmd} not found: ${why}`);
}

/** Local prerequisites, for validate-all level 10 and start. Throws with the exact problem. */
export function checkLocal(t: ActionTools, m: Manager): ConfPlan {
  const mode = m.lock_type;
  if (mode === "clvmd") {
    need(t, "clvmd", "lock_type=clvmd needs LVM 2.02's clvmd (LVM >= 2.03 has none: use lock_type=dlm or sanlock with lvmlockd)");
    if (m.with_cmirrord) need(t, "cmirrord", "with_cmirrord=true");
    need(t, "vgchange", "install lvm2");
  } else {
    need(t, "lvmlockd", "install lvm2-lockd");
    need(t, "lvmlockctl", "install lvm2-lockd");
    need(t, "vgchange", "install lvm2");
    if (mode === "dlm") need(t, "dlm_tool", "install dlm-controld");
    if (mode === "sanlock") need(t, "sanlock", "install sanlock");
  }
  const plan = checkConf(t, m);
  const unfixable = plan.problems.filter((pr) => !plan.fixes.some((f) => f.problem === pr));
  if (unfixable.length) throw fail.configured(unfixable.join("; "));
  if (plan.fixes.length) {
    if (!m.update_lvm_conf) throw fail.configured(`${plan.problems.join("; ")} (fix it, or set update_lvm_conf=true)`);
    if (t.action === "validate-all") for (const f of plan.fixes) t.log.info(`start will set ${f.section}/${f.key} = ${f.value} in ${f.file} (update_lvm_conf=true): ${f.problem}`);
  }
  if (mode === "dlm") {
    const pid = daemonPid(DLM_CONTROLD_PIDFILE, "dlm_controld");
    if (pid === undefined) throw fail.generic(`dlm_controld is not running (no live process in ${DLM_CONTROLD_PIDFILE}): run an ocf:pacemaker:controld clone and order it before this one`);
    const st = new Dlm(t.run).status();
    if (!st.ok) throw fail.generic(`dlm_controld (pid ${pid}) does not answer dlm_tool status: ${(st.r.stdout + st.r.stderr).trim().split("\n")[0] || describeFailure(st.r)}`);
  } else if (mode === "sanlock") {
    if (daemonPid(SANLOCK_PIDFILE, "sanlock") === undefined) throw fail.generic(`the sanlock daemon is not running (no live process in ${SANLOCK_PIDFILE})`);
    if (daemonPid(WDMD_PIDFILE, "wdmd") === undefined) throw fail.generic(`wdmd is not running (no live process in ${WDMD_PIDFILE}): sanlock needs it to guard leases with the watchdog`);
    const st = new Sanlock(t.run).status();
    if (!st.ok) throw fail.generic(`sanlock does not answer "sanlock client status": ${describeFailure(st.r)}`);
  }
  return plan;
}

/** Wait until lvmlockd answers, within `ms`; the last answer either way. */
function waitAnswer(t: ActionTools, ms: number): LockdQuery {
  const until = t.budget.elapsedMs() + ms;
  for (;;) {
    const q = new Lockctl(t.run).info(Math.max(1000, Math.min(10000, until - t.budget.elapsedMs())));
    if (q.lockspaces) return q;
    if (t.budget.elapsedMs() + 100 >= until || t.budget.remainingMs() < 300) return q;
    sleepMs(100);
  }
}

/** LVs of the started VGs that device-mapper shows active here, plus LV locks without a device. */
function activeInShared(ls: Lockspace[]): string[] {
  const devs = dmDevices();
  const out: string[] = [];
  for (const l of vgLockspaces(ls)) {
    const act = activeLvs(devs, l.vg);
    for (const d of act) out.push(`${l.vg}/${d.lv}`);
    const held = l.lvLocks.filter((k) => k.mode === "ex" || k.mode === "sh");
    if (held.length > act.length) for (const k of held.slice(act.length)) out.push(`${l.vg}/<lock ${k.mode} ${k.uuid}>`);
  }
  return out;
}

// ---- lvmlockd ---------------------------------------------------------------------------------

export function lockdStart(t: ActionTools, m: Manager): number | void {
  const plan = checkLocal(t, m);
  for (const f of plan.fixes) {
    const changed = setLvmConf(f.file, f.section, f.key, f.value);
    if (changed) t.log.info(`changed ${changed} (update_lvm_conf=true)`);
  }
  let pid = lockdPid();
  if (pid === undefined) {
    const args = ["-p", m.pidfile, "-s", m.socket_path, "-S", m.syslog_priority, "-A", String(m.adopt), "-g", m.lock_type];
    // the long option: lvmlockd 2.03.16's --help lists "-i", but its parser refuses it ("invalid
    // option -- 'i'", seen in the lab's Debian 12 VM); --host-id works everywhere
    if (m.lock_type === "sanlock" && plan.hostId !== undefined) args.push("--host-id", String(plan.hostId));
    t.log.info(`starting lvmlockd ${args.join(" ")}`);
    const r = t.run.run("lvmlockd", args);
    pid = lockdPid();
    // a start killed earlier may have left a daemon that came up meanwhile ("Already running?")
    if (r.code !== 0 && pid === undefined) throw fail.generic(`lvmlockd failed to start: ${describeFailure(r)}`);
  } else {
    t.log.info(`lvmlockd already running (pid ${pid})`);
  }
  const q = waitAnswer(t, t.budget.remainingMs() * 0.5);
  if (!q.lockspaces) throw fail.generic(`lvmlockd${pid ? ` (pid ${pid})` : ""} does not answer on ${LVMLOCKD_SOCKET}: ${describeFailure(q.r)}`);
  const { all, vgs } = vgList(m.activate_vgs);
  const lvm = new Lvm(t.run);
  for (const vg of all ? [undefined] : vgs) {
    const r = retryTransient(t.budget, () => (vg === undefined ? lvm.vgchange(["--lockstart"]) : lvm.lockStart(vg)), (x) => t.log.info(`retrying lock start: ${lvmError(x)}`));
    if (r.code !== 0) throw fail.generic(`lock start of ${vg ?? "all shared VGs"} failed: ${lvmError(r)}`);
  }
  return lockdMonitor(t, m);
}

export function lockdMonitor(t: ActionTools, m: Manager): number {
  const pid = lockdPid();
  if (pid === undefined) return OCF.NOT_RUNNING;
  const q = new Lockctl(t.run).info(Math.min(20000, t.budget.remainingMs()));
  if (!q.lockspaces) throw fail.generic(`lvmlockd (pid ${pid}) does not answer lvmlockctl --info: ${describeFailure(q.r)}`);
  const started = new Set(vgLockspaces(q.lockspaces).map((l) => l.vg));
  const missing = vgList(m.activate_vgs).vgs.filter((v) => !started.has(v));
  if (missing.length) throw fail.generic(`lockspace not started for ${missing.join(", ")} (vgchange --lockstart)`);
  return OCF.SUCCESS;
}

export function lockdStop(t: ActionTools, m: Manager): number | void {
  const pid = lockdPid();
  if (pid === undefined) {
    removeState(LVMLOCKD_PIDFILE);
    return;
  }
  const lockctl = new Lockctl(t.run);
  const q = lockctl.info(Math.min(20000, t.budget.remainingMs() * 0.3));
  if (q.lockspaces) {
    const active = activeInShared(q.lockspaces);
    if (active.length) {
      throw fail.generic(`LVs still active in shared VGs: ${active.join(", ")}; deactivate them first (stop their LVM-activate resources, ordered after this clone): stopping lvmlockd now would hang or lose their locks`);
    }
    if (q.lockspaces.length) {
      // Per VG first: vgchange --lockstop also deactivates sanlock's lease LV and refuses
      // clearly instead of waiting; lvmlockctl then ends what is left (the global lockspace).
      const lvm = new Lvm(t.run);
      for (const l of vgLockspaces(q.lockspaces)) {
        const r = lvm.lockStop(l.vg);
        if (r.code !== 0) t.log.warn(`vgchange --lockstop ${l.vg}: ${lvmError(r)}`);
      }
      const rest = lockctl.info(5000).lockspaces ?? q.lockspaces;
      if (rest.length) {
        t.log.info(`stopping lockspaces ${rest.map((l) => l.name).join(" ")}`);
        const r = lockctl.stopLockspaces(t.budget.remainingMs() * 0.4);
        if (r.code !== 0) throw fail.generic(`lvmlockctl --stop-lockspaces failed: ${describeFailure(r)}`);
      }
      // wait for them to leave (lvmlockd, and the kernel DLM for lock_type=dlm)
      const until = t.budget.elapsedMs() + t.budget.remainingMs() * 0.4;
      let askDlm = m.lock_type === "dlm" && t.run.which("dlm_tool") !== undefined;
      for (;;) {
        const left = lockctl.info(5000).lockspaces ?? [];
        // The kernel DLM's view is a cross-check only: a dlm_tool that does not answer within a
        // slice must not eat the time lvmlockd's own exit needs.
        let dlmLeft: string[] = [];
        if (askDlm) {
          const d = new Dlm(t.run).lockspaces(Math.min(5000, t.budget.remainingMs() * 0.2));
          if (d.names) dlmLeft = d.names.filter((n) => n.startsWith("lvm_"));
          else {
            t.log.warn(`dlm_tool ls does not answer (${describeFailure(d.r)}); waiting on lvmlockd's view of its lockspaces only`);
            askDlm = false;
          }
        }
        if (!left.length && !dlmLeft.length) break;
        if (t.budget.elapsedMs() >= until) {
          throw fail.generic(`lockspaces did not leave: ${[...left.map((l) => l.name), ...dlmLeft.map((n) => `${n} (dlm)`)].join(" ")}`);
        }
        sleepMs(200);
      }
    }
  } else {
    t.log.warn(`lvmlockd (pid ${pid}) does not answer (${describeFailure(q.r)}); ending it without stopping lockspaces`);
  }
  endProcess(t, pid, "lvmlockd");
  removeState(LVMLOCKD_PIDFILE);
}

// ---- legacy clvmd (LVM 2.02) ------------------------------------------------------------------

const CLVMD_PIDFILE = "/run/clvmd.pid";
const CMIRRORD_PIDFILE = "/run/cmirrord.pid";

export function clvmdStart(t: ActionTools, m: Manager): number | void {
  checkLocal(t, m);
  const timeoutS = Math.max(1, Math.floor(t.budget.totalMs / 1000));
  if (m.with_cmirrord && daemonPid(CMIRRORD_PIDFILE, "cmirrord") === undefined) t.run.must("cmirrord", []);
  if (daemonPid(CLVMD_PIDFILE, "clvmd") === undefined) {
    t.run.must("clvmd", [`-T${timeoutS}`, ...splitList(m.daemon_options)]);
    t.run.run("vgscan", [], { env: LVM_ENV });
  }
  if (vgList(m.activate_vgs).all || m.activate_vgs.trim() === "") {
    const r = new Lvm(t.run).vgchange(["-aay"]);
    if (r.code !== 0) throw fail.generic(`vgchange -aay failed: ${lvmError(r)}`);
  }
  return clvmdMonitor(t, m);
}

export function clvmdMonitor(t: ActionTools, m: Manager): number {
  const c = daemonPid(CLVMD_PIDFILE, "clvmd");
  const mirror = m.with_cmirrord ? daemonPid(CMIRRORD_PIDFILE, "cmirrord") : c;
  if (c === undefined && mirror === undefined) return OCF.NOT_RUNNING;
  if (c === undefined || mirror === undefined) throw fail.generic(`${c === undefined ? "clvmd" : "cmirrord"} is not running`);
  return OCF.SUCCESS;
}

export function clvmdStop(t: ActionTools, m: Manager): number | void {
  const c = daemonPid(CLVMD_PIDFILE, "clvmd");
  if (c !== undefined) {
    const lvm = new Lvm(t.run);
    const clustered = lvm.clusteredVgs().names;
    if (clustered.length) {
      const d = lvm.vgchange(["-anl", ...clustered]);
      if (d.code !== 0) throw fail.generic(`failed to deactivate clustered VGs ${clustered.join(" ")}: ${lvmError(d)}`);
    }
    endProcess(t, c, "clvmd");
  }
  const mirror = daemonPid(CMIRRORD_PIDFILE, "cmirrord");
  if (mirror !== undefined && m.with_cmirrord) endProcess(t, mirror, "cmirrord");
}
