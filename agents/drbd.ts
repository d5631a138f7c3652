// ocf:tsstor:drbd — a DRBD resource as a promotable clone; drop-in for ocf:linbit:drbd
// (same parameters and defaults), for DRBD 9 and 8.4.
//
// State: one drbdsetup call (lib/drbd/tools.ts) parsed into one model (lib/drbd/state.ts); promotion
// scores from upstream's table (lib/drbd/score.ts) through ctx.promotion, which skips unchanged
// values. Fencing stays DRBD's (fence-peer handlers or DRBD quorum), see docs/drbd.md.
// The start and stop state machines are lib/drbd/resource.ts.

import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { defineHandlers, type Ctx } from "../lib/ocf/runner.js";
import { defineAgent, p } from "../lib/ocf/declaration.js";
import { locate } from "../lib/cluster/crm-resource.js";
import { Drbd, DRBD_RC, drbdError } from "../lib/drbd/tools.js";
import { bringUp, pause, stopState, takeDown, worse } from "../lib/drbd/resource.js";
import { DEFAULT_ADJUST, decideScore, degradedReason, parseAdjust, statusFlags, unexpectedPrimary, type Adjust, type PeerPrimaryPolicy } from "../lib/drbd/score.js";
import { describeState, parseVersionString, versionCode, type DrbdState, type KernelVersion } from "../lib/drbd/state.js";
import { ocfIsFalse, ocfIsTrue } from "../lib/ocf/env.js";
import { OCF, fail } from "../lib/ocf/codes.js";
import { retryLoop } from "../lib/ocf/budget.js";

// ocf:linbit:drbd accepts exactly these characters in resource and file names; a leading "-"
// would read as an option to drbdadm, so it is refused too.
const SAFE_NAME = /^[-%+./0-9:=@A-Z_a-z]+$/;
const safeName = (v: string) => (!SAFE_NAME.test(v) ? "must only contain [-%+./0-9:=@A-Z_a-z]" : v.startsWith("-") ? 'must not start with "-"' : undefined);
const versionParam = (v: string) => (parseVersionString(v) === undefined ? `must be a version x.y.z, got "${v.slice(0, 20)}"` : undefined);

export const decl = defineAgent({
  name: "drbd",
  version: "1.0.0",
  shortdesc: "Manages a DRBD device as a promotable clone",
  longdesc: `Manages a DRBD resource (DRBD 9 or 8.4) as a promotable clone: Promoted is DRBD Primary,
Unpromoted is Secondary. A drop-in replacement for ocf:linbit:drbd with the same parameters.

Run it as a promotable clone with notify=true, promoted-max=1 (2 only with allow-two-primaries in
the DRBD configuration), promoted-node-max=1 and clone-node-max=1.

To avoid data divergence, enable either DRBD quorum ("quorum majority" and "on-no-quorum
io-error", with a third node or a diskless tiebreaker) or fencing in both DRBD and Pacemaker
("fencing resource-and-stonith" with the handlers fence-peer "/usr/lib/drbd/crm-fence-peer.9.sh"
and unfence-peer "/usr/lib/drbd/crm-unfence-peer.9.sh", plus STONITH). This agent alone cannot.`,
  params: {
    drbd_resource: p.string({
      shortdesc: "DRBD resource name",
      longdesc: "The name of the DRBD resource from the drbd.conf file.",
      required: true,
      uniqueGroup: "drbd_resource",
      validate: safeName,
    }),
    drbdconf: p.string({
      shortdesc: "Path to drbd.conf",
      longdesc: "Full path to the drbd.conf file.",
      default: "/etc/drbd.conf",
      reloadable: true,
      validate: safeName,
    }),
    adjust_master_score: p.string({
      shortdesc: "promotion score adjustments",
      longdesc: `Space separated list of four promotion scores for:
 - only access to 'consistent' data
 - only remote access to 'uptodate' data
 - currently Secondary, local access to 'uptodate' data, but remote is unknown
 - local access to 'uptodate' data, and currently Primary or remote is known
Values must be non-negative and non-decreasing. A value of 0 removes the score.
Intentionally diskless nodes (diskless clients) use the 3rd or 4th value minus one.`,
      default: DEFAULT_ADJUST,
      reloadable: true,
      validate: (v) => {
        const a = parseAdjust(v);
        return typeof a === "string" ? a : undefined;
      },
    }),
    stop_outdates_secondary: p.boolean({
      shortdesc: "outdate a secondary on stop",
      longdesc: `When a Secondary is stopped while the notify variables name a Primary on another node, mark
the local data Outdated in the DRBD meta data. Depends on correct notify information; leave off
and configure DRBD fencing instead.`,
      default: false,
      reloadable: true,
    }),
    ignore_missing_notifications: p.boolean({
      shortdesc: "ignore missing notify=true",
      longdesc: "Allow running without notify=true on the clone (not recommended).",
      default: false,
      reloadable: true,
    }),
    wfc_timeout: p.integer({
      shortdesc: "wait for connections with timeout",
      longdesc: `Wait at most this many seconds for the connection(s) to be established after bringing them
up during start; 0 does not wait.`,
      default: 5,
      min: 0,
      reloadable: true,
    }),
    remove_master_score_if_peer_primary: p.string({
      shortdesc: "remove the promotion score while connected to a Primary peer",
      longdesc: `true: remove (never assign) the promotion score while DRBD is connected to a healthy Primary
peer. "unexpected": only when Pacemaker does not know about that Primary (crm_resource --locate).
false: ignore the peer role for scores.`,
      default: "false",
      reloadable: true,
      validate: (v) => (v === "unexpected" || ocfIsTrue(v) || ocfIsFalse(v) ? undefined : `must be true, false or unexpected, got "${v.slice(0, 20)}"`),
    }),
    fail_promote_early_if_peer_primary: p.boolean({
      shortdesc: "try promote only once when connected to a Primary peer",
      longdesc: "Give up a promotion after the first failed attempt while DRBD still sees a Primary peer that Pacemaker does not know about.",
      default: false,
      reloadable: true,
    }),
    unfence_if_all_uptodate: p.boolean({
      shortdesc: "call the unfence hook once fully UpToDate",
      longdesc: "When Primary and all local and peer disks are UpToDate, run 'drbdadm unfence-peer' (the unfence-peer handler) on every monitor, to clear stale fencing constraints.",
      default: false,
      reloadable: true,
    }),
    unfence_extra_args: p.string({
      shortdesc: "Extra arguments for the unfence hook",
      longdesc: "Passed to the unfence-peer handler in OCF_RESKEY_unfence_extra_args.",
      default: "--quiet --flock-required --flock-timeout 0 --unfence-only-if-owner-match",
      reloadable: true,
    }),
    require_drbd_module_version_ge: p.string({
      shortdesc: "minimum DRBD kernel module version",
      longdesc: "Fail start if the DRBD kernel module version is lower (x.y.z, inclusive). 9.0.0 requires DRBD 9.",
      default: "8.0.0",
      reloadable: true,
      validate: versionParam,
    }),
    require_drbd_module_version_lt: p.string({
      shortdesc: "DRBD kernel module version must be lower than",
      longdesc: "Fail start if the DRBD kernel module version is not lower (x.y.z, exclusive). 9.0.0 requires DRBD 8.4.",
      default: "10.0.0",
      reloadable: true,
      validate: versionParam,
    }),
    connect_only_after_promote: p.boolean({
      shortdesc: "keep disconnected until promoted",
      longdesc: "Keep this DRBD instance disconnected until it is promoted; connect with 'drbdadm adjust' after promotion (stacked setups).",
      default: false,
      reloadable: true,
    }),
    report_degraded: p.boolean({
      shortdesc: "report degraded states",
      longdesc: `Return 190 (degraded) / 191 (degraded, Promoted) from monitor while a local or peer disk is not
UpToDate, a peer is not connected or quorum is lost. Pacemaker >= 2.0.5 treats these as running
but shows the operation as failed. Off by default (ocf:linbit:drbd never reports them).`,
      default: false,
      reloadable: true,
    }),
  },
  actions: [
    { name: "start", timeout: 240 },
    { name: "stop", timeout: 100 },
    { name: "promote", timeout: 90 },
    { name: "demote", timeout: 90 },
    { name: "notify", timeout: 90 },
    { name: "monitor", timeout: 20, interval: 20, role: "Unpromoted" },
    { name: "monitor", timeout: 20, interval: 10, role: "Promoted" },
    { name: "reload", timeout: 30 },
    { name: "reload-agent", timeout: 30 },
    { name: "validate-all", timeout: 30 },
    { name: "meta-data", timeout: 5 },
  ],
});

type C = Ctx<typeof decl.params>;

function drbdOf(ctx: C): Drbd {
  return new Drbd({ runner: ctx.run, resource: ctx.params.drbd_resource, conf: ctx.params.drbdconf, procRoot: ctx.env.paths.proc });
}

const sameNode = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function peerPolicy(ctx: C): PeerPrimaryPolicy {
  const v = ctx.params.remove_master_score_if_peer_primary;
  return v === "unexpected" ? "unexpected" : ocfIsTrue(v) ? "true" : "false";
}

function promotedMax(ctx: C): number {
  return ctx.env.meta.promotedMax ?? 1;
}

/** Does Pacemaker know a Promoted instance on another node? (crm_resource --locate) */
function pacemakerKnowsPromoted(ctx: C): boolean {
  return locate(ctx.run, ctx.env.instance).some((l) => l.promoted && !sameNode(l.node, ctx.nodeName));
}

/** Recompute and write the promotion score from a state (skipped by ctx.promotion when unchanged). */
function updateScore(ctx: C, drbd: Drbd, st: DrbdState): void {
  const d = decideScore(st, {
    adjust: parseAdjust(ctx.params.adjust_master_score) as Adjust,
    removeIfPeerPrimary: peerPolicy(ctx),
    unfenceIfAllUpToDate: ctx.params.unfence_if_all_uptodate,
    promotedMax: promotedMax(ctx),
    pacemakerKnowsPromoted: () => pacemakerKnowsPromoted(ctx),
  });
  ctx.log.debug(`${describeState(st)}: score ${d.kind === "set" ? d.score : d.kind} (${d.row})`);
  try {
    if (d.kind === "set") ctx.promotion.set(d.score);
    else if (d.kind === "delete" && ctx.promotion.remove()) ctx.log.info(`promotion score removed: ${d.row}`);
  } catch (e) {
    // As upstream: a failing attrd never fails the action (a failed monitor would restart DRBD).
    ctx.log.error(e instanceof Error ? e.message : String(e));
  }
  if (d.kind === "set" && d.unfence) {
    const r = drbd.unfencePeer(ctx.params.unfence_extra_args);
    ctx.log.debug(`unfence-peer exit code ${r.code}`);
  }
}

/** DRBD 8.4's peer (drbdadm --peer): the first node named in the notify lists that is not us. */
function peer84(ctx: C, k: KernelVersion): string | undefined {
  if (k.major >= 9) return undefined;
  const n = ctx.env.notify;
  return [...n.start.uname, ...n.promote.uname, ...n.promoted.uname, ...n.unpromoted.uname, ...n.demote.uname].find((u) => !sameNode(u, ctx.nodeName));
}

/**
 * Clone and notify meta checks (start and validate-all >= 10; never level 0: pcs passes no meta).
 * clone-max <= 2 is only required for DRBD 8.4 (one peer) or two Promoted instances.
 */
function cloneChecks(ctx: C, v9: boolean): void {
  const m = ctx.env.meta;
  const expect = (what: string, val: number | undefined, ok: boolean, want: string) => {
    if (!ok) throw fail.configured(`meta parameter misconfigured, expected ${what} ${want}, but found ${val ?? "unset"}`);
  };
  const cnm = m.cloneNodeMax ?? 1;
  const pnm = m.promotedNodeMax ?? 1;
  const pm = m.promotedMax ?? 1;
  expect("clone-node-max", cnm, cnm === 1, "= 1");
  expect("promoted-node-max", pnm, pnm === 1, "= 1");
  expect("promoted-max", pm, pm <= 2, "<= 2");
  if ((!v9 || pm === 2) && m.cloneMax !== undefined) expect("clone-max", m.cloneMax, m.cloneMax <= 2, "<= 2");
  if (!ctx.params.ignore_missing_notifications && !m.notify) {
    throw fail.configured("notify must be enabled on the clone (notify=true), or set ignore_missing_notifications=true");
  }
}

function checkModuleVersion(ctx: C, k: KernelVersion): void {
  const code = versionCode(k);
  const ge = parseVersionString(ctx.params.require_drbd_module_version_ge)!;
  const lt = parseVersionString(ctx.params.require_drbd_module_version_lt)!;
  if (code < ge) throw fail.installed(`required DRBD kernel module version >= ${ctx.params.require_drbd_module_version_ge}, but found ${k.text}`);
  if (code >= lt) throw fail.installed(`required DRBD kernel module version < ${ctx.params.require_drbd_module_version_lt}, but found ${k.text}`);
}

function confReadable(ctx: C): void {
  try {
    accessSync(ctx.params.drbdconf, constants.R_OK);
  } catch {
    throw fail.installed(`configuration file ${ctx.params.drbdconf} does not exist or is not readable`);
  }
}

/** The device paths of the resource, or fail 5: the configuration here does not define it. */
function devicesOrFail(ctx: C, drbd: Drbd): string[] {
  const d = drbd.shDev();
  if ("devices" in d) return d.devices;
  throw fail.installed(`DRBD resource ${ctx.params.drbd_resource} not found in configuration file ${ctx.params.drbdconf}: ${d.error}`);
}

/** Ensure the module is loaded (start only) and acceptable; returns its version. */
function loadedModule(ctx: C, drbd: Drbd): KernelVersion {
  let k = drbd.kernel();
  if (!k) {
    const r = drbd.loadModule();
    if (r.code !== 0) throw fail.installed(`Cannot load the drbd module: ${drbdError(r)}`);
    k = drbd.kernel();
    if (!k) throw fail.installed(`drbd module loaded but ${join(ctx.env.paths.proc, "drbd")} is missing or unreadable`);
    ctx.log.info(`drbd module ${k.text} loaded`);
  }
  checkModuleVersion(ctx, k);
  return k;
}

function monitor(ctx: C): number {
  const drbd = drbdOf(ctx);
  const st = drbd.state();
  const rc = !st.configured ? OCF.NOT_RUNNING : st.role === "Primary" ? OCF.RUNNING_PROMOTED : OCF.SUCCESS;
  // A probe that found nothing must not touch scores (Pacemaker asks every node).
  if (!(rc === OCF.NOT_RUNNING && ctx.probe)) updateScore(ctx, drbd, st);
  if (ctx.params.report_degraded && rc !== OCF.NOT_RUNNING) {
    const why = degradedReason(st);
    if (why) {
      ctx.log.warn(`degraded: ${why}`);
      return rc === OCF.RUNNING_PROMOTED ? OCF.DEGRADED_PROMOTED : OCF.DEGRADED;
    }
  }
  return rc;
}

function start(ctx: C): number {
  const drbd = drbdOf(ctx);
  cloneChecks(ctx, true);
  confReadable(ctx);
  const k = loadedModule(ctx, drbd);
  const v9 = k.major >= 9;
  if (!v9) cloneChecks(ctx, false);
  const devices = devicesOrFail(ctx, drbd);
  if (promotedMax(ctx) > 1 && !drbd.allowsTwoPrimaries()) {
    throw fail.configured(`promoted-max > 1, but DRBD resource ${ctx.params.drbd_resource} does not allow-two-primaries`);
  }
  bringUp(ctx, drbd, k, devices, { connect: !ctx.params.connect_only_after_promote, peer: peer84(ctx, k), wfcTimeout: ctx.params.wfc_timeout });
  const st = drbd.state(k);
  ctx.log.info(`started: ${describeState(st)}`);
  updateScore(ctx, drbd, st);
  return OCF.SUCCESS;
}

/** stop_outdates_secondary: outdate ourselves if the notify data names a Primary elsewhere. */
function maybeOutdateSelf(ctx: C, drbd: Drbd, st: DrbdState): void {
  if (!ctx.params.stop_outdates_secondary) return;
  const host = ctx.env.notify.promoted.uname.find((u) => !sameNode(u, ctx.nodeName));
  if (!host) return;
  // Post-notification for the stop of that very host: the promoted list is stale.
  if (ctx.env.notify.stop.uname.some((u) => sameNode(u, host))) return;
  if (st.role === "Primary") {
    ctx.log.error(`resource internal SPLIT BRAIN: both ${ctx.nodeName} and ${host} are Primary for ${ctx.params.drbd_resource}, but the replication link is down!`);
    return;
  }
  ctx.log.info(`outdating ${ctx.params.drbd_resource}: according to the notify data, ${host} is still Primary`);
  const r = drbd.outdate();
  if (r.code !== 0) ctx.log.warn(`outdate failed: ${drbdError(r)}`);
  ctx.promotion.remove();
}

function stop(ctx: C): number {
  const drbd = drbdOf(ctx);
  const k = drbd.kernel();
  if (k) {
    takeDown(ctx, drbd, k);
    maybeOutdateSelf(ctx, drbd, stopState(ctx, drbd, k));
  }
  // Old scores must not linger: they confuse the scheduler when the node is put in standby.
  ctx.promotion.forget();
  try {
    ctx.promotion.remove();
  } catch (e) {
    ctx.log.error(e instanceof Error ? e.message : String(e));
  }
  return OCF.SUCCESS;
}

function promote(ctx: C): number {
  const drbd = drbdOf(ctx);
  let reason = "";
  const late = () => fail.generic(reason || "promote did not complete in time");
  const promoted = retryLoop(ctx.budget, () => {
    for (let attempt = 0; !ctx.budget.expired(); attempt++) {
      const k = drbd.kernel();
      const st = drbd.state(k);
      if (!st.configured) {
        reason = "cannot promote a resource that was not started";
        break;
      }
      if (st.role === "Primary") {
        if (ctx.params.connect_only_after_promote && k) drbd.adjust({ peer: peer84(ctx, k), verbose: true });
        updateScore(ctx, drbd, st);
        return true;
      }
      // One attempt is needed anyway (it makes DRBD check whether the peer is still alive).
      if (attempt > 0 && unexpectedPrimary(statusFlags(st), promotedMax(ctx), () => pacemakerKnowsPromoted(ctx))) {
        if (ctx.params.fail_promote_early_if_peer_primary) {
          ctx.promotion.remove();
          reason = "Peer node already/still Primary";
          break;
        }
        ctx.log.info("Peer node already/still Primary, promote will likely fail or need several attempts. Retrying anyway.");
      }
      const r = drbd.primary();
      if (r.code === DRBD_RC.NO_UP_TO_DATE) {
        // All available disks are Inconsistent/Outdated, or the peer could not be fenced: no retry helps.
        reason = `Refusing to be promoted to Primary without access to UpToDate data (${drbdError(r)})`;
        break;
      }
      if (r.code !== 0) {
        reason = worse(reason, r, "promote failed: ");
        pause(ctx);
      }
    }
    return false;
  }, late);
  if (promoted) return OCF.SUCCESS;
  // Avoid a tight recovery loop driven by Pacemaker when promotion keeps failing.
  const delay = 15000 - ctx.budget.elapsedMs();
  if (delay > 0 && !ctx.budget.expired()) {
    ctx.log.warn(`promotion failed; sleeping ${Math.round(delay / 1000)} s to prevent a tight recovery loop`);
    pause(ctx, delay);
  }
  throw late();
}

function demote(ctx: C): number {
  const drbd = drbdOf(ctx);
  let last = "";
  const late = () => fail.generic(`demote failed: ${last || "timed out"}`);
  return retryLoop(ctx.budget, () => {
    while (!ctx.budget.expired()) {
      const st = drbd.state();
      if (!st.configured) throw fail.generic("cannot demote a resource that is not running");
      if (st.role !== "Primary") {
        updateScore(ctx, drbd, st);
        return OCF.SUCCESS;
      }
      // "Device is held open by someone" (exit 11) retries until the timeout, as upstream.
      const r = drbd.secondary();
      if (r.code !== 0) {
        last = worse(last, r);
        pause(ctx);
      }
    }
    throw late();
  }, late);
}

function notify(ctx: C): number {
  const n = ctx.env.notify;
  const drbd = drbdOf(ctx);
  try {
    const k = drbd.kernel();
    if (n.operation === "start" && !ctx.params.connect_only_after_promote && k) {
      // A peer (re)starts: adjust our network side to it. Only for a resource that is up here:
      // adjust would otherwise bring it up behind Pacemaker's back.
      if (drbd.state(k).configured) drbd.adjust({ peer: peer84(ctx, k), verbose: true });
    }
    if (n.type === "post") {
      const st = drbd.state(k);
      updateScore(ctx, drbd, st);
      if (st.configured && statusFlags(st).pdskAnyUnknown) maybeOutdateSelf(ctx, drbd, st);
    }
  } catch (e) {
    // Notifications never fail: the following monitor reports the truth.
    ctx.log.warn(`notify ${n.type}-${n.operation}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return OCF.SUCCESS;
}

function reload(ctx: C): number {
  const drbd = drbdOf(ctx);
  const st = drbd.state();
  if (st.configured) {
    const r = drbd.adjust();
    if (r.code !== 0) ctx.log.warn(`adjust: ${drbdError(r)}`);
  }
  // adjust_master_score may have changed.
  updateScore(ctx, drbd, drbd.state());
  return OCF.SUCCESS;
}

/** Level 0 (before every action) is parameter syntax only; level 10 looks at this node. */
function validate(ctx: C): void {
  if (ctx.level < 10) return;
  if (!drbdOf(ctx).setupInstalled()) throw fail.installed("drbdsetup not found (install drbd-utils)");
  confReadable(ctx);
  const drbd = drbdOf(ctx);
  const k = drbd.kernel() ?? drbd.moduleFileVersion();
  if (!k) throw fail.installed("DRBD kernel module not available");
  checkModuleVersion(ctx, k);
  devicesOrFail(ctx, drbd);
  cloneChecks(ctx, k.major >= 9);
}

export const agent = defineHandlers(decl, {
  validate,
  start,
  stop,
  monitor,
  promote,
  demote,
  notify,
  reload,
  "reload-agent": reload,
});
