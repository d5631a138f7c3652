// The tgt implementation of both iSCSI agents (tgtd must run; it is not ours to start).
// One `tgtadm --op show --mode target` tells a monitor everything it checks.
//
// Deliberate differences from ocf:heartbeat (tgt):
// - allowed_initiators empty binds ALL (upstream binds nothing, so nobody can log in); entries
//   that are iSCSI names bind by name (-Q), addresses and ALL by address (-I).
// - tid is optional: the target's existing tid, else the lowest free one.
// - portals other than the default are added to tgtd (tgt portals are daemon-wide: they are
//   never removed, other targets may use them); the default leaves tgtd's own portals alone.
// - the CHAP secret goes to tgtd over its socket, never in tgtadm's argv (lib/iscsi/tgtadm.ts).
// - the logical unit's monitor checks its target, LUN number, path, serial and SCSI id (upstream
//   only looks for the path anywhere in the output).

import { existsSync } from "node:fs";
import { fail } from "../ocf/codes.js";
import { sleepMs } from "../system/run.js";
import { portalKey, tgtInitiatorKind } from "./syntax.js";
import type { Check, IscsiCtx, LuSpec, TargetSpec } from "./spec.js";
import { Tgt, type TgtTarget } from "./tgtadm.js";

const LOCK = "targetcli"; // one per-node lock for every iSCSI change, whatever the implementation

const tgtOf = (ctx: IscsiCtx) => new Tgt(ctx.run, ctx.log, ctx.budget, ctx.env.paths.tgtIpcSocket);

const wantAcls = (s: TargetSpec) => (s.initiators.length ? s.initiators : ["ALL"]);

function bindArgs(tid: number, who: string, op: "bind" | "unbind"): string[] {
  return ["--op", op, "--mode", "target", "--tid", String(tid), tgtInitiatorKind(who) === "name" ? "--initiator-name" : "--initiator-address", who];
}

// ---- target ------------------------------------------------------------------------------------

export function checkTarget(ctx: IscsiCtx, s: TargetSpec): Check {
  const tgt = tgtOf(ctx);
  const all = tgt.targets();
  if (!all) return { absent: true, why: "tgtd is not running" };
  const t = all.find((x) => x.iqn === s.iqn);
  if (!t) return { absent: true };
  const p: string[] = [];
  if (s.tid !== undefined && t.tid !== s.tid) p.push(`target ${s.iqn} has tid ${t.tid}, not ${s.tid}`);
  const want = wantAcls(s);
  for (const a of want) if (!t.acls.includes(a)) p.push(`initiator ${a} is not bound`);
  for (const a of t.acls) if (!want.includes(a)) p.push(`initiator ${a} is bound but not allowed`);
  if (s.chap && !t.accounts.includes(s.chap.user)) p.push(`CHAP account ${s.chap.user} is not bound`);
  for (const a of t.accounts) if (a !== s.chap?.user) p.push(`CHAP account ${a} is bound but not configured`);
  if (s.mutual && !t.outgoing.includes(s.mutual.user)) p.push(`mutual CHAP account ${s.mutual.user} is not bound (outgoing)`);
  for (const a of t.outgoing) if (a !== s.mutual?.user) p.push(`outgoing account ${a} is bound but not configured`);
  if (!s.defaultPortals) {
    const have = tgt.portals();
    for (const portal of s.portals) if (!have.includes(portalKey(portal))) p.push(`tgtd does not listen on ${portalKey(portal)}`);
  }
  return { absent: false, problems: p };
}

function freeTid(all: TgtTarget[]): number {
  const used = new Set(all.map((t) => t.tid));
  let tid = 1;
  while (used.has(tid)) tid++;
  return tid;
}

/** Create or repair; also reload-agent (ACLs and accounts change in place, sessions stay). */
export function applyTarget(ctx: IscsiCtx, s: TargetSpec): void {
  const tgt = tgtOf(ctx);
  ctx.lock(LOCK, () => {
    const all = tgt.targets();
    if (!all) throw fail.generic("tgtd is not running");
    let t = all.find((x) => x.iqn === s.iqn);
    if (!t) {
      const tid = s.tid ?? freeTid(all);
      const other = all.find((x) => x.tid === tid);
      if (other) throw fail.generic(`tid ${tid} is taken by target ${other.iqn}`);
      tgt.must(["--op", "new", "--mode", "target", "--tid", String(tid), "--targetname", s.iqn]);
      t = { tid, iqn: s.iqn, state: "", nexus: [], luns: [], accounts: [], outgoing: [], acls: [] };
    } else if (s.tid !== undefined && s.tid !== t.tid) {
      ctx.log.warn(`target ${s.iqn} already exists with tid ${t.tid}; keeping it (tid=${s.tid} is ignored)`);
    }
    const tid = String(t.tid);

    const want = wantAcls(s);
    for (const a of want) if (!t.acls.includes(a)) tgt.must(bindArgs(t.tid, a, "bind"));
    for (const a of t.acls) if (!want.includes(a)) tgt.must(bindArgs(t.tid, a, "unbind"));

    // CHAP: tgt cannot show a password, so each account is made anew with the configured one.
    // Incoming accounts bind plainly, the mutual one with --outgoing (tgt keeps one per target).
    for (const [c, bound, dir] of [[s.chap, t.accounts, []], [s.mutual, t.outgoing, ["--outgoing"]]] as const) {
      const unbind = (a: string) => tgt.must(["--mode", "account", "--op", "unbind", "--tid", tid, "--user", a, ...dir]);
      for (const a of bound) if (a !== c?.user) unbind(a);
      if (!c) continue;
      if (bound.includes(c.user)) unbind(c.user);
      if (tgt.accounts().includes(c.user)) tgt.must(["--mode", "account", "--op", "delete", "--user", c.user]);
      tgt.newAccount(c.user, c.password ?? "");
      tgt.must(["--mode", "account", "--op", "bind", "--tid", tid, "--user", c.user, ...dir]);
    }

    if (s.extra.length) {
      const now = tgt.targetParams(t.tid);
      for (const [k, v] of s.extra) if (now.get(k) !== v) tgt.must(["--op", "update", "--mode", "target", "--tid", tid, "--name", k, "--value", v]);
    }
    if (!s.defaultPortals) {
      const have = tgt.portals();
      for (const p of s.portals) if (!have.includes(portalKey(p))) tgt.must(["--mode", "portal", "--op", "new", "--param", `portal=${portalKey(p)}`]);
    }
    const c = checkTarget(ctx, s);
    const problems = c.absent ? [`target ${s.iqn} is missing after creation`] : c.problems;
    if (problems.length) throw fail.generic(problems.join("; "));
  });
}

/** Close the target's connections, drop its account, delete it; 0 when already gone. */
export function removeTarget(ctx: IscsiCtx, s: TargetSpec): void {
  const tgt = tgtOf(ctx);
  const find = () => tgt.targets()?.find((x) => x.iqn === s.iqn);
  if (!find()) return;
  ctx.lock(LOCK, () => {
    const t = find();
    if (!t) return;
    const tid = String(t.tid);
    for (const n of t.nexus) {
      for (const c of n.connections) tgt.adm(["--op", "delete", "--mode", "connection", "--tid", tid, "--sid", String(n.sid), "--cid", String(c.cid)]);
    }
    for (const [bound, dir] of [[t.accounts, []], [t.outgoing, ["--outgoing"]]] as const) {
      for (const a of bound) {
        tgt.adm(["--mode", "account", "--op", "unbind", "--tid", tid, "--user", a, ...dir]);
        if (a === s.chap?.user || a === s.mutual?.user) tgt.adm(["--mode", "account", "--op", "delete", "--user", a]);
      }
    }
    // tgtd refuses while commands are in flight: retry for half the budget, then force.
    const patience = ctx.budget.fraction(0.5);
    for (;;) {
      const r = tgt.adm(["--op", "delete", "--mode", "target", "--tid", tid]);
      if (r.code === 0 || !find()) break;
      if (patience.expired()) {
        tgt.must(["--op", "delete", "--mode", "target", "--tid", tid, "--force"]);
        break;
      }
      ctx.log.warn(`target ${s.iqn} still busy (${r.stderr.trim()}); retrying`);
      sleepMs(Math.min(500, patience.remainingMs()));
    }
    if (find()) throw fail.generic(`target ${s.iqn} is still there after tgtadm delete`);
  });
}

// ---- logical unit ------------------------------------------------------------------------------

/** tgt backends whose "path" is not a file (rbd pool/image and the like). */
const virtualPath = (s: LuSpec) => ["rbd", "sheepdog", "glfs"].includes(s.tgt.bstype ?? "");

function luParams(s: LuSpec): string {
  const p = [`scsi_id=${s.scsiId}`, `scsi_sn=${s.serial}`];
  if (s.vendorId !== undefined) p.push(`vendor_id=${s.vendorId}`);
  if (s.productId !== undefined) p.push(`product_id=${s.productId}`);
  // tgt-admin's caching mode page for "write-cache on|off" (WCE bit of page 8)
  if (s.writeCache !== undefined) p.push(`mode_page=8:0:18:${s.writeCache ? "0x14" : "0x10"}:0:0xff:0xff:0:0:0xff:0xff:0xff:0xff:0x80:0x14:0:0:0:0:0:0`);
  for (const [k, v] of s.extra) p.push(`${k}=${v}`);
  return p.join(",");
}

export function checkLu(ctx: IscsiCtx, s: LuSpec): Check {
  const all = tgtOf(ctx).targets();
  if (!all) return { absent: true, why: "tgtd is not running" };
  const t = all.find((x) => x.iqn === s.iqn);
  const l = t?.luns.find((x) => x.lun === s.lun);
  if (!t || !l || l.path !== s.path) return { absent: true };
  const p: string[] = [];
  if (l.scsiSn !== s.serial) p.push(`serial is ${l.scsiSn}, not ${s.serial}`);
  if (l.scsiId !== s.scsiId) p.push(`SCSI id is ${l.scsiId}, not ${s.scsiId}`);
  if (s.blockSize !== undefined && l.blockSize !== s.blockSize) p.push(`block size is ${l.blockSize}, not ${s.blockSize}`);
  if (!virtualPath(s) && !existsSync(s.path)) p.push(`backing path ${s.path} is gone`);
  return { absent: false, problems: p };
}

export function applyLu(ctx: IscsiCtx, s: LuSpec): void {
  const tgt = tgtOf(ctx);
  ctx.lock(LOCK, () => {
    const all = tgt.targets();
    if (!all) throw fail.generic("tgtd is not running");
    const t = all.find((x) => x.iqn === s.iqn);
    if (!t) throw fail.generic(`target ${s.iqn} does not exist here (the iSCSITarget resource starts first)`);
    const tid = String(t.tid);
    let l = t.luns.find((x) => x.lun === s.lun);
    if (l && l.path !== s.path) throw fail.generic(`LUN ${s.lun} of ${s.iqn} is backed by ${l.path}, another resource's`);
    if (l && s.blockSize !== undefined && l.blockSize !== s.blockSize) {
      // a block size is fixed at creation: make it anew
      tgt.must(["--op", "delete", "--mode", "logicalunit", "--tid", tid, "--lun", String(s.lun)]);
      l = undefined;
    }
    if (!l) {
      const args = ["--op", "new", "--mode", "logicalunit", "--tid", tid, "--lun", String(s.lun)];
      // tgt (1.0.24+) rejects an explicit "direct" with aio, which is always O_DIRECT
      const oflags = s.tgt.bstype === "aio" && s.tgt.bsoflags === "direct" ? undefined : s.tgt.bsoflags;
      if (s.tgt.bstype) args.push("--bstype", s.tgt.bstype);
      if (oflags) args.push("--bsoflags", oflags);
      if (s.tgt.bsopts) args.push("--bsopts", s.tgt.bsopts);
      if (s.tgt.deviceType) args.push("--device-type", s.tgt.deviceType);
      if (s.blockSize !== undefined) args.push("--blocksize", String(s.blockSize));
      args.push("--backing-store", s.path);
      tgt.must(args);
    }
    tgt.must(["--op", "update", "--mode", "logicalunit", "--tid", tid, "--lun", String(s.lun), "--params", luParams(s)]);
    const c = checkLu(ctx, s);
    const problems = c.absent ? [`LUN ${s.lun} of ${s.iqn} is missing after creation`] : c.problems;
    if (problems.length) throw fail.generic(problems.join("; "));
  });
}

/** Delete the LUN (tgtd refuses while commands are in flight: retry inside the budget). */
export function removeLu(ctx: IscsiCtx, s: LuSpec): void {
  const tgt = tgtOf(ctx);
  const find = () => {
    const t = tgt.targets()?.find((x) => x.iqn === s.iqn);
    const l = t?.luns.find((x) => x.lun === s.lun && x.path === s.path);
    return t && l ? t : undefined;
  };
  if (!find()) return;
  ctx.lock(LOCK, () => {
    for (;;) {
      const t = find();
      if (!t) return;
      const r = tgt.adm(["--op", "delete", "--mode", "logicalunit", "--tid", String(t.tid), "--lun", String(s.lun)]);
      if (r.code === 0) continue;
      if (ctx.budget.remainingMs() < 600) throw fail.generic(`LUN ${s.lun} of ${s.iqn} could not be deleted: ${r.stderr.trim()}`);
      ctx.log.warn(`LUN ${s.lun} of ${s.iqn} busy (${r.stderr.trim()}); retrying`);
      sleepMs(500);
    }
  });
}
