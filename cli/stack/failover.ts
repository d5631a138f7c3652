// The composable stack (`kind: failover` in a stack file): any number of DRBD resources, exclusive
// LVs, filesystems, iSCSI targets with their LUNs, virtual IPs and services that all run together
// on one node and fail over together. Pacemaker's picture of it:
//   DRBD promotable clones (all Primary on one node) --promote--> group NAME-group [LVs,
//   filesystems, targets] --> each LUN --(Optional)--> group NAME-front [IPs, services]
//   lvmlockd clone (when an LV is locked by lvmlockd) --start--> NAME-group
// A group is heartbeat's haresources line as Pacemaker expresses it: members start in order and
// stop in reverse, on one node. LUNs stand apart, as in the iscsi stack: a LUN added to a running
// stack, or one whose monitor fails, starts alone, without restarting the IPs (every initiator's
// connection) behind it; when everything starts together, the LUNs still come before the IPs.
// Without LUNs there is one group.
import { planFencing, type FencingOptions } from "../fencing.js";
import { InvalidOptions, checkTarget, colocate, interleaved, drbdTarget, groupAdd, op, promotableDrbd, tickle, withFencing, type ChapOption, type Plan, type TargetInput, type TargetNames } from "../stacks.js";
import { isPasswordKey } from "../fencing.js";
import { Problems, absPath, agentSpec, drbdResource, duration, ipWithPrefix, lvmName, mountPoint, nic, resourceId } from "../validate.js";

export interface FailoverOptions {
  /** the stack's name: the prefix of every resource id */
  name: string;
  monitorInterval?: string;
  drbd: Array<{ resource: string; drbdconf?: string; cloneMax?: number; id?: string }>;
  /** lvmlockd's lock type, when an LV uses lvmlockd (one lvmlockd per node) */
  lockType?: "sanlock" | "dlm";
  lvm: Array<{ vg: string; lv: string; access?: "lvmlockd" | "system_id"; id?: string }>;
  filesystems: Array<{ device: string; directory: string; fstype: string; options?: string; id?: string }>;
  targets: Array<Omit<TargetInput, "luns"> & { id?: string; luns: Array<{ lun: number; path: string; scsiSn?: string; scsiId?: string; id?: string }>; chap?: ChapOption; mutualChap?: ChapOption }>;
  ips: Array<{ address: string; nic?: string; id?: string }>;
  services: Array<{ agent: string; params?: Record<string, string>; id?: string }>;
}

/** An id part from content: characters a CIB id does not allow become "_". */
const part = (v: string) => v.replace(/[^A-Za-z0-9_.-]/g, "_");
const FSTYPES = ["ext4", "xfs", "ext3"];

/** The file keys of a target, for errors ("targets[0].iqn: ..."). */
function targetNames(at: string): TargetNames {
  return {
    iqn: `${at}.iqn`,
    lun: `${at}.luns`,
    portal: `${at}.portals`,
    initiator: `${at}.initiators`,
    allowAny: `${at}.allow-any-initiator`,
    implementation: `${at}.implementation`,
    tid: `${at}.tid`,
    chap: [`${at}.chap`, `${at}.mutual-chap`],
    portalHint: `${at}.portals: [VIP:3260] with implementation: lio-t`,
  };
}

export function failoverStack(o: FailoverOptions, fencing: FencingOptions): Plan {
  const p = new Problems();
  const P = o.name;
  p.check("name", P, resourceId);
  const mon = o.monitorInterval ?? "20s";
  p.check("monitor-interval", o.monitorInterval, duration);
  const members = [o.lvm, o.filesystems, o.targets, o.ips, o.services].reduce((n, l) => n + l.length, 0);
  if (!members) p.add("nothing to run: give at least one of lvm, filesystems, targets, ips, services");
  // every resource id, with the key that made it (a clash names both)
  const ids = new Map<string, string>();
  const idOf = (at: string, given: string | undefined, derived: string) => {
    const id = given ?? derived;
    const e = resourceId(id);
    if (e) p.add(`${at}${given === undefined ? "" : ".id"}: ${e}${given === undefined ? ` (the id made from it; give ${at}.id)` : ""}`);
    else if (ids.has(id)) p.add(`${at}: resource id "${id}" is also ${ids.get(id)}'s; give one of them an id`);
    ids.set(id, at);
    return id;
  };
  const group = idOf("name", undefined, `${P}-group`);
  const hasLuns = o.targets.some((t) => t.luns.length);
  const front = hasLuns ? idOf("name", undefined, `${P}-front`) : group;

  const drbd = o.drbd.map((d, i) => {
    const at = `drbd[${i}]`;
    p.check(`${at}.resource`, d.resource, drbdResource);
    p.check(`${at}.drbdconf`, d.drbdconf, absPath);
    if (d.cloneMax !== undefined && !(Number.isInteger(d.cloneMax) && d.cloneMax >= 2 && d.cloneMax <= 32)) p.add(`${at}.clone-max: 2-32`);
    const id = idOf(at, d.id, `${P}-drbd-${part(d.resource)}`);
    idOf(at, undefined, `${id}-clone`);
    return { ...d, id };
  });
  p.unique("drbd resource", o.drbd.map((d) => d.resource));

  if (o.lockType !== undefined && !["sanlock", "dlm"].includes(o.lockType)) p.add(`lock-type: "${o.lockType}" is not sanlock or dlm`);
  const lvs = o.lvm.map((l, i) => {
    const at = `lvm[${i}]`;
    p.check(`${at}.vg`, l.vg, lvmName);
    p.check(`${at}.lv`, l.lv, lvmName);
    if (l.access !== undefined && !["lvmlockd", "system_id"].includes(l.access)) p.add(`${at}.access: "${l.access}" is not lvmlockd or system_id`);
    return { ...l, id: idOf(at, l.id, `${P}-lv-${part(l.lv)}`) };
  });
  p.unique("lvm VG/LV", o.lvm.map((l) => `${l.vg}/${l.lv}`));
  const lockd = o.lvm.some((l) => (l.access ?? "lvmlockd") === "lvmlockd");
  if (o.lockType !== undefined && !lockd) p.add("lock-type: no LV uses lvmlockd (access: lvmlockd)");

  const fss = o.filesystems.map((f, i) => {
    const at = `filesystems[${i}]`;
    p.check(`${at}.device`, f.device, absPath);
    p.check(`${at}.directory`, f.directory, mountPoint);
    if (!FSTYPES.includes(f.fstype)) p.add(`${at}.fstype: "${f.fstype}" is not ${FSTYPES.join(", ")} (a filesystem one node mounts at a time; GFS2 is the gfs2 kind)`);
    if (f.options !== undefined && !/^[A-Za-z0-9_=.,:@/+-]+$/.test(f.options)) p.add(`${at}.options: "${f.options}" is not a mount option list`);
    return { ...f, id: idOf(at, f.id, `${P}-fs-${part(f.directory.replace(/\/+$/, "").split("/").pop() || "root")}`) };
  });
  p.unique("filesystems directory", o.filesystems.map((f) => f.directory));
  p.unique("filesystems device", o.filesystems.map((f) => f.device));

  const ips = o.ips.map((v, i) => {
    const at = `ips[${i}]`;
    const r = ipWithPrefix(v.address);
    if (typeof r === "string") p.add(`${at}.address: ${r}`);
    p.check(`${at}.nic`, v.nic, nic);
    return { ...v, r, id: idOf(at, v.id, `${P}-ip-${part(typeof r === "string" ? v.address : r.addr)}`) };
  });
  p.unique("ips address", o.ips.map((v) => v.address.split("/")[0]!));
  const vips = ips.flatMap((v) => (typeof v.r === "string" ? [] : [v.r.addr]));

  const targets = o.targets.map((t, i) => {
    const at = `targets[${i}]`;
    if (!t.luns.length) p.add(`${at}.luns: at least one LUN is required`);
    const c = checkTarget(p, { ...t, luns: t.luns.map((l, j) => ({ n: l.lun, path: l.path, label: `${at}.luns[${j}].path` })) }, vips, targetNames(at));
    const tail = /:([^:]+)$/.exec(t.iqn)?.[1] ?? t.iqn;
    const id = idOf(at, t.id, `${P}-target-${part(tail)}`);
    const luns = t.luns.map((l, j) => {
      for (const [k, v] of [["scsi-sn", l.scsiSn], ["scsi-id", l.scsiId]] as const)
        if (v !== undefined && !/^[\x21-\x7e]{1,253}$/.test(v)) p.add(`${at}.luns[${j}].${k}: "${v}" is not a SCSI identifier (printable, no spaces, at most 253)`);
      const ids = [...(l.scsiSn ? [`scsi_sn=${l.scsiSn}`] : []), ...(l.scsiId ? [`scsi_id=${l.scsiId}`] : [])];
      return { ...l, args: [...c.luns[j]!.args, ...ids], id: idOf(`${at}.luns[${j}]`, l.id, `${id}-lun${l.lun}`) };
    });
    return { id, args: c.target, luns, notes: c.notes, ports: c.ports };
  });
  p.unique("targets iqn", o.targets.map((t) => t.iqn));
  // one LUN path served twice would be two SCSI devices over one disk
  p.unique("targets LUN path", o.targets.flatMap((t) => t.luns.map((l) => l.path)));

  const services = o.services.map((s, i) => {
    const at = `services[${i}]`;
    p.check(`${at}.agent`, s.agent, agentSpec);
    for (const [k, v] of Object.entries(s.params ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/.test(k)) p.add(`${at}.params: "${k}" is not a parameter name`);
      // the pcs command line is argv: a secret there is in ps output and the script
      else if (isPasswordKey(k)) p.add(`${at}.params.${k}: a password in the CIB and on pcs's command line is readable by every local user; give the agent a file holding it`);
      else if (/[\x00-\x1f\x7f]/.test(v)) p.add(`${at}.params.${k}: control characters are not allowed`);
    }
    const type = /([^:]+)$/.exec(s.agent)?.[1] ?? "service";
    return { ...s, id: idOf(at, s.id, `${P}-${part(type)}`) };
  });

  const fence = planFencing(fencing, {
    stack: "failover",
    drbd: o.drbd.map((d) => drbdTarget(d.resource, d.drbdconf)),
    unfenced: ["WARNING: without fencing a lost cluster link makes both nodes run this stack: split brain (DRBD) or a filesystem mounted twice (shared LVs). Configure stonith."],
  }, p);
  if (p.list.length || !fence) throw new InvalidOptions(p.list);

  const cmds: string[][] = [];
  const resources: string[] = [];
  for (const d of drbd) {
    // as the drbd-fs and iscsi stacks
    cmds.push(...promotableDrbd(d.id, d.resource, d.drbdconf, d.cloneMax));
    resources.push(`${d.id}-clone`);
  }
  // a failed lock manager may leave locks held: fence the node, when the cluster fences at all
  // (with stonith-enabled=false Pacemaker resets on-fail=fence to stop and crm_verify calls it an error)
  const onFail = fence.method === "none" || fence.method === "drbd-quorum" ? [] : ["on-fail=fence"];
  const lockdClone = `${P}-lvmlockd-clone`;
  if (lockd) {
    const type = o.lockType ?? "sanlock";
    if (type === "dlm") {
      idOf("lock-type", undefined, `${P}-dlm`);
      cmds.push(...interleaved(["resource", "create", `${P}-dlm`, "ocf:pacemaker:controld", ...op("30s", ...onFail)]));
      resources.push(`${P}-dlm-clone`);
    }
    idOf("lock-type", undefined, `${P}-lvmlockd`);
    cmds.push(...interleaved(["resource", "create", `${P}-lvmlockd`, "ocf:tsstor:clvm", `lock_type=${type}`, ...op("30s", ...onFail)]));
    resources.push(lockdClone);
    if (type === "dlm") {
      cmds.push(["constraint", "order", "start", `${P}-dlm-clone`, "then", "start", lockdClone]);
      cmds.push(colocate(lockdClone, "with", `${P}-dlm-clone`));
    }
  }
  // each group's members, in start order: created first, then put into their group
  const grouped = new Map<string, string[]>();
  const inGroup = (id: string, args: string[], g = group) => {
    cmds.push(["resource", "create", id, ...args]);
    resources.push(id);
    grouped.set(g, [...(grouped.get(g) ?? []), id]);
  };
  for (const l of lvs) inGroup(l.id, ["ocf:tsstor:LVM-activate", `vgname=${l.vg}`, `lvname=${l.lv}`, `vg_access_mode=${l.access ?? "lvmlockd"}`, "activation_mode=exclusive", ...op(mon)]);
  for (const f of fss) inGroup(f.id, ["ocf:tsstor:Filesystem", `device=${f.device}`, `directory=${f.directory}`, `fstype=${f.fstype}`, ...(f.options ? [`options=${f.options}`] : []), ...op(mon)]);
  for (const t of targets) inGroup(t.id, [...t.args, ...op(mon)]);
  const luns = targets.flatMap((t) => t.luns.map((l) => ({ ...l, target: t.id })));
  for (const l of luns) {
    cmds.push(["resource", "create", l.id, ...l.args, ...op(mon)]);
    resources.push(l.id);
  }
  for (const v of ips) {
    if (typeof v.r === "string") continue;
    inGroup(v.id, ["ocf:tsstor:IPaddr2", `ip=${v.r.addr}`, ...(v.r.prefix !== undefined ? [`cidr_netmask=${v.r.prefix}`] : []), ...(v.nic ? [`nic=${v.nic}`] : []), ...tickle([...new Set(targets.flatMap((t) => t.ports))]), ...op("10s")], front);
  }
  for (const s of services) inGroup(s.id, [s.agent, ...Object.entries(s.params ?? {}).map(([k, v]) => `${k}=${v}`), ...op(mon)], front);
  for (const [g, ids] of grouped) cmds.push(groupAdd(g, ids));
  const frontUsed = front !== group && (ips.length > 0 || services.length > 0);
  for (const l of luns) {
    // a LUN lives with its target (in the group: the node, and after the target starts)
    cmds.push(colocate(l.id, "with", group));
    cmds.push(["constraint", "order", "start", group, "then", "start", l.id]);
    // IPs after every LUN when they start together (initiators see all LUNs at login), but
    // Optional: a LUN starting or failing alone leaves the IPs, and every session, alone
    if (frontUsed) cmds.push(["constraint", "order", "start", l.id, "then", "start", front, "kind=Optional"]);
  }
  if (frontUsed) {
    cmds.push(colocate(front, "with", group));
    cmds.push(["constraint", "order", "start", group, "then", "start", front]);
  }
  // every DRBD Primary on the same node: a group colocated with each Promoted role alone is not
  // enough: when the resources prefer different nodes (one resynced further on each), Pacemaker
  // promotes each where it scores best and the group can run nowhere (seen in crm_simulate)
  for (const d of drbd.slice(1)) cmds.push(colocate("Promoted", `${d.id}-clone`, "with", "Promoted", `${drbd[0]!.id}-clone`));
  for (const d of drbd) {
    // the group runs where every DRBD is Primary, and starts after every promotion
    cmds.push(colocate(group, "with", "Promoted", `${d.id}-clone`));
    cmds.push(["constraint", "order", "promote", `${d.id}-clone`, "then", "start", group]);
  }
  if (lockd) {
    cmds.push(["constraint", "order", "start", lockdClone, "then", "start", group]);
    cmds.push(colocate(group, "with", lockdClone));
  }
  const chain = [
    ...drbd.map((d) => `DRBD ${d.resource}`),
    ...(lockd ? [`lvmlockd (${o.lockType ?? "sanlock"})`] : []),
  ];
  const what = [
    ...lvs.map((l) => `LV ${l.vg}/${l.lv} (exclusive)`),
    ...fss.map((f) => `${f.fstype} ${f.device} at ${f.directory}`),
    ...targets.flatMap((t, i) => [`target ${o.targets[i]!.iqn}`, ...t.luns.map((l) => `LUN ${l.lun} ${l.path}`)]),
    ...o.ips.map((v) => v.address),
    ...o.services.map((s) => s.agent),
  ];
  return withFencing(fence, {
    stack: `failover ${P}`,
    notes: [
      `${chain.length ? `${chain.join(", ")} -> ` : ""}${what.join(" -> ")}: everything runs on one node and fails over together.`,
      ...(frontUsed ? [`Groups ${group} (storage, targets) and ${front} (IPs, services); each LUN between them: a LUN added or failing alone does not restart the IPs.`] : [`Group ${group}.`]),
      "Start order is the order above; stop order is the reverse.",
      ...targets.flatMap((t) => t.notes),
    ],
    commands: cmds,
    resources,
  });
}
