// ocf:tsstor:LVM-activate: activates one LV (or every LV of a VG) on this node, protected by
// lvmlockd (shared or exclusive LV locks), a VG system ID, or tags; LVM 2.02 clvmd where it
// exists. Drop-in for ocf:heartbeat:LVM-activate (same parameters).
//
// Differences from heartbeat: monitor reads device-mapper state from sysfs (no fork, no LVM
// scan); "lock start in progress" and other transient lock errors are retried inside the
// timeout; shared activation only in a clone and exclusive never in one; reload-agent (change
// the `refresh` parameter) runs lvchange --refresh after an lvextend on another node; tags are
// set and stripped on our VG only (heartbeat strips tags using an unset variable).

import { defineHandlers, type Ctx } from "../lib/ocf/runner.js";
import { defineAgent, p } from "../lib/ocf/declaration.js";
import { activeLvs, dmDevices, dmName, readProbe, type DmDevice } from "../lib/lvm/dm.js";
import { daemonPid, LVMLOCKD_PIDFILE } from "../lib/lvm/lockd.js";
import { Lvm, lvNameError, lvmError, retryTransient, vgNameError, type VgInfo } from "../lib/lvm/commands.js";
import { LvmConfig } from "../lib/lvm/conf.js";
import { OCF, fail } from "../lib/ocf/codes.js";
import { sleepMs, type RunResult } from "../lib/system/run.js";

const TAG = /^[A-Za-z0-9_+.\-/=!:&#]+$/;

export const decl = defineAgent({
  name: "LVM-activate",
  version: "1.0.0",
  shortdesc: "Activates and deactivates a logical volume or a volume group",
  longdesc: `Activates the LV lvname of VG vgname (or all LVs of the VG) on this node and deactivates it on stop.

vg_access_mode says what protects the VG on shared storage:
* lvmlockd: a shared VG (vgcreate --shared) with the ocf:tsstor:clvm (lvmlockd) clone running. activation_mode=shared (lvchange -asy, for GFS2/OCFS2, run as a clone) or exclusive (lvchange -aey, one node at a time, never a clone).
* system_id: the VG carries this node's system ID (lvm.conf global/system_id_source).
* tagging: the VG carries the tag; lvm.conf activation/volume_list must not list it.
* clvmd: LVM 2.02 clustered VGs; only where clvmd exists.

start lock-starts the VG (vgchange --lockstart) and retries "lock start in progress" inside the timeout. monitor reads device-mapper state from /sys/block (no LVM command); OCF_CHECK_LEVEL=10 also reads the device. stop deactivates, then stops the VG lockspace once nothing in the VG is active here.

After lvextend on another node, change the refresh parameter (pcs resource update RSC refresh=NOW): Pacemaker calls reload-agent everywhere it runs, which runs lvchange --refresh so device-mapper picks up the new size.`,
  params: {
    vgname: p.string({ shortdesc: "Volume group name", longdesc: "The volume group.", required: true, validate: vgNameError }),
    lvname: p.string({ shortdesc: "Logical volume name", longdesc: "Only this LV; empty activates every LV of the VG (one LV per resource is recommended).", validate: lvNameError }),
    vg_access_mode: p.select(["lvmlockd", "clvmd", "system_id", "tagging"] as const, {
      shortdesc: "How the VG is protected on shared storage",
      longdesc: "lvmlockd (shared VG), system_id, tagging, or clvmd (LVM 2.02 only). Must match the VG: a shared VG has lock type dlm or sanlock, a system_id VG has a system ID.",
      required: true,
    }),
    activation_mode: p.select(["exclusive", "shared"] as const, {
      shortdesc: "exclusive or shared activation",
      longdesc: "lvmlockd/clvmd only. shared: active on several nodes at once (cluster file systems), the resource must be a clone. exclusive: one node at a time, the resource must not be a clone. system_id and tagging are always exclusive.",
      default: "exclusive",
    }),
    tag: p.string({ shortdesc: "Tag for vg_access_mode=tagging", longdesc: "The ownership tag.", default: "pacemaker", validate: (v) => (TAG.test(v) ? undefined : `is not a valid LVM tag: ${JSON.stringify(v.slice(0, 64))}`) }),
    partial_activation: p.boolean({ shortdesc: "Activate with PVs missing", longdesc: "Activate even when PVs of the VG are missing (lvchange --partial); helps mirrored LVs.", default: false }),
    degraded_activation: p.boolean({ shortdesc: "Activate RAID LVs degraded", longdesc: "lvchange --activationmode degraded: RAID LVs activate with legs missing as long as the data is complete.", default: false }),
    majority_pvs: p.boolean({ shortdesc: "Take over a system_id VG with a majority of PVs", longdesc: "vg_access_mode=system_id: change the VG's system ID even with PVs missing when a majority is present (vgchange --majoritypvs, LVM >= 2.03.22).", default: false }),
    refresh: p.string({
      shortdesc: "Change to refresh the LV everywhere",
      longdesc: "Any value; changing it makes Pacemaker call reload-agent, which runs lvchange --refresh where the LV is active (after lvextend/lvreduce on another node).",
      reloadable: true,
    }),
  },
  actions: [
    { name: "start", timeout: 90 },
    { name: "stop", timeout: 90 },
    { name: "monitor", timeout: 90, interval: 30, depth: 0 },
    { name: "monitor", timeout: 90, interval: 120, depth: 10 },
    { name: "reload-agent", timeout: 90 },
    { name: "validate-all", timeout: 20 },
    { name: "meta-data", timeout: 10 },
  ],
  monitorDepths: [0, 10],
});

type C = Ctx<typeof decl.params>;

const target = (ctx: C) => (ctx.params.lvname ? `${ctx.params.vgname}/${ctx.params.lvname}` : ctx.params.vgname);

function active(ctx: C): DmDevice[] {
  return activeLvs(dmDevices(), ctx.params.vgname, ctx.params.lvname || undefined);
}

/** Clone rules: shared needs a clone, exclusive must not be one. */
function checkClone(ctx: C): void {
  const { activation_mode: mode, vg_access_mode: access } = ctx.params;
  const shared = mode === "shared" && (access === "lvmlockd" || access === "clvmd");
  if (shared && !ctx.env.meta.isClone) throw fail.configured(`activation_mode=shared activates ${target(ctx)} on several nodes: run it as a clone (pcs resource clone)`);
  if (!shared && ctx.env.meta.isClone) throw fail.configured(`${target(ctx)} is activated exclusively (activation_mode=${mode}, vg_access_mode=${access}): it must not be a clone`);
}

/** The VG as LVM sees it, checked against the parameters. Runs LVM commands. */
function checkVg(ctx: C): VgInfo {
  const lvm = new Lvm(ctx.run);
  const { vgname, lvname, vg_access_mode: access } = ctx.params;
  const q = lvm.vg(vgname);
  if (!q.value) {
    if (q.notFound) throw fail.generic(`volume group ${vgname} not found on this node (are its PVs visible? multipath/iSCSI logged in?)`);
    throw fail.generic(`cannot read volume group ${vgname}: ${lvmError(q.r)}`);
  }
  const vg = q.value;
  const lt = vg.lockType;
  const actual = lt === "dlm" || lt === "sanlock" ? "lvmlockd" : lt === "clvm" || vg.clustered ? "clvmd" : vg.systemId ? "system_id" : "";
  if (access === "lvmlockd" && actual !== "lvmlockd") {
    throw fail.configured(`vg_access_mode=lvmlockd but ${vgname} is not a shared VG (lock_type ${lt || "none"}${vg.systemId ? `, system ID ${vg.systemId}` : ""}): vgchange --locktype dlm|sanlock ${vgname}, or set vg_access_mode to match`);
  }
  if (access === "clvmd" && actual !== "clvmd") throw fail.configured(`vg_access_mode=clvmd but ${vgname} is not clustered (lock_type ${lt || "none"})`);
  if (access === "system_id" && actual !== "system_id") throw fail.configured(`vg_access_mode=system_id but ${vgname} has no system ID (lock_type ${lt || "none"}): vgchange --systemid`);
  if (access === "tagging" && (actual === "lvmlockd" || actual === "clvmd")) throw fail.configured(`vg_access_mode=tagging but ${vgname} is a ${actual} VG (lock_type ${lt})`);
  if (vg.partial && !ctx.params.partial_activation) throw fail.generic(`volume group ${vgname} has PVs missing; set partial_activation=true to activate it anyway`);
  if (lvname) {
    const l = lvm.lvs(vgname, lvname);
    if (!l.value?.length) throw fail.configured(`logical volume ${lvname} is not in volume group ${vgname}${l.notFound ? "" : `: ${lvmError(l.r)}`}`);
  } else if (vg.lvCount < 1) {
    throw fail.configured(`volume group ${vgname} has no logical volume`);
  }
  const conf = new LvmConfig(ctx.env.paths.lvm);
  if (conf.errors.length) throw fail.configured(conf.errors.join("; "));
  if (access === "lvmlockd") {
    const use = conf.get("global/use_lvmlockd");
    if (use?.value !== 1) throw fail.configured(`global/use_lvmlockd must be 1 for vg_access_mode=lvmlockd (${use ? `${use.value} at ${LvmConfig.where(use)}` : "not set"})`);
    if (daemonPid(LVMLOCKD_PIDFILE, "lvmlockd") === undefined) throw fail.generic("lvmlockd is not running: start the ocf:tsstor:clvm clone first (order it before this resource)");
  } else if (access === "clvmd") {
    if (!ctx.run.which("clvmd")) throw fail.installed("vg_access_mode=clvmd needs LVM 2.02's clvmd (LVM >= 2.03 has none: vgchange --locktype dlm and use vg_access_mode=lvmlockd)");
  } else if (access === "system_id") {
    const src = conf.get("global/system_id_source");
    if (!src || src.value === "none") throw fail.configured(`global/system_id_source is ${src ? `"none" at ${LvmConfig.where(src)}` : "not set"}: vg_access_mode=system_id needs a system ID source (uname, lvmlocal, machineid, appmachineid, file)`);
    const id = lvm.systemId();
    if (!id.id) throw fail.configured(`this node has no LVM system ID (lvm systemid: ${(id.r.stdout + id.r.stderr).trim() || "empty"})`);
  } else if (access === "tagging") {
    const vl = conf.get("activation/volume_list");
    if (!vl) throw fail.configured("vg_access_mode=tagging needs activation/volume_list in lvm.conf (so untagged VGs stay inactive at boot)");
    const list = Array.isArray(vl.value) ? vl.value.map(String) : [String(vl.value)];
    if (list.includes(`@${ctx.params.tag}`) || list.includes(vgname)) {
      throw fail.configured(`activation/volume_list (${LvmConfig.where(vl)}) must not contain "@${ctx.params.tag}" or "${vgname}": every node would activate it at boot`);
    }
  }
  return vg;
}

function activationOpts(ctx: C, mode: string): string[] {
  const o = [mode];
  if (ctx.params.partial_activation) o.push("--partial");
  if (ctx.params.degraded_activation) o.push("--activationmode", "degraded");
  return o;
}

function lvchangeRetry(ctx: C, opts: string[]): RunResult {
  const lvm = new Lvm(ctx.run);
  return retryTransient(ctx.budget, () => lvm.lvchange(opts, target(ctx)), (r) => ctx.log.info(`retrying: ${lvmError(r)}`));
}

function failActivate(ctx: C, r: RunResult): never {
  if (/LV locked by other host/.test(r.stderr)) {
    throw fail.generic(`${target(ctx)} is active on another node (its exclusive lock is held there): ${lvmError(r)}`);
  }
  if (/lock start in progress|lockspace is starting/.test(r.stderr)) {
    throw fail.generic(`the lockspace of ${ctx.params.vgname} was still starting when the timeout ran out: ${lvmError(r)}`);
  }
  throw fail.generic(`activation of ${target(ctx)} failed: ${lvmError(r)}`);
}

function ownTags(ctx: C, vg: VgInfo): void {
  const lvm = new Lvm(ctx.run);
  const tag = ctx.params.tag;
  for (const t of vg.tags.filter((x) => x !== tag)) {
    ctx.log.info(`stripping tag ${t} from ${vg.name}`);
    const r = lvm.vgchange(["--deltag", t], vg.name);
    if (r.code !== 0) throw fail.generic(`cannot remove tag ${t} from ${vg.name}: ${lvmError(r)}`);
  }
  if (!vg.tags.includes(tag)) {
    const r = lvm.vgchange(["--addtag", tag], vg.name);
    if (r.code !== 0) throw fail.generic(`cannot add tag ${tag} to ${vg.name}: ${lvmError(r)}`);
  }
}

function doStart(ctx: C): number | void {
  checkClone(ctx);
  if (active(ctx).length) {
    ctx.log.info(`${target(ctx)} is already active`);
    return OCF.SUCCESS;
  }
  const vg = checkVg(ctx);
  const lvm = new Lvm(ctx.run);
  const access = ctx.params.vg_access_mode;
  const volumeList = `activation{volume_list=["@${ctx.params.tag}"]}`;
  let r: RunResult;
  if (access === "lvmlockd" || access === "clvmd") {
    if (access === "lvmlockd") {
      const s = retryTransient(ctx.budget, () => lvm.lockStart(ctx.params.vgname), (x) => ctx.log.info(`retrying lock start: ${lvmError(x)}`));
      if (s.code !== 0) throw fail.generic(`vgchange --lockstart ${ctx.params.vgname} failed: ${lvmError(s)}`);
    }
    r = lvchangeRetry(ctx, activationOpts(ctx, ctx.params.activation_mode === "shared" ? "-asy" : "-aey"));
  } else if (access === "system_id") {
    const ours = lvm.systemId().id;
    if (vg.systemId !== ours) {
      const opts = ["-y", "--config", `local/extra_system_ids=["${vg.systemId}"]`, "--systemid", ours];
      if (ctx.params.majority_pvs) opts.push("--majoritypvs");
      const s = lvm.vgchange(opts, vg.name);
      if (s.code !== 0) throw fail.generic(`cannot take ${vg.name} over (system ID ${vg.systemId} -> ${ours}): ${lvmError(s)}`);
    }
    r = lvchangeRetry(ctx, activationOpts(ctx, "-ay"));
  } else {
    ownTags(ctx, vg);
    r = lvchangeRetry(ctx, [...activationOpts(ctx, "-ay"), "--config", volumeList]);
  }
  if (r.code !== 0) failActivate(ctx, r);
  if (!active(ctx).length) {
    throw fail.generic(`lvchange reported success but no device-mapper device of ${target(ctx)} is active${ctx.params.lvname ? ` (expected ${dmName(ctx.params.vgname, ctx.params.lvname)})` : ""}`);
  }
}

function doStop(ctx: C): number | void {
  if (!active(ctx).length) return;
  const lvm = new Lvm(ctx.run);
  const access = ctx.params.vg_access_mode;
  const opts = ["-an"];
  if (access === "tagging") opts.push("--config", `activation{volume_list=["@${ctx.params.tag}"]}`);
  const r = lvchangeRetry(ctx, opts);
  if (r.code !== 0) {
    const inUse = /in use|contains a filesystem in use/.test(r.stderr);
    throw fail.generic(`deactivation of ${target(ctx)} failed${inUse ? " (still in use: stop what mounts or opens it first)" : ""}: ${lvmError(r)}`);
  }
  const left = active(ctx);
  if (left.length) throw fail.generic(`${target(ctx)} still has active devices after lvchange -an: ${left.map((d) => d.name).join(" ")}`);
  if (access === "lvmlockd" && !activeLvs(dmDevices(), ctx.params.vgname).length) {
    // Nothing of the VG is active here any more: leave its lockspace. Not fatal (a failed stop
    // gets the node fenced); lvmlockd's own stop ends it at the latest.
    const s = lvm.lockStop(ctx.params.vgname);
    if (s.code !== 0) ctx.log.warn(`vgchange --lockstop ${ctx.params.vgname}: ${lvmError(s)}`);
  } else if (access === "tagging") {
    const q = lvm.vg(ctx.params.vgname);
    for (const t of q.value?.tags ?? []) {
      const d = lvm.vgchange(["--deltag", t], ctx.params.vgname);
      if (d.code !== 0) throw fail.generic(`cannot remove tag ${t} from ${ctx.params.vgname}: ${lvmError(d)}`);
    }
  }
}

export const agent = defineHandlers(decl, {
  validate(ctx) {
    const { activation_mode: mode, vg_access_mode: access } = ctx.params;
    if (mode === "shared" && (access === "system_id" || access === "tagging")) {
      throw fail.configured(`activation_mode=shared needs vg_access_mode=lvmlockd (or clvmd); ${access} is exclusive by nature`);
    }
    if (ctx.level >= 10) {
      checkClone(ctx);
      checkVg(ctx);
    }
  },
  start(ctx) {
    return ctx.lock(`lvm-vg-${ctx.params.vgname}`, () => doStart(ctx));
  },
  stop(ctx) {
    return ctx.lock(`lvm-vg-${ctx.params.vgname}`, () => doStop(ctx));
  },
  monitor(ctx) {
    let devs = active(ctx);
    if (!devs.length) return OCF.NOT_RUNNING;
    if (devs.some((d) => d.suspended)) {
      // lvchange --refresh and lvextend suspend briefly; only a device that stays suspended is a fault
      sleepMs(Math.min(1000, ctx.budget.remainingMs() / 2));
      devs = active(ctx);
      const still = devs.filter((d) => d.suspended);
      if (still.length) throw fail.generic(`device-mapper device ${still.map((d) => d.name).join(" ")} is suspended: I/O to it is blocked`);
    }
    if (ctx.level >= 10) {
      for (const d of devs) {
        const e = readProbe(`/dev/mapper/${d.name}`);
        if (e) throw fail.generic(`cannot read ${target(ctx)}: ${e}`);
      }
    }
    return OCF.SUCCESS;
  },
  "reload-agent"(ctx) {
    if (!active(ctx).length) return;
    const r = lvchangeRetry(ctx, ["--refresh"]);
    if (r.code !== 0) throw fail.generic(`lvchange --refresh ${target(ctx)} failed: ${lvmError(r)}`);
    ctx.log.info(`refreshed ${target(ctx)}`);
  },
});
