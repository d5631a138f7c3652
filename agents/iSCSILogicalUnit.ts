// iSCSILogicalUnit: one LUN of an iSCSI target (LIO through targetcli, or tgt), drop-in for
// ocf:heartbeat:iSCSILogicalUnit. The work is in lib/iscsi/lio.ts and lib/iscsi/tgt.ts.

import { defineHandlers, type Ctx } from "../lib/ocf/runner.js";
import { defineAgent, p, plainActions } from "../lib/ocf/declaration.js";
import { defaultScsiId, defaultSerial, IMPLEMENTATIONS, initiatorsError, iscsiNameError, lioName, nameValuesError, parseNameValues, splitWords, SUPPORTED, type Implementation } from "../lib/iscsi/syntax.js";
import type { LuSpec } from "../lib/iscsi/spec.js";
import { checkInstalled, detect, driver, monitorCode, monitored, required } from "../lib/iscsi/driver.js";
import { OCF, fail } from "../lib/ocf/codes.js";

const idText = (max: number) => (v: string) =>
  v.length > max ? `must be at most ${max} characters` : /^[\x20-\x7e]+$/.test(v) && !v.includes(",") ? undefined : "must be printable ASCII without ','";
const serialText = (v: string) => (v.length > 253 ? "must be at most 253 characters" : /^[\x21-\x7e]+$/.test(v) && !v.includes(",") ? undefined : "must be printable ASCII without white space or ','");
const bool01 = (what: string) => p.integer({ shortdesc: what, longdesc: `${what}: 1 enables, 0 disables; unset leaves the backstore's default (lio-t only).`, min: 0, max: 1 });

export const decl = defineAgent({
  name: "iSCSILogicalUnit",
  version: "1.0.0",
  shortdesc: "Manages iSCSI Logical Units (LUs)",
  longdesc: `Manages one logical unit of an iSCSI target: LIO (implementation lio-t: a targetcli backstore
named after the resource, its LUN and per-initiator mappings, one targetcli process per action,
monitored from configfs) or tgt (a tgtd logical unit). Drop-in for
ocf:heartbeat:iSCSILogicalUnit: same parameters and defaults (scsi_sn is the first 8 hex digits
of md5(resource name), so the serial initiators and multipath know survives a migration).

Start creates what is missing and corrects what differs; stop removes LUN, mappings and
backstore even when the backing path vanished first. Changing allowed_initiators reloads the
mappings in place.`,
  params: {
    implementation: p.select(IMPLEMENTATIONS, {
      shortdesc: "iSCSI target implementation (lio-t or tgt)",
      longdesc: "As for iSCSITarget: lio-t or tgt; unset: lio-t where targetcli is installed, else tgt.",
    }),
    target_iqn: p.string({ shortdesc: "iSCSI target IQN", longdesc: "The IQN of the target (an iSCSITarget resource) this unit belongs to.", required: true, validate: iscsiNameError }),
    lun: p.integer({ shortdesc: "Logical Unit number (LUN)", longdesc: "The LUN initiators see (tgt reserves 0; LIO maps per initiator up to 255).", required: true, min: 0, max: 65535 }),
    path: p.string({ shortdesc: "Block device (or file) path", longdesc: "The block device (or, with fileio/tgt, the file) exported.", required: true }),
    scsi_id: p.string({
      shortdesc: "SCSI ID",
      longdesc: "The SCSI ID (tgt). Default: the resource name cut to 16 characters. LIO derives it from the serial.",
      uniqueGroup: "scsi_id",
      validate: idText(24),
    }),
    scsi_sn: p.string({
      shortdesc: "SCSI serial number",
      longdesc: "The SCSI unit serial number. Default: the first 8 hex digits of md5(resource name), as upstream.",
      uniqueGroup: "scsi_sn",
      validate: serialText,
    }),
    emulate_tpu: bool01("SCSI UNMAP (for TRIM / DISCARD)"),
    emulate_3pc: bool01("SCSI extended copy"),
    emulate_caw: bool01("SCSI compare and write"),
    write_cache: p.boolean({
      shortdesc: "Write cache",
      longdesc: "Report (and, for lio-t fileio, use) a write-back cache. Unset: the backstore's default. lio-t block devices report their own cache and cannot set it.",
    }),
    vendor_id: p.string({ shortdesc: "SCSI vendor ID", longdesc: "The SCSI vendor id (at most 8 characters).", validate: idText(8) }),
    product_id: p.string({ shortdesc: "SCSI product ID", longdesc: "The SCSI product id (at most 16 characters).", validate: idText(16) }),
    block_size: p.integer({
      shortdesc: "Block size",
      longdesc: "Logical block size in bytes reported to initiators (512, 1024, 2048 or 4096). Unset: the backstore's default.",
      validate: (v) => ([512, 1024, 2048, 4096].includes(v) ? undefined : `must be 512, 1024, 2048 or 4096, got ${v}`),
    }),
    tgt_bstype: p.string({ shortdesc: "TGT backing store type", longdesc: "tgt backing store type (rdwr, aio, rbd, ...). See tgtadm(8)." }),
    tgt_bsoflags: p.string({ shortdesc: "TGT backing store open flags", longdesc: "tgt backing store open flags (direct|sync). See tgtadm(8)." }),
    tgt_bsopts: p.string({ shortdesc: "TGT backing store options", longdesc: "tgt backing store options. See tgtadm(8)." }),
    tgt_device_type: p.string({ shortdesc: "TGT device type", longdesc: "tgt device type (disk, cd, ...). See tgtadm(8)." }),
    additional_parameters: p.string({
      shortdesc: "List of iSCSI LU parameters",
      longdesc: "Space-separated name=value pairs: tgt logical unit parameters, or lio-t backstore attributes (is_nonrot=1).",
      validate: nameValuesError,
    }),
    allowed_initiators: p.string({
      shortdesc: "List of iSCSI initiators allowed to connect to this lun.",
      longdesc: `lio-t: initiators this LUN is mapped for (their ACLs are created if missing). Empty: the LUN
is mapped for every ACL of the target (or seen by all in demo mode). tgt has no per-LUN
access control and ignores it. Changing it reloads the mappings in place.`,
      default: "",
      reloadable: true,
      validate: initiatorsError,
    }),
    lio_iblock: p.integer({ shortdesc: "LIO iblock device number", longdesc: "Only meaningful for the unsupported implementation lio; ignored.", default: 0, min: 0 }),
    liot_bstype: p.select(["block", "fileio", "pscsi"] as const, {
      shortdesc: "LIO-T backing store type",
      longdesc: "lio-t backstore: block (a block device), fileio (a file or block device; the file must exist), pscsi (SCSI pass-through).",
      default: "block",
    }),
  },
  actions: plainActions({ start: 20, stop: 20, monitor: { timeout: 20, interval: 10 }, reloadAgent: 20, validate: 20, metaData: 5 }),
});

type LCtx = Ctx<typeof decl.params>;

function spec(ctx: LCtx, impl: Implementation): LuSpec {
  const P = ctx.params;
  const lower = impl === "lio-t" ? lioName : (x: string) => x;
  const extra = parseNameValues(P.additional_parameters);
  const opt = (k: keyof typeof P) => (ctx.given.has(k) ? (P[k] as number) : undefined);
  return {
    iqn: lower(P.target_iqn),
    lun: P.lun,
    path: P.path,
    name: ctx.env.instance,
    bstype: P.liot_bstype || "block",
    serial: P.scsi_sn || defaultSerial(ctx.env.instance),
    scsiId: P.scsi_id || defaultScsiId(ctx.env.instance),
    vendorId: P.vendor_id || undefined,
    productId: P.product_id || undefined,
    blockSize: P.block_size,
    emulate: impl === "lio-t" ? { tpu: opt("emulate_tpu"), "3pc": opt("emulate_3pc"), caw: opt("emulate_caw") } : {},
    writeCache: ctx.given.has("write_cache") ? P.write_cache : undefined,
    initiators: impl === "lio-t" ? splitWords(P.allowed_initiators).map(lower) : [],
    extra: typeof extra === "string" ? [] : extra,
    tgt: { bstype: P.tgt_bstype || undefined, bsoflags: P.tgt_bsoflags || undefined, bsopts: P.tgt_bsopts || undefined, deviceType: P.tgt_device_type || undefined },
  };
}

const UNUSED: Record<string, string[]> = {
  "lio-t": ["tgt_bstype", "tgt_bsoflags", "tgt_bsopts", "tgt_device_type", "scsi_id"],
  tgt: ["emulate_tpu", "emulate_3pc", "emulate_caw", "allowed_initiators", "liot_bstype"],
};

export const agent = defineHandlers(decl, {
  validate(ctx) {
    const P = ctx.params;
    const i = P.implementation;
    if (i && !SUPPORTED.includes(i)) throw fail.configured(`implementation ${i} is not supported (use lio-t or tgt)`);
    if (i === "tgt" && P.lun === 0) throw fail.configured("tgt reserves LUN 0 for its controller: lun must be >= 1");
    if (i === "lio-t") {
      if (!P.path.startsWith("/")) throw fail.configured(`path must be absolute for lio-t, got ${JSON.stringify(P.path.slice(0, 80))}`);
      if (P.allowed_initiators && P.lun > 255) throw fail.configured("lio-t maps LUNs per initiator up to 255: lun must be <= 255 with allowed_initiators");
      if (ctx.given.has("write_cache") && P.liot_bstype !== "fileio") throw fail.configured("write_cache can only be set with liot_bstype=fileio (block devices report their own cache)");
      for (const w of splitWords(P.allowed_initiators)) if (iscsiNameError(w)) throw fail.configured(`allowed_initiators: ${w} is not an iSCSI name`);
    }
    for (const k of [...(i ? UNUSED[i] ?? [] : []), ...(ctx.given.has("lio_iblock") ? ["lio_iblock"] : [])]) {
      if (ctx.given.has(k as keyof typeof P) && k !== "liot_bstype") ctx.log.warn(`${k} is not used by implementation ${i || "lio"} and is ignored`);
    }
    if (ctx.level >= 10) checkInstalled(ctx);
  },
  start(ctx) {
    const { impl, m } = required(ctx);
    const s = spec(ctx, impl);
    const c = m.checkLu(ctx, s);
    if (!c.absent && c.problems.length === 0) return;
    m.applyLu(ctx, s);
  },
  stop(ctx) {
    const i = detect(ctx);
    if (i === undefined) return;
    driver(i).removeLu(ctx, spec(ctx, i));
  },
  monitor(ctx) {
    const d = monitored(ctx);
    if (!d) return OCF.NOT_RUNNING;
    return monitorCode(d.m.checkLu(ctx, spec(ctx, d.impl)));
  },
  "reload-agent"(ctx) {
    const { impl, m } = required(ctx);
    const s = spec(ctx, impl);
    const c = m.checkLu(ctx, s);
    if (c.absent) throw fail.generic(`LUN ${s.lun} of ${s.iqn} is not running here; cannot reload it`);
    m.applyLu(ctx, s);
  },
});
