// The lio-t implementation of both iSCSI agents: read configfs, compare with the spec, send the
// missing or wrong objects to ONE targetcli batch, write attributes straight to configfs, check.
//
// Order inside a start matters on a real kernel:
// - a TPG is created disabled and enabled last, after ACLs and CHAP are in place, so no
//   initiator can log in to a half-configured target;
// - a backstore's serial, vendor/product id and block size can only change while no LUN exports
//   it (the kernel refuses with EINVAL), so they are set before the LUN is created. The serial
//   and block size go into the batch; vendor/product ids are configfs writes made while the
//   same targetcli process waits between creating the backstore and exporting it.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { Lio, PLUGIN_DIR, readAuth, readValue, unitSerial, writeValue, ConfigfsError, type Bstype, type StorageObject } from "./configfs.js";
import { bareIp, CLASH_WHY, iserMatches, ownPortalsClash, portalKey, portalOfKey, portalsClash } from "./syntax.js";
import { readLuRecords, recordAllows, removeLuRecord, writeLuRecord, type Check, type IscsiCtx, type LuSpec, type TargetSpec } from "./spec.js";
import { Batch, runBatch, runBatchAround, targetcliHome, type BatchResult } from "./targetcli.js";
import { fail } from "../ocf/codes.js";

const LOCK = "targetcli";

const lioOf = (ctx: IscsiCtx) => new Lio(ctx.env.paths.configfs);

function write(path: string, value: string): void {
  try {
    writeValue(path, value);
  } catch (e) {
    if (e instanceof ConfigfsError) throw fail.generic(e.message);
    throw e;
  }
}

/** Write only when different (configfs writes can have side effects). */
function ensure(path: string, value: string): void {
  if (readValue(path) !== value) write(path, value);
}

function runOne(ctx: IscsiCtx, b: Batch): BatchResult {
  return warned(ctx, runBatch(ctx.run, b, targetcliHome(ctx.env.rscTmp)));
}

/** targetcli's errors go to the log as warnings (callers verify the result in configfs). */
function warned(ctx: IscsiCtx, r: BatchResult): BatchResult {
  for (const e of r.errors) ctx.log.warn(`targetcli: ${e}`);
  return r;
}

/** Fail with the problems found after a change, and what targetcli said about it. */
function verify(check: Check, what: string, errors: string[]): void {
  const problems = check.absent ? [`${what} is missing${check.why ? ` (${check.why})` : ""}`] : check.problems;
  if (problems.length) {
    throw fail.generic(`${problems.join("; ")}${errors.length ? ` (targetcli: ${errors.slice(0, 2).join(" | ")})` : ""}`);
  }
}

// ---- target ------------------------------------------------------------------------------------

const demo = (s: TargetSpec) => s.initiators.length === 0;

/** TPG attributes the spec fixes: demo mode (upstream's settings) or ACLs, CHAP or none. */
function tpgAttributes(s: TargetSpec): Array<[string, string]> {
  const a: Array<[string, string]> = [
    ["generate_node_acls", demo(s) ? "1" : "0"],
    ["authentication", s.chap ? "1" : "0"],
  ];
  if (demo(s)) a.push(["cache_dynamic_acls", "1"], ["demo_mode_write_protect", "0"]);
  return a;
}

/** The credential files of an auth directory: incoming CHAP, and mutual CHAP (the target's own answer). */
const AUTH_FILES = [
  ["chap", "userid", "password", "CHAP"],
  ["mutual", "userid_mutual", "password_mutual", "mutual CHAP"],
] as const;

/** Where the credentials live: the TPG's auth in demo mode, else each configured ACL's. */
const authDirs = (lio: Lio, s: TargetSpec) =>
  demo(s) ? [join(lio.tpg(s.iqn), "auth")] : s.initiators.map((i) => join(lio.aclDir(s.iqn, i), "auth")).filter(existsSync);

/** Where an additional parameter lives: an iSCSI (RFC 3720) parameter, else a TPG attribute. */
function extraPath(tpg: string, name: string): string | undefined {
  for (const sub of ["param", "attrib"]) if (existsSync(join(tpg, sub, name))) return join(tpg, sub, name);
  return undefined;
}

export function checkTarget(ctx: IscsiCtx, s: TargetSpec): Check {
  const lio = lioOf(ctx);
  if (!lio.loaded()) return { absent: true, why: "LIO (target_core_mod) is not loaded" };
  if (!existsSync(lio.targetDir(s.iqn))) return { absent: true };
  const tpg = lio.tpg(s.iqn);
  if (!existsSync(tpg)) return { absent: false, problems: [`target ${s.iqn} has no TPG 1`] };
  const p: string[] = [];
  if (readValue(join(tpg, "enable")) !== "1") p.push(`TPG 1 of ${s.iqn} is disabled`);
  const have = new Set(lio.portals(s.iqn));
  for (const portal of s.portals) {
    const k = portalKey(portal);
    if (!have.has(k)) p.push(`portal ${k} is missing${portalClash(lio, s.iqn, k)}`);
    else if (s.iser.some((i) => iserMatches(i, portal)) && readValue(join(tpg, "np", k, "iser")) !== "1") p.push(`iSER is off on portal ${k}`);
  }
  for (const [k, v] of tpgAttributes(s)) {
    const now = readValue(join(tpg, "attrib", k));
    if (now !== v) p.push(`TPG attribute ${k} is ${now ?? "missing"}, not ${v}`);
  }
  for (const i of s.initiators) if (!existsSync(lio.aclDir(s.iqn, i))) p.push(`ACL for ${i} is missing`);
  for (const d of authDirs(lio, s)) {
    const who = demo(s) ? "TPG 1" : `ACL ${d.split("/").slice(-2)[0]}`;
    for (const [key, uf, pf, label] of AUTH_FILES) {
      const c = s[key];
      if (!c) continue;
      if (readAuth(join(d, uf)) !== c.user) p.push(`${label} user of ${who} differs`);
      // password undefined: the monitor could not read the secret file (it logged why)
      else if (c.password !== undefined && readAuth(join(d, pf)) !== c.password) p.push(`${label} password of ${who} differs`);
    }
  }
  for (const [k, v] of s.extra) {
    const f = extraPath(tpg, k);
    if (f && readValue(f) !== v) p.push(`${k} is ${readValue(f)}, not ${v}`);
  }
  return { absent: false, problems: p };
}

/** Why the kernel refuses portal k: a listener of another target it cannot bind beside. */
function portalClash(lio: Lio, iqn: string, k: string): string {
  const o = lio.allPortals().find((x) => x.iqn !== iqn && portalsClash(k, x.portal));
  return o ? ` (it cannot exist beside ${o.portal} of ${o.iqn}: ${CLASH_WHY})` : "";
}

/** Create or repair the target; also reload-agent (it only changes what differs). */
export function applyTarget(ctx: IscsiCtx, s: TargetSpec): void {
  const own = ownPortalsClash(s.portals);
  if (own) throw fail.configured(own);
  const lio = lioOf(ctx);
  ctx.lock(LOCK, () => {
    const b = new Batch();
    const tdir = lio.targetDir(s.iqn);
    const tpg = lio.tpg(s.iqn);
    const existed = existsSync(tdir);
    if (!existed) b.createTarget(s.iqn);
    else if (!existsSync(tpg)) b.createTpg(s.iqn);

    // Portals: exactly the configured ones.
    const want = new Map(s.portals.map((p) => [portalKey(p), p]));
    for (const k of existed ? lio.portals(s.iqn) : []) {
      if (want.has(k)) continue;
      const p = portalOfKey(k); // as spelled in configfs: targetcli finds the directory by it
      b.deletePortal(s.iqn, bareIp(p), p.port);
    }
    const have = new Set(existed ? lio.portals(s.iqn) : []);
    for (const [k, p] of want) if (!have.has(k)) b.createPortal(s.iqn, bareIp(p), p.port);

    // ACLs: the configured initiators, plus those logical units created; new ACLs get the
    // LUNs their logical units allow.
    const records = readLuRecords(ctx.env.rscTmp, s.iqn);
    const luOwned = new Set([...records.values()].flatMap((r) => r.createdAcls));
    const acls = existed ? lio.acls(s.iqn) : [];
    for (const a of acls) if (!s.initiators.includes(a) && !luOwned.has(a)) b.deleteAcl(s.iqn, a);
    const luns = existed ? lio.luns(s.iqn) : [];
    for (const i of s.initiators) {
      if (acls.includes(i)) continue;
      b.createAcl(s.iqn, i);
      for (const l of luns) if (recordAllows(records.get(l), i) && l <= 255) b.mapLun(s.iqn, i, l, l);
    }
    const r = runOne(ctx, b);
    if (!existsSync(tpg)) verify(checkTarget(ctx, s), `target ${s.iqn}`, r.errors);

    // Attributes, CHAP, parameters, iSER: straight to configfs; then enable.
    for (const [k, v] of tpgAttributes(s)) ensure(join(tpg, "attrib", k), v);
    for (const d of authDirs(lio, s)) {
      for (const [key, uf, pf] of AUTH_FILES) {
        const c = s[key];
        const user = c?.user ?? "";
        const password = c?.password ?? "";
        if (readAuth(join(d, uf)) !== user) write(join(d, uf), user || "NULL");
        if (readAuth(join(d, pf)) !== password) write(join(d, pf), password || "NULL");
      }
    }
    for (const [k, v] of s.extra) {
      const f = extraPath(tpg, k);
      if (f) ensure(f, v);
      else ctx.log.warn(`additional parameter ${k} is neither an iSCSI parameter nor a TPG attribute here; ignored`);
    }
    for (const p of s.portals) {
      if (s.iser.some((i) => iserMatches(i, p))) ensure(join(tpg, "np", portalKey(p), "iser"), "1");
    }
    ensure(join(tpg, "enable"), "1");
    verify(checkTarget(ctx, s), `target ${s.iqn}`, r.errors);
  });
}

export function removeTarget(ctx: IscsiCtx, s: TargetSpec): void {
  const lio = lioOf(ctx);
  if (!lio.loaded() || !existsSync(lio.targetDir(s.iqn))) return;
  ctx.lock(LOCK, () => {
    if (!existsSync(lio.targetDir(s.iqn))) return;
    const r = runOne(ctx, new Batch().deleteTarget(s.iqn));
    if (existsSync(lio.targetDir(s.iqn))) throw fail.generic(`target ${s.iqn} is still there after targetcli delete${r.errors.length ? `: ${r.errors[0]}` : ""}`);
  });
}

// ---- logical unit ------------------------------------------------------------------------------

const ours = (s: LuSpec, so: StorageObject | undefined) => so !== undefined && so.name === s.name && so.plugin === PLUGIN_DIR[s.bstype];

/** Initiators whose ACL must map the LUN: the configured ones, or every ACL of the target. */
function mapTo(lio: Lio, s: LuSpec): string[] {
  return s.initiators.length ? s.initiators : lio.acls(s.iqn);
}

/** Backstore properties that must be set before the LUN exports it. */
function preExport(s: LuSpec): Array<[string, string]> {
  const w: Array<[string, string]> = [];
  if (s.vendorId !== undefined) w.push(["wwn/vendor_id", s.vendorId]);
  if (s.productId !== undefined) w.push(["wwn/product_id", s.productId]);
  return w;
}

/** Attributes that can change while exported. */
function postExport(s: LuSpec): Array<[string, string]> {
  const a: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(s.emulate)) if (v !== undefined) a.push([`attrib/emulate_${k}`, String(v)]);
  if (s.writeCache !== undefined) a.push(["attrib/emulate_write_cache", s.writeCache ? "1" : "0"]);
  for (const [k, v] of s.extra) a.push([`attrib/${k}`, v]);
  return a;
}

function soProblems(s: LuSpec, so: StorageObject): string[] {
  const p: string[] = [];
  const udev = readValue(join(so.dir, "udev_path"));
  if (udev !== s.path) p.push(`backstore ${s.name} uses ${udev || "nothing"}, not ${s.path}`);
  if (s.bstype !== "pscsi" && unitSerial(so) !== s.serial) p.push(`serial is ${unitSerial(so) ?? "unset"}, not ${s.serial}`);
  if (s.blockSize !== undefined && readValue(join(so.dir, "attrib", "block_size")) !== String(s.blockSize)) p.push(`block size is not ${s.blockSize}`);
  for (const [f, v] of [...preExport(s), ...postExport(s)]) {
    const now = readValue(join(so.dir, f));
    if (now === undefined && f.startsWith("attrib/") && s.extra.some(([k]) => `attrib/${k}` === f)) continue; // unknown here: warned at start
    if (now !== v) p.push(`${f.replace(/^(attrib|wwn)\//, "")} is ${now ?? "missing"}, not ${v}`);
  }
  return p;
}

export function checkLu(ctx: IscsiCtx, s: LuSpec): Check {
  const lio = lioOf(ctx);
  if (!lio.loaded()) return { absent: true, why: "LIO (target_core_mod) is not loaded" };
  const lunDir = lio.lunDir(s.iqn, s.lun);
  const so = lio.lunObject(s.iqn, s.lun);
  if (!existsSync(lunDir) || (so && !ours(s, so))) {
    // Not exported (or LUN taken by another backstore): a leftover backstore of ours is a failure.
    const left = lio.findObjects(s.name).filter((o) => o.plugin === PLUGIN_DIR[s.bstype]);
    if (left.length) return { absent: false, problems: [`backstore ${s.bstype}/${s.name} exists without LUN ${s.lun} of ${s.iqn}`] };
    return { absent: true };
  }
  if (!so) return { absent: false, problems: [`LUN ${s.lun} of ${s.iqn} has no backstore`] };
  const p = soProblems(s, so);
  if (!existsSync(s.path)) p.push(`backing path ${s.path} is gone`);
  const mapped = new Set<string>();
  for (const a of lio.acls(s.iqn)) {
    const m = lio.mappedLuns(s.iqn, a);
    if ([...m.values()].includes(s.lun)) mapped.add(a);
  }
  for (const i of mapTo(lio, s)) if (!mapped.has(i)) p.push(`LUN ${s.lun} is not mapped for ${i}`);
  if (s.initiators.length) for (const a of mapped) if (!s.initiators.includes(a)) p.push(`LUN ${s.lun} is mapped for ${a}, not in allowed_initiators`);
  return { absent: false, problems: p };
}

const typeOf = (plugin: string): Bstype | undefined => (Object.keys(PLUGIN_DIR) as Bstype[]).find((k) => PLUGIN_DIR[k] === plugin);

/** Configfs writes a kept backstore needs before it may be exported. */
function preWrites(s: LuSpec, o: StorageObject): Array<[string, string]> {
  const w: Array<[string, string]> = [];
  if (s.bstype !== "pscsi" && unitSerial(o) !== s.serial) w.push(["wwn/vpd_unit_serial", s.serial]);
  if (s.blockSize !== undefined && readValue(join(o.dir, "attrib", "block_size")) !== String(s.blockSize)) w.push(["attrib/block_size", String(s.blockSize)]);
  for (const [f, v] of preExport(s)) if (readValue(join(o.dir, f)) !== v) w.push([f, v]);
  return w;
}

/**
 * Create or repair the logical unit; also reload-agent (mappings change in place).
 * One batch: [drop stale LUN and backstores, create backstore] + [export, ACLs, mappings].
 * When configfs writes must happen between the two halves (vendor/product id of a new
 * backstore, or a kept backstore whose serial, ids or block size differ: the kernel refuses
 * them once the LUN exports it), the same targetcli process waits while the agent writes them.
 */
export function applyLu(ctx: IscsiCtx, s: LuSpec): void {
  const lio = lioOf(ctx);
  ctx.lock(LOCK, () => {
    if (!existsSync(lio.tpg(s.iqn))) throw fail.generic(`target ${s.iqn} does not exist here (the iSCSITarget resource starts first)`);
    const lunDir = lio.lunDir(s.iqn, s.lun);
    const exported = lio.lunObject(s.iqn, s.lun);
    if (existsSync(lunDir) && exported && exported.name !== s.name) {
      throw fail.generic(`LUN ${s.lun} of ${s.iqn} exports ${exported.plugin}/${exported.name}, another resource's backstore`);
    }
    // Backstores named after this resource: keep the one of the right type on the right path.
    const mine = lio.findObjects(s.name).filter((o) => typeOf(o.plugin) !== undefined);
    const keep = mine.find((o) => o.plugin === PLUGIN_DIR[s.bstype] && readValue(join(o.dir, "udev_path")) === s.path);
    const writes = keep ? preWrites(s, keep) : preExport(s);
    const lunOk = existsSync(lunDir) && keep !== undefined && exported?.dir === keep.dir && writes.length === 0;

    const pre = new Batch();
    if (existsSync(lunDir) && !lunOk) pre.deleteLun(s.iqn, s.lun);
    for (const o of mine) if (o !== keep) pre.deleteBackstore(typeOf(o.plugin)!, s.name);
    if (!keep) {
      pre.createBackstore(s.bstype, s.name, s.path, s.bstype === "pscsi" ? undefined : s.serial, s.bstype === "fileio" ? s.writeCache : undefined);
      if (s.blockSize !== undefined) pre.setBackstoreAttribute(s.bstype, s.name, "block_size", String(s.blockSize));
    }

    const post = new Batch();
    if (!lunOk) post.createLun(s.iqn, s.bstype, s.name, s.lun);
    const record = readLuRecords(ctx.env.rscTmp, s.iqn).get(s.lun);
    const created = new Set(record?.createdAcls ?? []);
    const acls = lio.acls(s.iqn);
    for (const i of s.initiators) {
      if (acls.includes(i)) continue;
      post.createAcl(s.iqn, i);
      created.add(i);
    }
    for (const i of mapTo(lio, s)) {
      const m = acls.includes(i) ? lio.mappedLuns(s.iqn, i) : new Map<number, number>();
      if (lunOk && [...m.values()].includes(s.lun)) continue;
      const other = m.get(s.lun);
      if (other !== undefined && !(other === s.lun && !lunOk)) throw fail.generic(`ACL ${i} already maps LUN ${s.lun} to TPG LUN ${other}`);
      if (s.lun > 255) throw fail.generic(`LUN ${s.lun} cannot be mapped for ${i}: mapped LUNs go up to 255`);
      post.mapLun(s.iqn, i, s.lun, s.lun);
    }
    if (lunOk && s.initiators.length) {
      for (const a of acls) {
        if (s.initiators.includes(a)) continue;
        for (const [mi, tl] of lio.mappedLuns(s.iqn, a)) if (tl === s.lun) post.unmapLun(s.iqn, a, mi);
      }
    }

    const errors: string[] = [];
    if (writes.length) {
      const between = () => {
        const o = lio.findObjects(s.name).find((x) => x.plugin === PLUGIN_DIR[s.bstype]);
        if (o && !lio.lunObject(s.iqn, s.lun)) for (const [f, v] of writes) write(join(o.dir, f), v);
      };
      errors.push(...warned(ctx, runBatchAround(ctx.run, pre, between, post, targetcliHome(ctx.env.rscTmp))).errors);
    } else {
      const one = new Batch();
      one.lines.push(...pre.lines, ...post.lines);
      errors.push(...runOne(ctx, one).errors);
    }
    const now = lio.lunObject(s.iqn, s.lun);
    if (now && now.name === s.name) {
      for (const [f, v] of postExport(s)) {
        if (existsSync(join(now.dir, f))) ensure(join(now.dir, f), v);
        else ctx.log.warn(`backstore attribute ${f.replace(/^attrib\//, "")} does not exist here; ignored`);
      }
    }
    writeLuRecord(ctx.env.rscTmp, s.iqn, s.lun, { resource: s.name, initiators: s.initiators, createdAcls: [...created] });
    verify(checkLu(ctx, s), `LUN ${s.lun} of ${s.iqn}`, errors);
  });
}

/** Remove LUN, mappings, ACLs this unit created and the backstore, whatever state the path is in. */
export function removeLu(ctx: IscsiCtx, s: LuSpec): void {
  const lio = lioOf(ctx);
  if (!lio.loaded()) return;
  ctx.lock(LOCK, () => {
    const b = new Batch();
    const lunDir = lio.lunDir(s.iqn, s.lun);
    const so = lio.lunObject(s.iqn, s.lun);
    if (existsSync(lunDir) && (!so || so.name === s.name)) b.deleteLun(s.iqn, s.lun);
    const record = readLuRecords(ctx.env.rscTmp, s.iqn).get(s.lun);
    for (const a of record?.createdAcls ?? []) {
      if (!existsSync(lio.aclDir(s.iqn, a))) continue;
      const others = [...lio.mappedLuns(s.iqn, a).values()].filter((l) => l !== s.lun);
      if (others.length === 0) b.deleteAcl(s.iqn, a);
    }
    const mine = lio.findObjects(s.name).filter((o) => typeOf(o.plugin) !== undefined);
    for (const o of mine) b.deleteBackstore(typeOf(o.plugin)!, s.name);
    const r = b.empty ? { errors: [] } : runOne(ctx, b);
    const left: string[] = [];
    const l = lio.lunObject(s.iqn, s.lun);
    if (existsSync(lunDir) && (!l || l.name === s.name)) left.push(`LUN ${s.lun} of ${s.iqn}`);
    for (const o of lio.findObjects(s.name)) if (typeOf(o.plugin)) left.push(`backstore ${o.plugin}/${o.name}`);
    if (left.length) throw fail.generic(`${left.join(", ")} still there after targetcli delete${r.errors.length ? `: ${r.errors[0]}` : ""}`);
    removeLuRecord(ctx.env.rscTmp, s.iqn, s.lun);
  });
}

