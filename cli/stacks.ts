// The bundled stacks: each builder validates its options completely, then returns the pcs
// commands (argv, without "pcs -f FILE") that build the stack in one CIB transaction.
// Why the constraints look as they do is written next to them; docs/stacks.md has the pictures.
// Fencing is every stack's first part: cli/fencing.ts plans it from the --fencing options.
import { planFencing, type CibRequirement, type Fencing, type FencingOptions, type DrbdTarget, type NodeStep } from "./fencing.js";
import { chapError, chapPairError } from "../lib/iscsi/syntax.js";
import { parseInitiatorPortal, portalArg, portalError as initiatorPortalError } from "../lib/iscsi/initiator.js";
import { Problems, absPath, agentSpec, drbdResource, duration, iqn, ipWithPrefix, lvmName, mountPoint, nameValue, nic, portal, resourceId } from "./validate.js";

export interface Plan {
  stack: string;
  /** comment lines printed at the top of the script */
  notes: string[];
  /** pcs argv lists, each run as `pcs -f CIB ...` */
  commands: string[][];
  /** every resource id the plan creates, in start order */
  resources: string[];
  /** how the cluster is fenced: the method and the fence devices the plan creates */
  fencing: { method: string; devices: string[] };
  /** commands run on this node before the CIB transaction (sbd initialisation, enabling sbd) */
  nodeSteps: NodeStep[];
  /** properties the live CIB must show before the push */
  requires: CibRequirement[];
}

/** Fencing first (one transaction: the cluster never holds the stack without it), then the stack. */
export function withFencing(f: Fencing, plan: Omit<Plan, "fencing" | "nodeSteps" | "requires">): Plan {
  return {
    ...plan,
    notes: [...plan.notes, ...f.notes],
    commands: [...f.commands, ...plan.commands],
    fencing: { method: f.method, devices: f.devices },
    nodeSteps: f.nodeSteps,
    requires: f.requires,
  };
}

/** The DRBD resource a stack's fencing check reads (checked only when its name and drbdconf are valid). */
export const drbdTarget = (resource: string | undefined, conf: string | undefined): DrbdTarget => ({
  resource: resource ?? "",
  conf,
  checkable: resource !== undefined && !drbdResource(resource) && (conf === undefined || !absPath(conf)),
});

export class InvalidOptions extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid options:\n  ${problems.join("\n  ")}`);
  }
}

export const op = (interval: string, ...more: string[]) => ["op", "monitor", `interval=${interval}`, ...more];

// The pcs forms below mean the same and print no warning on pcs 0.11.5 (Debian 12) and 0.12.0.2
// (Debian 13); docs/platforms.md has the table, test/stack/pcs-versions.test.ts applies every
// stack with both. pcs 0.12 deprecates a bare constraint score, `resource create ... --group`, and
// clone options without `meta`; and `clone|promotable meta k=v` puts k=v on the primitive (both).

/** `constraint colocation add [ROLE] A with [ROLE] B score=INFINITY` (a bare INFINITY: deprecated in 0.12). */
export const colocate = (...words: string[]) => ["constraint", "colocation", "add", ...words, "score=INFINITY"];

/**
 * `resource create ID ...` in a clone (`clone`) or promotable clone (`promotable`), then its meta
 * attributes set on the clone ID-clone by `resource meta`.
 */
export const cloned = (create: string[], kind: "clone" | "promotable", meta: string[]): string[][] => [
  [...create, kind],
  ["resource", "meta", `${create[2]}-clone`, ...meta],
];

/** A clone with interleave=true: an instance waits only for its own node's instances of the clones before it. */
export const interleaved = (create: string[]) => cloned(create, "clone", ["interleave=true"]);

/** The primitives `members` (created before) into group `g`, in this order (instead of create's --group). */
export const groupAdd = (g: string, members: string[]) => ["resource", "group", "add", g, ...members];

/** A promotable DRBD clone as every stack runs it: distinct monitor intervals per role, one Primary, notify. */
export const promotableDrbd = (id: string, resource: string, drbdconf: string | undefined, cloneMax = 2): string[][] =>
  cloned(
    ["resource", "create", id, "ocf:tsstor:drbd", `drbd_resource=${resource}`, ...(drbdconf ? [`drbdconf=${drbdconf}`] : []), ...op("29s", "role=Promoted"), ...op("31s", "role=Unpromoted")],
    "promotable",
    ["promoted-max=1", "promoted-node-max=1", `clone-max=${cloneMax}`, "clone-node-max=1", "notify=true"],
  );

// ---- iSCSI: DRBD promotable -> iSCSITarget -> LUs -> virtual IPs ----

export interface IscsiOptions {
  prefix: string;
  /** DRBD resource backing the LUNs; undefined with san=true */
  drbdResource?: string;
  /** drbd.conf of the DRBD agent (default: the agent's /etc/drbd.conf) */
  drbdconf?: string;
  /** shared SAN LUN variant: no DRBD, the target simply runs on one node */
  san?: boolean;
  iqn: string;
  /** "N:/dev/path" */
  luns: string[];
  portals?: string[];
  initiators?: string[];
  /** no initiator list: any initiator that reaches a portal may log in (only when spelled out) */
  allowAnyInitiator?: boolean;
  /** incoming CHAP: the user, and a root-only file holding the secret at the same path on every node */
  chap?: ChapOption;
  /** mutual CHAP: the target's own user and secret file (initiators authenticate the target) */
  mutualChap?: ChapOption;
  /** "ADDR[/PREFIX]" */
  ips: string[];
  nic?: string;
  implementation?: string;
  /** tgt target id (upstream's tgt implementation requires it) */
  tid?: number;
  cloneMax?: number;
  monitorInterval?: string;
}

export interface ChapOption {
  user?: string;
  file?: string;
}

/** Initiators able to log in without knowing anything secret: the stack refuses unless asked. */
export const OPEN_TARGET =
  "give the initiators allowed to log in (--initiator IQN, repeat), or --allow-any-initiator to let any host that reaches the portal read and write every LUN (then use --chap-user/--chap-secret-file)";

/**
 * --chap/--mutual-chap as agent parameters (user and secret-file parameter names per direction):
 * user and file together, the file read as the agent will read it, the rules binding the two
 * directions (lib/iscsi/syntax chapPairError, which the agents enforce at start) checked here first.
 */
export function chapOptionParams(
  p: Problems,
  o: { chap?: ChapOption; mutualChap?: ChapOption },
  keys: [[string, string], [string, string]],
  implementation?: string,
  flags: [string, string] = ["--chap", "--mutual-chap"],
): string[] {
  const out: string[] = [];
  // what each direction gave (its secret once read and well-formed), for the pair rules below
  const read: ({ user: string; password?: string } | undefined)[] = [undefined, undefined];
  const given = (c: ChapOption | undefined) => c?.user !== undefined || c?.file !== undefined;
  for (const [i, [flag, c]] of ([
    [flags[0], o.chap],
    [flags[1], o.mutualChap],
  ] as const).entries()) {
    if (!c || !given(c)) continue;
    if (c.user === undefined || c.file === undefined) {
      p.add(`${flag}-user and ${flag}-secret-file go together`);
      continue;
    }
    p.check(`${flag}-user`, c.user, chapError);
    const secret = p.secretFile(`${flag}-secret-file`, c.file);
    // never echo the secret, even a malformed one
    const e = secret === undefined ? undefined : chapError(secret);
    if (e) p.add(`${flag}-secret-file ${c.file}: the secret on its first line ${e}`);
    read[i] = { user: c.user, ...(secret === undefined || e ? {} : { password: secret }) };
    out.push(`${keys[i]![0]}=${c.user}`, `${keys[i]![1]}=${c.file}`);
  }
  const [chap, mutual] = read;
  if (given(o.mutualChap) && !given(o.chap)) p.add(`${flags[1]}-user needs ${flags[0]}-user: the initiator authenticates first, then the target`);
  const pair = chapPairError(implementation, chap, mutual);
  if (pair) p.add(`${flags[0]}/${flags[1]}: ${pair}`);
  return out;
}

/** One iSCSI target and its LUNs, as the iscsi stack and the failover stack file give them. */
export interface TargetInput {
  iqn: string;
  implementation?: string;
  tid?: number;
  /** parsed LUNs; `label` names the LUN in errors */
  luns: Array<{ n: number; path: string; label: string }>;
  portals?: string[];
  initiators?: string[];
  allowAnyInitiator?: boolean;
  chap?: ChapOption;
  mutualChap?: ChapOption;
}

/** How errors and notes name each target option: command-line flags, or stack file keys. */
export interface TargetNames {
  iqn: string;
  lun: string;
  portal: string;
  initiator: string;
  allowAny: string;
  implementation: string;
  tid: string;
  chap: [string, string];
  /** how to limit the portal to the service address */
  portalHint: string;
}

const CLI_TARGET: TargetNames = {
  iqn: "--iqn",
  lun: "--lun",
  portal: "--portal",
  initiator: "--initiator",
  allowAny: "--allow-any-initiator",
  implementation: "--implementation",
  tid: "--tid",
  chap: ["--chap", "--mutual-chap"],
  portalHint: "--portal VIP:3260 --implementation lio-t",
};

/**
 * Validate a target and its LUNs (problems go to `p`); `vips` are the addresses of the stack's
 * virtual IPs. Returns the agents' pcs arguments (after the resource id) and the access notes.
 */
/**
 * IPaddr2's tickle_ports for a virtual IP in front of iSCSI portals: the node that takes the
 * address over resets the initiators' old connections at once (docs/stacks.md).
 */
export const tickle = (ports: number[]): string[] => (ports.length ? [`tickle_ports=${ports.join(",")}`] : []);

export function checkTarget(p: Problems, o: TargetInput, vips: string[], n: TargetNames): { target: string[]; luns: Array<{ n: number; args: string[] }>; notes: string[]; ports: number[] } {
  p.check(n.iqn, o.iqn, iqn);
  if (o.implementation !== undefined && !["lio-t", "tgt"].includes(o.implementation)) p.add(`${n.implementation}: "${o.implementation}" is not lio-t or tgt`);
  for (const l of o.luns) {
    if (!Number.isInteger(l.n) || l.n < 0 || l.n > 16383) p.add(`${n.lun}: LUN ${l.n} is above 16383`);
    if (l.n === 0 && o.implementation === "tgt") p.add(`${n.lun}: LUN 0 is tgt's controller LUN; start at 1`);
    p.check(l.label, l.path, absPath);
  }
  p.unique(`${n.lun} number`, o.luns.map((l) => String(l.n)));
  p.unique(`${n.lun} path`, o.luns.map((l) => l.path));
  const portals = o.portals?.length ? o.portals : ["0.0.0.0:3260"];
  const vipPortals: string[] = [];
  const ports = new Set<number>();
  for (const v of portals) {
    const r = portal(v);
    if (typeof r !== "string") ports.add(r.port);
    if (typeof r === "string") p.add(`${n.portal}: ${r}`);
    else if (vips.includes(r.addr)) {
      // the target starts before the IPs (initiators must not connect before every LUN exists):
      // LIO binds a portal on an address the node does not have yet only with ip_nonlocal_bind;
      // tgt's portals belong to tgtd, whose default wildcard portal already holds the port
      if (o.implementation !== "lio-t") p.add(`${n.portal} ${v}: a portal on a virtual IP needs ${n.implementation} lio-t (tgt's portals belong to tgtd: start tgtd with --iscsi portal=${v} instead)`);
      else vipPortals.push(v);
    } else if (!/^(0\.0\.0\.0|\[::\])(:\d+)?$/.test(v)) {
      p.add(`${n.portal} ${v}: not a virtual IP of this stack: an address one node owns does not exist on the other; use a ${n === CLI_TARGET ? "--ip" : "virtual IP"} address or 0.0.0.0`);
    }
  }
  p.unique(n.portal, portals);
  for (const i of o.initiators ?? []) p.check(n.initiator, i, iqn);
  p.unique(n.initiator, o.initiators ?? []);
  if (o.initiators?.length && o.allowAnyInitiator) p.add(`${n.initiator} and ${n.allowAny} exclude each other`);
  else if (!o.initiators?.length && !o.allowAnyInitiator) p.add(`no initiator list: ${n === CLI_TARGET ? OPEN_TARGET : `give ${n.initiator} (the initiators allowed to log in), or ${n.allowAny}: true to let any host that reaches the portal read and write every LUN (then use CHAP)`}`);
  const chap = chapOptionParams(p, o, [["incoming_username", "incoming_password_file"], ["outgoing_username", "outgoing_password_file"]], o.implementation, n.chap);
  if (o.tid !== undefined && !(Number.isInteger(o.tid) && o.tid >= 1 && o.tid <= 65535)) p.add(`${n.tid}: 1-65535`);
  const impl = o.implementation ? [`implementation=${o.implementation}`] : [];
  const allowed = o.initiators?.length ? [`allowed_initiators=${o.initiators.join(" ")}`] : [];
  return {
    target: ["ocf:tsstor:iSCSITarget", `iqn=${o.iqn}`, `portals=${portals.join(" ")}`, ...allowed, ...chap, ...impl, ...(o.tid !== undefined ? [`tid=${o.tid}`] : [])],
    luns: o.luns.map((l) => ({ n: l.n, args: ["ocf:tsstor:iSCSILogicalUnit", `target_iqn=${o.iqn}`, `lun=${l.n}`, `path=${l.path}`, ...allowed, ...impl] })),
    notes: accessNotes(o, chap, vipPortals, n),
    ports: [...ports],
  };
}

export function iscsiStack(o: IscsiOptions, fencing: FencingOptions): Plan {
  const p = new Problems();
  p.check("--prefix", o.prefix, resourceId);
  if (o.san && o.drbdResource) p.add("--drbd-resource and --no-drbd exclude each other");
  if (!o.san && !o.drbdResource) p.add("--drbd-resource is required (or --no-drbd for a shared SAN LUN)");
  p.check("--drbd-resource", o.drbdResource, drbdResource);
  p.check("--drbdconf", o.drbdconf, absPath);
  if (o.drbdconf && o.san) p.add("--drbdconf needs DRBD (not with --no-drbd)");
  if (!o.luns.length) p.add("--lun: at least one LUN (N:/dev/path) is required");
  const luns: TargetInput["luns"] = [];
  for (const l of o.luns) {
    const m = /^(\d{1,5}):(.+)$/.exec(l);
    if (!m) p.add(`--lun: "${l}" is not N:/dev/path`);
    else luns.push({ n: Number(m[1]), path: m[2]!, label: `--lun ${l}` });
  }
  if (!o.ips.length) p.add("--ip: at least one virtual IP is required (initiators connect to it)");
  const ips = o.ips.map((v) => ({ v, r: ipWithPrefix(v) }));
  for (const { r } of ips) if (typeof r === "string") p.add(`--ip: ${r}`);
  p.unique("--ip", ips.map(({ v }) => v.split("/")[0]!));
  p.check("--nic", o.nic, nic);
  const t = checkTarget(p, { ...o, luns }, ips.flatMap(({ r }) => (typeof r === "string" ? [] : [r.addr])), CLI_TARGET);
  p.check("--monitor-interval", o.monitorInterval, duration);
  if (o.cloneMax !== undefined && !(Number.isInteger(o.cloneMax) && o.cloneMax >= 2 && o.cloneMax <= 32)) p.add("--clone-max: 2-32");
  const fence = planFencing(fencing, {
    stack: "iscsi",
    drbd: o.san ? undefined : [drbdTarget(o.drbdResource, o.drbdconf)],
    unfenced: [
      "WARNING: without fencing (stonith) a lost cluster link makes both nodes Primary and both serve",
      "the virtual IP: split brain and diverging data. Configure stonith before production use.",
    ],
  }, p);
  if (p.list.length || !fence) throw new InvalidOptions(p.list);

  const P = o.prefix;
  const mon = o.monitorInterval ?? "10s";
  const drbd = `${P}-drbd`;
  const drbdClone = `${drbd}-clone`;
  const target = `${P}-target`;
  const cmds: string[][] = [];
  const resources: string[] = [];
  if (!o.san) {
    // as the two-node DRBD + iSCSI how-tos: monitors with distinct intervals per role; promoted-max 1 (single primary);
    // notify for the peer-state bookkeeping the DRBD agent does in notify.
    cmds.push(...promotableDrbd(drbd, o.drbdResource!, o.drbdconf, o.cloneMax));
    resources.push(drbdClone);
  }
  cmds.push(["resource", "create", target, ...t.target, ...op(mon)]);
  resources.push(target);
  const luIds: string[] = [];
  for (const l of t.luns) {
    const id = `${P}-lun${l.n}`;
    luIds.push(id);
    cmds.push(["resource", "create", id, ...l.args, ...op(mon)]);
    resources.push(id);
  }
  const ipIds: string[] = [];
  ips.forEach(({ r }, i) => {
    if (typeof r === "string") return;
    const id = `${P}-ip${i + 1}`;
    ipIds.push(id);
    cmds.push([
      "resource", "create", id, "ocf:tsstor:IPaddr2", `ip=${r.addr}`, ...(r.prefix !== undefined ? [`cidr_netmask=${r.prefix}`] : []),
      ...(o.nic ? [`nic=${o.nic}`] : []), ...tickle(t.ports), ...op(mon),
    ]);
    resources.push(id);
  });
  if (!o.san) {
    // the target lives where DRBD is Primary and starts only after the promotion
    cmds.push(colocate(target, "with", "Promoted", drbdClone));
    cmds.push(["constraint", "order", "promote", drbdClone, "then", "start", target]);
  }
  for (const lu of luIds) {
    // mandatory: a LUN cannot exist without its target; a target restart restarts its LUNs
    cmds.push(colocate(lu, "with", target));
    cmds.push(["constraint", "order", "start", target, "then", "start", lu]);
  }
  for (const ip of ipIds) {
    // the constraints those how-tos forget: the VIP must follow the target (and so the Promoted DRBD)
    cmds.push(colocate(ip, "with", target));
    cmds.push(["constraint", "order", "start", target, "then", "start", ip]);
    // IPs come up after every LUN exists (initiators see all LUNs at login), but Optional: a
    // failed LUN is recovered alone, without dropping every session through the VIP
    for (const lu of luIds) cmds.push(["constraint", "order", "start", lu, "then", "start", ip, "kind=Optional"]);
  }
  return withFencing(fence, {
    stack: o.san ? "iscsi (shared SAN LUN, no DRBD)" : "iscsi (DRBD)",
    notes: [
      o.san
        ? `iSCSI target ${o.iqn} on one node at a time over a shared LUN, behind ${o.ips.join(", ")}.`
        : `DRBD ${o.drbdResource} (promotable, one Primary) -> iSCSI target ${o.iqn} -> ${luIds.length} LUN(s) -> ${ipIds.length} virtual IP(s).`,
      "Start order: " + (o.san ? "" : "promote DRBD -> ") + "target -> LUNs -> IPs; stop order is the reverse.",
      ...t.notes,
    ],
    commands: cmds,
    resources,
  });
}

/** Who can log in, and what the operator must do on every node for it. */
function accessNotes(o: TargetInput, chap: string[], vipPortals: string[], n0: TargetNames): string[] {
  const n: string[] = [];
  n.push(o.initiators?.length ? `Initiators allowed: ${o.initiators.join(", ")}.` : `Any initiator that reaches a portal may log in (${n0.allowAny}).`);
  if (o.mutualChap?.file) n.push("CHAP: initiators log in with CHAP, and the target answers with mutual CHAP.");
  else if (chap.length) n.push("CHAP: initiators log in with CHAP (one-way).");
  else n.push(`No CHAP: ${o.initiators?.length ? "initiator names are not secret; any host that reaches a portal can claim one." : "WARNING: nothing but network reachability keeps other hosts from every LUN."}`);
  const files = [o.chap?.file, o.mutualChap?.file].filter((x): x is string => !!x);
  if (files.length) n.push(`Secret file(s) ${files.join(", ")}: copy to the same path on every node (root, mode 0600); the CIB holds only the path.`);
  if (vipPortals.length) {
    n.push(
      `Portal(s) ${vipPortals.join(", ")} on a virtual IP: the target binds them before the IP starts, which LIO does only with`,
      "net.ipv4.ip_nonlocal_bind=1 (net.ipv6.ip_nonlocal_bind=1 for IPv6) on EVERY node, before this stack starts:",
      "  echo net.ipv4.ip_nonlocal_bind=1 > /etc/sysctl.d/90-tsstor-iscsi.conf && sysctl -p /etc/sysctl.d/90-tsstor-iscsi.conf",
    );
  } else {
    n.push(`Portal 0.0.0.0: the target listens on every address of the node, cluster and replication networks included; ${n0.portalHint} limits it to the service address.`);
  }
  return n;
}

// ---- GFS2: dlm -> lvmlockd (ocf:tsstor:clvm) -> shared LV activation -> gfs2 mount, all clones ----

export interface Gfs2Options {
  prefix: string;
  /** "VG/LV:/mount/point" */
  filesystems: string[];
  options?: string;
  lockType?: "dlm" | "sanlock";
  monitorInterval?: string;
}

interface SharedFs {
  vg: string;
  lv: string;
  dir: string;
}

/** --fs VG/LV:/mount/point values, checked. */
function sharedFilesystems(p: Problems, filesystems: string[]): SharedFs[] {
  const fss: SharedFs[] = [];
  for (const f of filesystems) {
    const m = /^([^/:]+)\/([^/:]+):(.+)$/.exec(f);
    if (!m) {
      p.add(`--fs: "${f}" is not VG/LV:/mount/point`);
      continue;
    }
    p.check(`--fs ${f} VG`, m[1], lvmName);
    p.check(`--fs ${f} LV`, m[2], lvmName);
    p.check(`--fs ${f} mount point`, m[3], mountPoint);
    fss.push({ vg: m[1]!, lv: m[2]!, dir: m[3]! });
  }
  p.unique("--fs VG/LV", fss.map((f) => `${f.vg}/${f.lv}`));
  p.unique("--fs mount point", fss.map((f) => f.dir));
  return fss;
}

const GFS2_UNFENCED = [
  "WARNING: without fencing, DLM blocks GFS2 on every node after a node failure until the node is",
  "fenced, and the failures the monitors fence (on-fail=fence) cannot be recovered. GFS2 needs stonith.",
];

/**
 * The cluster LVM layer every node runs: dlm -> lvmlockd clones, then per filesystem a shared LV
 * activation and its GFS2 mount (clones, interleaved). `activateVgs` are shared VGs whose
 * lockspaces lvmlockd starts itself (VGs whose LVs someone else activates, e.g. VM disks).
 */
function clusterLvm(P: string, o: { lockType?: string; options?: string; monitorInterval?: string }, fss: SharedFs[], activateVgs: string[] = []) {
  const mon = o.monitorInterval ?? "30s";
  const dlm = `${P}-dlm`;
  const lockd = `${P}-lvmlockd`;
  // a node that loses quorum must freeze (keep its mounts, do no recovery) rather than stop:
  // stopping gfs2 needs DLM, which needs quorum
  const cmds: string[][] = [["property", "set", "no-quorum-policy=freeze"]];
  const resources = [`${dlm}-clone`, `${lockd}-clone`];
  const lvClones: string[] = [];
  // dlm and lvmlockd failures can leave locks held cluster-wide: fence the node (needs stonith)
  cmds.push(...interleaved(["resource", "create", dlm, "ocf:pacemaker:controld", ...op(mon, "on-fail=fence")]));
  cmds.push(...interleaved([
    "resource", "create", lockd, "ocf:tsstor:clvm", `lock_type=${o.lockType ?? "dlm"}`, ...(activateVgs.length ? [`activate_vgs=${activateVgs.join(" ")}`] : []),
    ...op(mon, "on-fail=fence"),
  ]));
  cmds.push(["constraint", "order", "start", `${dlm}-clone`, "then", "start", `${lockd}-clone`]);
  cmds.push(colocate(`${lockd}-clone`, "with", `${dlm}-clone`));
  fss.forEach((f, i) => {
    const n = fss.length > 1 ? String(i + 1) : "";
    const lv = `${P}-lv${n}`;
    const fs = `${P}-fs${n}`;
    cmds.push(...interleaved([
      "resource", "create", lv, "ocf:tsstor:LVM-activate", `vgname=${f.vg}`, `lvname=${f.lv}`, "vg_access_mode=lvmlockd", "activation_mode=shared",
      ...op(mon),
    ]));
    cmds.push(...interleaved([
      "resource", "create", fs, "ocf:tsstor:Filesystem", `device=/dev/${f.vg}/${f.lv}`, `directory=${f.dir}`, "fstype=gfs2",
      ...(o.options ? [`options=${o.options}`] : []), ...op("10s", "on-fail=fence"),
    ]));
    cmds.push(["constraint", "order", "start", `${lockd}-clone`, "then", "start", `${lv}-clone`]);
    cmds.push(colocate(`${lv}-clone`, "with", `${lockd}-clone`));
    cmds.push(["constraint", "order", "start", `${lv}-clone`, "then", "start", `${fs}-clone`]);
    cmds.push(colocate(`${fs}-clone`, "with", `${lv}-clone`));
    resources.push(`${lv}-clone`, `${fs}-clone`);
    lvClones.push(`${lv}-clone`);
  });
  return { cmds, resources, lockdClone: `${lockd}-clone`, lvClones };
}

const GFS2_NEEDS = "Needs: shared VG created with `vgcreate --shared`, GFS2 made with `mkfs.gfs2 -p lock_dlm -t CLUSTER:NAME -j NODES`.";
const GFS2_FENCE_NOTE = "no-quorum-policy=freeze; dlm, lvmlockd and mount monitor failures fence the node: GFS2 needs working stonith.";

export function gfs2Stack(o: Gfs2Options, fencing: FencingOptions): Plan {
  const p = new Problems();
  p.check("--prefix", o.prefix, resourceId);
  if (!o.filesystems.length) p.add("--fs: at least one VG/LV:/mount/point is required");
  const fss = sharedFilesystems(p, o.filesystems);
  if (o.options !== undefined && !/^[A-Za-z0-9_=.,:@/+-]+$/.test(o.options)) p.add(`--options: "${o.options}" is not a mount option list`);
  if (o.lockType !== undefined && !["dlm", "sanlock"].includes(o.lockType)) p.add(`--lock-type: "${o.lockType}" is not dlm or sanlock`);
  p.check("--monitor-interval", o.monitorInterval, duration);
  const fence = planFencing(fencing, { stack: "gfs2", unfenced: GFS2_UNFENCED }, p);
  if (p.list.length || !fence) throw new InvalidOptions(p.list);
  const c = clusterLvm(o.prefix, o, fss);
  return withFencing(fence, {
    stack: "gfs2",
    notes: [`dlm -> lvmlockd (${o.lockType ?? "dlm"}) -> shared LV activation -> GFS2 mount on every node; clones interleaved.`, GFS2_NEEDS, GFS2_FENCE_NOTE],
    commands: c.cmds,
    resources: c.resources,
  });
}

// ---- SAN: iSCSI initiator clone per portal -> (multipath) -> dlm -> lvmlockd -> shared LVs -> GFS2 ----

export interface SanOptions {
  prefix: string;
  /** the array's target */
  target: string;
  /** the array's portals, one path (one iscsi clone) each */
  portals: string[];
  /** initiator CHAP (the array checks the node) and mutual CHAP (the node checks the array) */
  chap?: ChapOption;
  mutualChap?: ChapOption;
  /** "VG/LV:/mount/point": GFS2 on a shared LV */
  filesystems: string[];
  /** shared VGs whose LVs are VM disks (no filesystem): lvmlockd starts their lockspaces */
  vmVgs: string[];
  options?: string;
  lockType?: "dlm" | "sanlock";
  /** false: LVM on the iSCSI disks directly (one portal, no multipathd) */
  multipath?: boolean;
  monitorInterval?: string;
}

export function sanStack(o: SanOptions, fencing: FencingOptions): Plan {
  const p = new Problems();
  const multipath = o.multipath ?? true;
  p.check("--prefix", o.prefix, resourceId);
  p.check("--target", o.target, iqn);
  if (!o.portals.length) p.add("--portal: at least one portal of the array (ADDR[:PORT]) is required");
  for (const v of o.portals) p.check("--portal", v, initiatorPortalError);
  p.unique("--portal", o.portals.map((v) => { const r = parseInitiatorPortal(v); return typeof r === "string" ? v : portalArg(r); }));
  if (!multipath && o.portals.length > 1) p.add("--no-multipath with several --portal: each LUN would appear once per portal and LVM would see duplicate PVs; use multipath");
  if (!o.filesystems.length && !o.vmVgs.length) p.add("--fs VG/LV:/mount/point (GFS2) or --vm-vg VG (a shared VG for VM disks) is required");
  const fss = sharedFilesystems(p, o.filesystems);
  for (const v of o.vmVgs) p.check("--vm-vg", v, lvmName);
  p.unique("--vm-vg", o.vmVgs);
  for (const v of o.vmVgs) if (fss.some((f) => f.vg === v)) p.add(`--vm-vg ${v}: already the VG of a --fs (its lockspace starts with the LV activation)`);
  if (o.options !== undefined && !/^[A-Za-z0-9_=.,:@/+-]+$/.test(o.options)) p.add(`--options: "${o.options}" is not a mount option list`);
  if (o.lockType !== undefined && !["dlm", "sanlock"].includes(o.lockType)) p.add(`--lock-type: "${o.lockType}" is not dlm or sanlock`);
  p.check("--monitor-interval", o.monitorInterval, duration);
  const chap = chapOptionParams(p, o, [["chap_username", "chap_password_file"], ["chap_username_in", "chap_password_in_file"]]);
  const fence = planFencing(fencing, { stack: "san", unfenced: GFS2_UNFENCED }, p);
  if (p.list.length || !fence) throw new InvalidOptions(p.list);

  const P = o.prefix;
  const cmds: string[][] = [];
  const paths: string[] = [];
  o.portals.forEach((v, i) => {
    const id = `${P}-path${o.portals.length > 1 ? i + 1 : ""}`;
    paths.push(`${id}-clone`);
    cmds.push(...interleaved([
      "resource", "create", id, "ocf:tsstor:iscsi", `portal=${v}`, `target=${o.target}`, ...(multipath ? ["multipath=true"] : []), ...chap,
      ...op(o.monitorInterval ?? "30s"),
    ]));
  });
  const c = clusterLvm(P, o, fss, o.vmVgs);
  cmds.push(...c.cmds);
  // The LUN is needed by what reads the VG: the LV activations, and lvmlockd when it starts VG
  // lockspaces itself. Optional orders: when both are in one transition (the stack starting, a
  // node joining, the stack stopping) the paths start first and stop last; a path failing alone
  // (its monitor fails, its link is cut) restarts alone and never takes GFS2 down with it, while
  // multipath keeps the other path, and its stop refuses while it is the last path in use.
  const users = [...c.lvClones, ...(o.vmVgs.length ? [c.lockdClone] : [])];
  for (const path of paths) for (const u of users) cmds.push(["constraint", "order", "start", path, "then", "start", u, "kind=Optional"]);
  const what = [...(fss.length ? [`GFS2 on ${fss.map((f) => `${f.vg}/${f.lv} at ${f.dir}`).join(", ")}`] : []), ...(o.vmVgs.length ? [`shared VG(s) ${o.vmVgs.join(", ")} for VM disks (lockspaces started by lvmlockd; the LVs are activated by whoever runs the VM)`] : [])];
  return withFencing(fence, {
    stack: "san",
    notes: [
      `iSCSI ${o.target} through ${o.portals.length} portal(s) (${o.portals.join(", ")}), one initiator clone each${multipath ? ", joined by multipath" : ""} -> dlm -> lvmlockd (${o.lockType ?? "dlm"}) -> ${what.join("; ")}.`,
      "Stop runs in reverse: unmount, LV deactivation, lvmlockd, then the logouts (a logout refuses while its LUN is in use).",
      ...(multipath
        ? [
            "Every node: multipathd running with the array's LUNs not blacklisted (local disks and DRBD devices blacklisted), a finite no_path_retry",
            "in overrides (never queue_if_no_path under GFS2: a node that loses the array must fail its I/O and be fenced); `tsstor doctor`",
            "checks multipath.conf. And in /etc/iscsi/iscsid.conf node.session.timeo.replacement_timeout = 5..15, so a cut path fails over in seconds.",
          ]
        : []),
      "Every node: pacemaker stops before iscsid/multipathd at shutdown (resource-agents-deps.target drop-in; `tsstor doctor` checks it).",
      ...(fss.length ? [GFS2_NEEDS] : ["Needs: the shared VG created with `vgcreate --shared` on the multipath device."]),
      GFS2_FENCE_NOTE,
    ],
    commands: cmds,
    resources: [...paths, ...c.resources],
  });
}

// ---- DRBD + filesystem: DRBD promotable -> Filesystem -> VIP -> optional service (a group) ----

export interface DrbdFsOptions {
  prefix: string;
  drbdResource: string;
  drbdconf?: string;
  device: string;
  directory: string;
  fstype: string;
  options?: string;
  ip: string;
  nic?: string;
  service?: string;
  serviceParams?: string[];
  cloneMax?: number;
  monitorInterval?: string;
}

export function drbdFsStack(o: DrbdFsOptions, fencing: FencingOptions): Plan {
  const p = new Problems();
  p.check("--prefix", o.prefix, resourceId);
  p.check("--drbd-resource", o.drbdResource, drbdResource);
  p.check("--drbdconf", o.drbdconf, absPath);
  p.check("--device", o.device, absPath);
  p.check("--directory", o.directory, mountPoint);
  if (!["ext4", "xfs", "ext3"].includes(o.fstype)) p.add(`--fstype: "${o.fstype}" is not ext4, xfs or ext3 (a single-node filesystem; use the gfs2 stack for a cluster one)`);
  if (o.options !== undefined && !/^[A-Za-z0-9_=.,:@/+-]+$/.test(o.options)) p.add(`--options: "${o.options}" is not a mount option list`);
  const ip = ipWithPrefix(o.ip);
  if (typeof ip === "string") p.add(`--ip: ${ip}`);
  p.check("--nic", o.nic, nic);
  p.check("--service", o.service, agentSpec);
  for (const s of o.serviceParams ?? []) p.check("--service-param", s, nameValue);
  if (o.serviceParams?.length && !o.service) p.add("--service-param needs --service");
  p.check("--monitor-interval", o.monitorInterval, duration);
  if (o.cloneMax !== undefined && !(Number.isInteger(o.cloneMax) && o.cloneMax >= 2 && o.cloneMax <= 32)) p.add("--clone-max: 2-32");
  const fence = planFencing(fencing, {
    stack: "drbd-fs",
    drbd: [drbdTarget(o.drbdResource, o.drbdconf)],
    unfenced: ["WARNING: without fencing a lost cluster link makes both nodes Primary: split brain. Configure stonith."],
  }, p);
  if (p.list.length || typeof ip === "string" || !fence) throw new InvalidOptions(p.list);

  const P = o.prefix;
  const mon = o.monitorInterval ?? "20s";
  const drbd = `${P}-drbd`;
  const drbdClone = `${drbd}-clone`;
  const group = `${P}-group`;
  const cmds: string[][] = [
    ...promotableDrbd(drbd, o.drbdResource, o.drbdconf, o.cloneMax),
    [
      "resource", "create", `${P}-fs`, "ocf:tsstor:Filesystem", `device=${o.device}`, `directory=${o.directory}`, `fstype=${o.fstype}`,
      ...(o.options ? [`options=${o.options}`] : []), ...op(mon),
    ],
    [
      "resource", "create", `${P}-ip`, "ocf:tsstor:IPaddr2", `ip=${ip.addr}`, ...(ip.prefix !== undefined ? [`cidr_netmask=${ip.prefix}`] : []),
      ...(o.nic ? [`nic=${o.nic}`] : []), ...op("10s"),
    ],
  ];
  const resources = [drbdClone, `${P}-fs`, `${P}-ip`];
  if (o.service) {
    cmds.push(["resource", "create", `${P}-service`, o.service, ...(o.serviceParams ?? []), ...op(mon)]);
    resources.push(`${P}-service`);
  }
  // a group: members start in order and stop in reverse on the same node (the heartbeat v1
  // haresources line "drbddisk Filesystem IPaddr service", as Pacemaker expresses it)
  cmds.push(groupAdd(group, resources.slice(1)));
  cmds.push(colocate(group, "with", "Promoted", drbdClone));
  cmds.push(["constraint", "order", "promote", drbdClone, "then", "start", group]);
  return withFencing(fence, {
    stack: "drbd-fs",
    notes: [
      `DRBD ${o.drbdResource} (promotable, one Primary) -> ${o.fstype} on ${o.device} at ${o.directory} -> ${o.ip}${o.service ? ` -> ${o.service}` : ""}.`,
    ],
    commands: cmds,
    resources,
  });
}
