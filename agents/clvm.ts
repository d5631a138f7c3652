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
// The procedures are lib/lvm/lock-manager.ts.

import { defineHandlers } from "../lib/ocf/runner.js";
import { defineAgent, p, plainActions, type AgentDecl } from "../lib/ocf/declaration.js";
import { LVMLOCKD_PIDFILE, LVMLOCKD_SOCKET } from "../lib/lvm/lockd.js";
import { vgNameError } from "../lib/lvm/commands.js";
import { checkLocal, clvmdMonitor, clvmdStart, clvmdStop, lockdMonitor, lockdStart, lockdStop, vgList } from "../lib/lvm/lock-manager.js";
import { OCF, fail } from "../lib/ocf/codes.js";

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

function declFor(name: string): AgentDecl<P> {
  return defineAgent({
    name,
    version: "1.0.0",
    shortdesc: "Cluster LVM lock manager: lvmlockd with dlm or sanlock (clvmd where it exists)",
    longdesc: `Runs lvmlockd (LVM >= 2.03) so every node sees and safely changes the LVM metadata of shared LUNs: a clone on every node, ordered after dlm (ocf:pacemaker:controld) and before ocf:tsstor:LVM-activate.

start checks the lock manager (dlm_controld answering, or sanlock and wdmd), lvm.conf (use_lvmlockd = 1) and lvmlocal.conf (host_id), starts lvmlockd, waits until it answers lvmlockctl, and lock-starts the VGs in activate_vgs. monitor: the daemon is alive and answering, and those lockspaces exist. stop: refuses (exit 1, naming the LVs) while LVs of shared VGs are active, else stops the lockspaces, waits for them to leave, and ends lvmlockd (TERM, then KILL within the timeout).

Drop-in for ocf:heartbeat:lvmlockd (same parameters) and ocf:heartbeat:clvm (lock_type=clvmd on LVM 2.02).`,
    params,
    actions: plainActions({ start: 90, stop: 90, monitor: { timeout: 90, interval: 30 }, validate: 20, metaData: 10 }),
  });
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
      if (ctx.level >= 10) checkLocal(ctx, ctx.params);
    },
    start(ctx) {
      if (ctx.env.meta.isClone && ctx.env.meta.globallyUnique) throw fail.configured("a lock manager clone must not be globally-unique (one instance per node)");
      return ctx.lock("lvmlockd", () => (ctx.params.lock_type === "clvmd" ? clvmdStart(ctx, ctx.params) : lockdStart(ctx, ctx.params)));
    },
    stop(ctx) {
      return ctx.lock("lvmlockd", () => (ctx.params.lock_type === "clvmd" ? clvmdStop(ctx, ctx.params) : lockdStop(ctx, ctx.params)));
    },
    monitor(ctx) {
      if (ctx.params.lock_type === "clvmd") return ctx.run.which("clvmd") ? clvmdMonitor(ctx, ctx.params) : OCF.NOT_RUNNING;
      return lockdMonitor(ctx, ctx.params);
    },
  });
}

export const decl = declFor("clvm");
export const agent = handlersFor(decl);
/** The same agent under the heartbeat name it replaces. */
export const lvmlockdAgent = handlersFor(declFor("lvmlockd"));
