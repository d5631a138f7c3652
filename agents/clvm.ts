// ocf:tsstor:clvm (also installed as ocf:tsstor:lvmlockd): the cluster LVM lock manager, a clone
// on every node. It runs lvmlockd with the dlm lock manager (dlm_controld from
// ocf:pacemaker:controld must run first) or sanlock (sanlock + wdmd, a host_id per node), and
// starts the lockspaces of the shared VGs named in activate_vgs. LVM 2.02's clvmd is managed
// only where its binary exists (lock_type=clvmd).
//
// Differences from heartbeat lvmlockd/clvm: the DLM check really detects a missing
// dlm_controld; lvm.conf is changed only with update_lvm_conf=true (and every change is logged);
// monitor checks that the daemon answers, not just that a pid exists; stop refuses, naming the
// LVs, while shared LVs are still active instead of hanging until the timeout.

import { defineHandlers, type Ctx } from "../lib/ocf/runner.js";
import { defineAgent, p, type AgentDecl } from "../lib/ocf/declaration.js";
import { activeLvs, dmDevices } from "../lib/lvm/dm.js";
import { ocfIsFalse, ocfIsTrue, splitList } from "../lib/ocf/env.js";
import {
  Dlm, DLM_CONTROLD_PIDFILE, Lockctl, LVMLOCKD_PIDFILE, LVMLOCKD_SOCKET, SANLOCK_PIDFILE, Sanlock, WDMD_PIDFILE,
  daemonPid, vgLockspaces, type Lockspace, type LockdQuery,
} from "../lib/lvm/lockd.js";
import { removeState } from "../lib/system/state-file.js";
import { identify, procComm, signalSame, stillRunning } from "../lib/system/proc.js";
import { Lvm, LVM_ENV, lvmError, retryTransient, vgNameError } from "../lib/lvm/commands.js";
import { LvmConfig, setLvmConf } from "../lib/lvm/conf.js";
import { OCF, fail } from "../lib/ocf/codes.js";
import { describeFailure, sleepMs } from "../lib/system/run.js";

const SYSLOG = ["emerg", "alert", "crit", "err", "error", "warning", "warn", "notice", "info", "debug"] as const;

const params = {
  lock_type: p.select(["dlm", "sanlock", "clvmd"] as const, {
    shortdesc: "Lock manager",
    longdesc: `dlm: lvmlockd over the kernel DLM (needs dlm_controld, e.g. an ocf:pacemaker:controld clone ordered before this one).
sanlock: lvmlockd over sanlock leases on the shared disks (needs the sanlock and wdmd daemons and a host_id per node).
clvmd: LVM 2.02's clvmd (locking_type = 3); only where the clvmd binary exists, LVM 2.03 has none.`,
    default: "dlm",
  }),
  pidfile: p.string({
    shortdesc: "lvmlockd pid file",
    longdesc: `Kept for compatibility with ocf:heartbeat:lvmlockd. LVM commands look for lvmlockd through ${LVMLOCKD_PIDFILE} (compiled in): any other path leaves them running without lvmlockd, so only that value is accepted.`,
    default: LVMLOCKD_PIDFILE,
  }),
  socket_path: p.string({
    shortdesc: "lvmlockd socket",
    longdesc: `Kept for compatibility with ocf:heartbeat:lvmlockd. lvmlockctl and LVM commands connect to ${LVMLOCKD_SOCKET} (compiled in), so only that value is accepted.`,
    default: LVMLOCKD_SOCKET,
  }),
  syslog_priority: p.select(SYSLOG, { shortdesc: "lvmlockd syslog priority", longdesc: "lvmlockd logs to syslog from this priority up (lvmlockd -S).", default: "warning" }),
  adopt: p.integer({
    shortdesc: "Adopt locks of a previous lvmlockd",
    longdesc: "1: lvmlockd adopts the locks a previous instance left (lvmlockd -A 1), so a restart after a crash does not lose LV locks. 0: do not.",
    default: 1,
    min: 0,
    max: 1,
  }),
  host_id: p.integer({
    shortdesc: "sanlock host id of this node (1-2000)",
    longdesc: `lock_type=sanlock only. Unique per node. Empty: local/host_id from lvmlocal.conf, else the corosync node id (CRM_meta_on_node_uuid or crm_node -i). When lvmlocal.conf sets a different value, LVM commands use that one, so validation reports the conflict.`,
    min: 1,
    max: 2000,
  }),
  activate_vgs: p.string({
    shortdesc: "Shared VGs whose lockspaces start with the daemon",
    longdesc: `Space separated names of shared VGs: start lock-starts them (vgchange --lockstart) and monitor checks their lockspaces. Empty: none (LVM-activate starts the lockspace of its own VG).
For ocf:heartbeat:clvm compatibility a boolean is accepted: true starts every shared VG (lock_type=clvmd: vgchange -aay), false none.`,
    default: "",
  }),
  update_lvm_conf: p.boolean({
    shortdesc: "Fix lvm.conf/lvmlocal.conf at start",
    longdesc: "true: start sets global/use_lvmlockd = 1 in lvm.conf and (sanlock) local/host_id in lvmlocal.conf when they differ, and logs each change. false: start fails with the exact setting to fix (validate-all at OCF_CHECK_LEVEL=10 reports it too).",
    default: false,
  }),
  with_cmirrord: p.boolean({ shortdesc: "Start cmirrord (lock_type=clvmd)", longdesc: "ocf:heartbeat:clvm compatibility: also run cmirrord, the cluster mirror log daemon. lock_type=clvmd only.", default: false }),
  daemon_options: p.string({ shortdesc: "clvmd options (lock_type=clvmd)", longdesc: "ocf:heartbeat:clvm compatibility: options for clvmd (space separated, no shell). lock_type=clvmd only.", default: "-d0" }),
  exclusive: p.boolean({ shortdesc: "Deactivate only exclusively active VGs (lock_type=clvmd)", longdesc: "ocf:heartbeat:clvm compatibility: stop deactivates only clustered VGs with exclusively active LVs. lock_type=clvmd only.", default: false }),
};

type P = typeof params;
type C = Ctx<P>;

function declFor(name: string): AgentDecl<P> {
  return defineAgent({
    name,
    version: "1.0.0",
    shortdesc: "Cluster LVM lock manager: lvmlockd with dlm or sanlock (clvmd where it exists)",
    longdesc: `Runs lvmlockd (LVM >= 2.03) so every node sees and safely changes the LVM metadata of shared LUNs: a clone on every node, ordered after dlm (ocf:pacemaker:controld) and before ocf:tsstor:LVM-activate.

start checks the lock manager (dlm_controld answering, or sanlock and wdmd), lvm.conf (use_lvmlockd = 1) and lvmlocal.conf (host_id), starts lvmlockd, waits until it answers lvmlockctl, and lock-starts the VGs in activate_vgs. monitor: the daemon is alive and answering, and those lockspaces exist. stop: refuses (exit 1, naming the LVs) while LVs of shared VGs are active, else stops the lockspaces, waits for them to leave, and ends lvmlockd (TERM, then KILL within the timeout).

Drop-in for ocf:heartbeat:lvmlockd (same parameters) and ocf:heartbeat:clvm (lock_type=clvmd on LVM 2.02).`,
    params,
    actions: [
      { name: "start", timeout: 90 },
      { name: "stop", timeout: 90 },
      { name: "monitor", timeout: 90, interval: 30, depth: 0 },
      { name: "validate-all", timeout: 20 },
      { name: "meta-data", timeout: 10 },
    ],
  });
}

// ---- helpers ----------------------------------------------------------------------------------

/** activate_vgs: a VG list, or the legacy boolean ("all" / "none"). */
function vgList(v: string): { all: boolean; vgs: string[] } {
  const t = v.trim();
  if (t !== "" && ocfIsTrue(t)) return { all: true, vgs: [] };
  if (t !== "" && ocfIsFalse(t)) return { all: false, vgs: [] };
  return { all: false, vgs: splitList(t) };
}

function lockdPid(): number | undefined {
  return daemonPid(LVMLOCKD_PIDFILE, "lvmlockd");
}

/** The sanlock host_id this node will use and where it comes from. */
function hostId(ctx: C, conf: LvmConfig): { id?: number; from: string } {
  const local = conf.get("local/host_id");
  if (ctx.params.host_id !== undefined) return { id: ctx.params.host_id, from: "parameter host_id" };
  if (local && typeof local.value === "number" && local.value > 0) return { id: local.value, from: `${LvmConfig.where(local)}` };
  const uuid = ctx.env.meta.onNodeUuid;
  if (uuid && /^\d+$/.test(uuid)) return { id: Number(uuid), from: "the corosync node id (CRM_meta_on_node_uuid)" };
  const r = ctx.run.run("crm_node", ["-i"], { timeoutMs: 10000 });
  const m = /^\s*(\d+)\s*$/.exec(r.stdout);
  if (r.code === 0 && m) return { id: Number(m[1]), from: "the corosync node id (crm_node -i)" };
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
function checkConf(ctx: C): ConfPlan {
  const dir = ctx.env.paths.lvm;
  const conf = new LvmConfig(dir);
  const plan: ConfPlan = { problems: [...conf.errors], fixes: [] };
  const mode = ctx.params.lock_type;
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
    const h = hostId(ctx, conf);
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

function need(ctx: C, cmd: string, why: string): void {
  if (!ctx.run.which(cmd)) throw fail.installed(`${cmd} not found: ${why}`);
}

/** Local prerequisites, for validate-all level 10 and start. Throws with the exact problem. */
function checkLocal(ctx: C): ConfPlan {
  const mode = ctx.params.lock_type;
  if (mode === "clvmd") {
    need(ctx, "clvmd", "lock_type=clvmd needs LVM 2.02's clvmd (LVM >= 2.03 has none: use lock_type=dlm or sanlock with lvmlockd)");
    if (ctx.params.with_cmirrord) need(ctx, "cmirrord", "with_cmirrord=true");
    need(ctx, "vgchange", "install lvm2");
  } else {
    need(ctx, "lvmlockd", "install lvm2-lockd");
    need(ctx, "lvmlockctl", "install lvm2-lockd");
    need(ctx, "vgchange", "install lvm2");
    if (mode === "dlm") need(ctx, "dlm_tool", "install dlm-controld");
    if (mode === "sanlock") need(ctx, "sanlock", "install sanlock");
  }
  const plan = checkConf(ctx);
  const unfixable = plan.problems.filter((pr) => !plan.fixes.some((f) => f.problem === pr));
  if (unfixable.length) throw fail.configured(unfixable.join("; "));
  if (plan.fixes.length) {
    if (!ctx.params.update_lvm_conf) throw fail.configured(`${plan.problems.join("; ")} (fix it, or set update_lvm_conf=true)`);
    if (ctx.action === "validate-all") for (const f of plan.fixes) ctx.log.info(`start will set ${f.section}/${f.key} = ${f.value} in ${f.file} (update_lvm_conf=true): ${f.problem}`);
  }
  if (mode === "dlm") {
    const pid = daemonPid(DLM_CONTROLD_PIDFILE, "dlm_controld");
    if (pid === undefined) throw fail.generic(`dlm_controld is not running (no live process in ${DLM_CONTROLD_PIDFILE}): run an ocf:pacemaker:controld clone and order it before this one`);
    const st = new Dlm(ctx.run).status();
    if (!st.ok) throw fail.generic(`dlm_controld (pid ${pid}) does not answer dlm_tool status: ${(st.r.stdout + st.r.stderr).trim().split("\n")[0] || describeFailure(st.r)}`);
  } else if (mode === "sanlock") {
    if (daemonPid(SANLOCK_PIDFILE, "sanlock") === undefined) throw fail.generic(`the sanlock daemon is not running (no live process in ${SANLOCK_PIDFILE})`);
    if (daemonPid(WDMD_PIDFILE, "wdmd") === undefined) throw fail.generic(`wdmd is not running (no live process in ${WDMD_PIDFILE}): sanlock needs it to guard leases with the watchdog`);
    const st = new Sanlock(ctx.run).status();
    if (!st.ok) throw fail.generic(`sanlock does not answer "sanlock client status": ${describeFailure(st.r)}`);
  }
  return plan;
}

/** Wait until lvmlockd answers, within `ms`; the last answer either way. */
function waitAnswer(ctx: C, ms: number): LockdQuery {
  const until = ctx.budget.elapsedMs() + ms;
  for (;;) {
    const q = new Lockctl(ctx.run).info(Math.max(1000, Math.min(10000, until - ctx.budget.elapsedMs())));
    if (q.lockspaces) return q;
    if (ctx.budget.elapsedMs() + 100 >= until || ctx.budget.remainingMs() < 300) return q;
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

function killWait(ctx: C, pid: number, comm: string): void {
  // the daemon as found now: its pid freed and reused meanwhile is never signalled
  const id = procComm(pid) === comm ? identify(pid) : undefined;
  if (!id || !signalSame(id, "SIGTERM")) return;
  const gone = () => !stillRunning(id);
  const termUntil = ctx.budget.elapsedMs() + ctx.budget.remainingMs() * 0.6;
  while (!gone() && ctx.budget.elapsedMs() < termUntil) sleepMs(50);
  if (gone()) return;
  ctx.log.warn(`${comm} (pid ${pid}) ignored SIGTERM; sending SIGKILL`);
  signalSame(id, "SIGKILL");
  // SIGKILL cannot be refused; the exit may still need a moment on a loaded node, taken from the
  // budget's margin (at least 500 ms) when the budget is spent
  const killUntil = ctx.budget.elapsedMs() + Math.max(300, ctx.budget.remainingMs());
  while (!gone() && ctx.budget.elapsedMs() < killUntil) sleepMs(20);
  if (!gone()) throw fail.generic(`${comm} (pid ${pid}) did not exit after SIGKILL`);
}

// ---- lvmlockd ---------------------------------------------------------------------------------

function lockdStart(ctx: C): number | void {
  const plan = checkLocal(ctx);
  for (const f of plan.fixes) {
    const changed = setLvmConf(f.file, f.section, f.key, f.value);
    if (changed) ctx.log.info(`changed ${changed} (update_lvm_conf=true)`);
  }
  let pid = lockdPid();
  if (pid === undefined) {
    const args = ["-p", ctx.params.pidfile, "-s", ctx.params.socket_path, "-S", ctx.params.syslog_priority, "-A", String(ctx.params.adopt), "-g", ctx.params.lock_type];
    if (ctx.params.lock_type === "sanlock" && plan.hostId !== undefined) args.push("-i", String(plan.hostId));
    ctx.log.info(`starting lvmlockd ${args.join(" ")}`);
    const r = ctx.run.run("lvmlockd", args);
    pid = lockdPid();
    // a start killed earlier may have left a daemon that came up meanwhile ("Already running?")
    if (r.code !== 0 && pid === undefined) throw fail.generic(`lvmlockd failed to start: ${describeFailure(r)}`);
  } else {
    ctx.log.info(`lvmlockd already running (pid ${pid})`);
  }
  const q = waitAnswer(ctx, ctx.budget.remainingMs() * 0.5);
  if (!q.lockspaces) throw fail.generic(`lvmlockd${pid ? ` (pid ${pid})` : ""} does not answer on ${LVMLOCKD_SOCKET}: ${describeFailure(q.r)}`);
  const { all, vgs } = vgList(ctx.params.activate_vgs);
  const lvm = new Lvm(ctx.run);
  for (const vg of all ? [undefined] : vgs) {
    const r = retryTransient(ctx.budget, () => (vg === undefined ? lvm.vgchange(["--lockstart"]) : lvm.lockStart(vg)), (x) => ctx.log.info(`retrying lock start: ${lvmError(x)}`));
    if (r.code !== 0) throw fail.generic(`lock start of ${vg ?? "all shared VGs"} failed: ${lvmError(r)}`);
  }
  return lockdMonitor(ctx);
}

function lockdMonitor(ctx: C): number {
  const pid = lockdPid();
  if (pid === undefined) return OCF.NOT_RUNNING;
  const q = new Lockctl(ctx.run).info(Math.min(20000, ctx.budget.remainingMs()));
  if (!q.lockspaces) throw fail.generic(`lvmlockd (pid ${pid}) does not answer lvmlockctl --info: ${describeFailure(q.r)}`);
  const started = new Set(vgLockspaces(q.lockspaces).map((l) => l.vg));
  const missing = vgList(ctx.params.activate_vgs).vgs.filter((v) => !started.has(v));
  if (missing.length) throw fail.generic(`lockspace not started for ${missing.join(", ")} (vgchange --lockstart)`);
  return OCF.SUCCESS;
}

function lockdStop(ctx: C): number | void {
  const pid = lockdPid();
  if (pid === undefined) {
    removeState(LVMLOCKD_PIDFILE);
    return;
  }
  const lockctl = new Lockctl(ctx.run);
  const q = lockctl.info(Math.min(20000, ctx.budget.remainingMs() * 0.3));
  if (q.lockspaces) {
    const active = activeInShared(q.lockspaces);
    if (active.length) {
      throw fail.generic(`LVs still active in shared VGs: ${active.join(", ")}; deactivate them first (stop their LVM-activate resources, ordered after this clone): stopping lvmlockd now would hang or lose their locks`);
    }
    if (q.lockspaces.length) {
      // Per VG first: vgchange --lockstop also deactivates sanlock's lease LV and refuses
      // clearly instead of waiting; lvmlockctl then ends what is left (the global lockspace).
      const lvm = new Lvm(ctx.run);
      for (const l of vgLockspaces(q.lockspaces)) {
        const r = lvm.lockStop(l.vg);
        if (r.code !== 0) ctx.log.warn(`vgchange --lockstop ${l.vg}: ${lvmError(r)}`);
      }
      const rest = lockctl.info(5000).lockspaces ?? q.lockspaces;
      if (rest.length) {
        ctx.log.info(`stopping lockspaces ${rest.map((l) => l.name).join(" ")}`);
        const r = lockctl.stopLockspaces(ctx.budget.remainingMs() * 0.4);
        if (r.code !== 0) throw fail.generic(`lvmlockctl --stop-lockspaces failed: ${describeFailure(r)}`);
      }
      // wait for them to leave (lvmlockd, and the kernel DLM for lock_type=dlm)
      const until = ctx.budget.elapsedMs() + ctx.budget.remainingMs() * 0.4;
      let askDlm = ctx.params.lock_type === "dlm" && ctx.run.which("dlm_tool") !== undefined;
      for (;;) {
        const left = lockctl.info(5000).lockspaces ?? [];
        // The kernel DLM's view is a cross-check only: a dlm_tool that does not answer within a
        // slice must not eat the time lvmlockd's own exit needs.
        let dlmLeft: string[] = [];
        if (askDlm) {
          const d = new Dlm(ctx.run).lockspaces(Math.min(5000, ctx.budget.remainingMs() * 0.2));
          if (d.names) dlmLeft = d.names.filter((n) => n.startsWith("lvm_"));
          else {
            ctx.log.warn(`dlm_tool ls does not answer (${describeFailure(d.r)}); waiting on lvmlockd's view of its lockspaces only`);
            askDlm = false;
          }
        }
        if (!left.length && !dlmLeft.length) break;
        if (ctx.budget.elapsedMs() >= until) {
          throw fail.generic(`lockspaces did not leave: ${[...left.map((l) => l.name), ...dlmLeft.map((n) => `${n} (dlm)`)].join(" ")}`);
        }
        sleepMs(200);
      }
    }
  } else {
    ctx.log.warn(`lvmlockd (pid ${pid}) does not answer (${describeFailure(q.r)}); ending it without stopping lockspaces`);
  }
  killWait(ctx, pid, "lvmlockd");
  removeState(LVMLOCKD_PIDFILE);
}

// ---- legacy clvmd (LVM 2.02) ------------------------------------------------------------------

const CLVMD_PIDFILE = "/run/clvmd.pid";
const CMIRRORD_PIDFILE = "/run/cmirrord.pid";

function clvmdStart(ctx: C): number | void {
  checkLocal(ctx);
  const timeoutS = Math.max(1, Math.floor(ctx.budget.totalMs / 1000));
  if (ctx.params.with_cmirrord && daemonPid(CMIRRORD_PIDFILE, "cmirrord") === undefined) ctx.run.must("cmirrord", []);
  if (daemonPid(CLVMD_PIDFILE, "clvmd") === undefined) {
    ctx.run.must("clvmd", [`-T${timeoutS}`, ...splitList(ctx.params.daemon_options)]);
    ctx.run.run("vgscan", [], { env: LVM_ENV });
  }
  if (vgList(ctx.params.activate_vgs).all || ctx.params.activate_vgs.trim() === "") {
    const r = new Lvm(ctx.run).vgchange(["-aay"]);
    if (r.code !== 0) throw fail.generic(`vgchange -aay failed: ${lvmError(r)}`);
  }
  return clvmdMonitor(ctx);
}

function clvmdMonitor(ctx: C): number {
  const c = daemonPid(CLVMD_PIDFILE, "clvmd");
  const m = ctx.params.with_cmirrord ? daemonPid(CMIRRORD_PIDFILE, "cmirrord") : c;
  if (c === undefined && m === undefined) return OCF.NOT_RUNNING;
  if (c === undefined || m === undefined) throw fail.generic(`${c === undefined ? "clvmd" : "cmirrord"} is not running`);
  return OCF.SUCCESS;
}

function clvmdStop(ctx: C): number | void {
  const c = daemonPid(CLVMD_PIDFILE, "clvmd");
  if (c !== undefined) {
    const lvm = new Lvm(ctx.run);
    const clustered = lvm.clusteredVgs().names;
    if (clustered.length) {
      const d = lvm.vgchange(["-anl", ...clustered]);
      if (d.code !== 0) throw fail.generic(`failed to deactivate clustered VGs ${clustered.join(" ")}: ${lvmError(d)}`);
    }
    killWait(ctx, c, "clvmd");
  }
  const m = daemonPid(CMIRRORD_PIDFILE, "cmirrord");
  if (m !== undefined && ctx.params.with_cmirrord) killWait(ctx, m, "cmirrord");
}

// ---- handlers ---------------------------------------------------------------------------------

function handlersFor(decl: AgentDecl<P>) {
  return defineHandlers(decl, {
    validate(ctx) {
      const pr = ctx.params;
      if (pr.pidfile !== LVMLOCKD_PIDFILE) {
        throw fail.configured(`pidfile=${pr.pidfile}: LVM commands find lvmlockd only through ${LVMLOCKD_PIDFILE} (compiled in) and would run without it; leave pidfile unset`);
      }
      if (pr.socket_path !== LVMLOCKD_SOCKET) {
        throw fail.configured(`socket_path=${pr.socket_path}: lvmlockctl and LVM commands connect to ${LVMLOCKD_SOCKET} (compiled in); leave socket_path unset`);
      }
      const { vgs } = vgList(pr.activate_vgs);
      for (const v of vgs) {
        const e = vgNameError(v);
        if (e) throw fail.configured(`parameter activate_vgs: ${v} ${e}`);
      }
      if (pr.lock_type !== "clvmd") {
        const legacy = [pr.with_cmirrord && "with_cmirrord", pr.exclusive && "exclusive", pr.daemon_options !== "-d0" && "daemon_options"].filter(Boolean);
        if (legacy.length) throw fail.configured(`parameter ${legacy.join(", ")} applies to lock_type=clvmd only (lock_type=${pr.lock_type})`);
      }
      if (ctx.level >= 10) checkLocal(ctx);
    },
    start(ctx) {
      if (ctx.env.meta.isClone && ctx.env.meta.globallyUnique) throw fail.configured("a lock manager clone must not be globally-unique (one instance per node)");
      return ctx.lock("lvmlockd", () => (ctx.params.lock_type === "clvmd" ? clvmdStart(ctx) : lockdStart(ctx)));
    },
    stop(ctx) {
      return ctx.lock("lvmlockd", () => (ctx.params.lock_type === "clvmd" ? clvmdStop(ctx) : lockdStop(ctx)));
    },
    monitor(ctx) {
      if (ctx.params.lock_type === "clvmd") return ctx.run.which("clvmd") ? clvmdMonitor(ctx) : OCF.NOT_RUNNING;
      return lockdMonitor(ctx);
    },
  });
}

export const decl = declFor("clvm");
export const agent = handlersFor(decl);
/** The same agent under the heartbeat name it replaces. */
export const lvmlockdAgent = handlersFor(declFor("lvmlockd"));
