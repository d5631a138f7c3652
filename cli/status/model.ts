// `tsstor status` as data: the cluster (crm_mon), the configuration (CIB), and this node's view
// of DRBD, iSCSI targets, addresses and mounts, grouped into stacks (resources connected by
// constraints). The text, JSON and graph outputs all render this one model.
import { instances, type CrmStatus, type ResourceInstance } from "../crm-mon.js";
import type { DrbdState } from "../../lib/drbd/state.js";
import { mountsAt, type Mount } from "../../lib/fs/mounts.js";
import { members, type Constraint, type Rsc, type StackConfig } from "./config.js";
import type { LocalTarget } from "./local.js";
import type { HazardLine } from "./hazards.js";

export interface NodeRow {
  name: string;
  /** online, OFFLINE, standby, maintenance, UNCLEAN, pending */
  state: string;
  dc: boolean;
  /** the node this report was made on */
  local: boolean;
}

export interface InstanceRow {
  node?: string;
  role: string;
  failed: boolean;
  managed: boolean;
  blocked: boolean;
}

export interface ResourceRow {
  id: string;
  agent: string;
  clone?: string;
  promotable: boolean;
  group?: string;
  /** active instances (with node) and inactive ones (no node) */
  instances: InstanceRow[];
}

export interface VipRow {
  resource: string;
  ip: string;
  cidr?: string;
  nic?: string;
  nodes: string[];
  /** whether the address is configured on this node (undefined: this node's addresses unknown) */
  presentHere?: boolean;
}

export interface LunRow {
  lun: number;
  path: string;
  resource?: string;
  nodes: string[];
  sizeMb?: number;
}

export interface TargetRow {
  resource: string;
  iqn: string;
  implementation?: string;
  nodes: string[];
  luns: LunRow[];
  /** logged-in initiators, when the target is served on this node */
  initiators?: Array<{ name: string; addresses: string[] }>;
  /** why initiators are not shown */
  initiatorsNote?: string;
  /** this node serves the target although Pacemaker runs it elsewhere (a leftover, or a duplicate) */
  strayHere?: boolean;
}

export interface DrbdSync {
  /** the node receiving data (SyncTarget) and the one sending it */
  target: string;
  source: string;
  volume: number;
  /** percent done */
  done: number;
  /** seconds left at the measured rate; undefined until a rate is known, null when stalled */
  etaSeconds?: number | null;
}

export interface DrbdNodeRow {
  node: string;
  /** Pacemaker's role of the clone instance there */
  pacemaker?: string;
  /** DRBD role: Primary, Secondary, Unconfigured; undefined when not known from this node */
  role?: string;
  /** disk state(s); "0:UpToDate,1:UpToDate" with several volumes */
  disk?: string;
  /** connection to the reporting node (peers only) */
  connection?: string;
  /** local, peer (seen through the local node's connection), or pacemaker (nothing else known) */
  source: "local" | "peer" | "pacemaker";
}

export interface DrbdRow {
  resource: string;
  drbdResource: string;
  nodes: DrbdNodeRow[];
  syncs: DrbdSync[];
  /** why this node's DRBD state could not be read */
  error?: string;
}

export interface FsNodeRow {
  node: string;
  /** Pacemaker runs the Filesystem instance there */
  started: boolean;
  /** this node only: the kernel's mount table */
  mounted?: boolean;
  readOnly?: boolean;
  withdrawn?: boolean;
  /** GFS2: this node is a member of the filesystem's DLM lockspace */
  dlmMember?: boolean;
}

export interface FsRow {
  resource: string;
  directory: string;
  device: string;
  fstype: string;
  nodes: FsNodeRow[];
  /** GFS2 lock table CLUSTER:FSNAME (from /sys/fs/gfs2 on this node) */
  lockTable?: string;
  /** GFS2: nodes in the DLM lockspace, by name (from dlm_tool ls on this node) */
  dlmMembers?: string[];
}

export interface LockdRow {
  resource: string;
  nodes: string[];
  /** lvmlockd's VG lockspaces on this node */
  lockspaces?: string[];
  note?: string;
}

export interface StackRow {
  name: string;
  kind: string;
  resources: ResourceRow[];
  vips: VipRow[];
  targets: TargetRow[];
  drbd: DrbdRow[];
  filesystems: FsRow[];
  lockd: LockdRow[];
}

export interface FailureRow {
  resource: string;
  operation: string;
  /** "10s", "0s" */
  interval: string;
  node: string;
  exitCode: number;
  exitStatus: string;
  exitReason: string;
  status: string;
  lastRcChange: string;
}

export interface FencingRow {
  /** sbd (fence_sbd), watchdog (diskless sbd), agent (any other fence agent), none */
  method: "sbd" | "watchdog" | "agent" | "none";
  devices: Array<{ id: string; agent: string; nodes: string[] }>;
  /** the newest fencing action in the cluster's fence history */
  last?: { action: string; target: string; by: string; status: string; completed: string };
}

export interface StatusReport {
  tool: "tsstor status";
  version: string;
  cluster: {
    dc?: string;
    quorum: boolean;
    lastUpdate: string;
    stonithEnabled: boolean;
    fencing: FencingRow;
    maintenanceMode: boolean;
    /** the node this report was made on (local state comes from it) */
    localNode?: string;
  };
  nodes: NodeRow[];
  stacks: StackRow[];
  failures: FailureRow[];
  hazards: HazardLine[];
  /** set when the hazard checks could not run */
  hazardsUnavailable?: string;
  /** sources that could not be read */
  notes: string[];
}

/** What the model builder reads on this node (all optional: absent = not readable here). */
export interface LocalView {
  node?: string;
  drbd: (res: Rsc) => DrbdState | { error: string } | undefined;
  targets: () => LocalTarget[] | { error: string } | undefined;
  addresses: () => Set<string> | undefined;
  mounts: () => Mount[] | undefined;
  gfs2Sys: (m: Mount) => { lockTable: string; withdrawn: boolean } | undefined;
  dlm: () => Array<{ name: string; members: number[] }> | { error: string } | undefined;
  lvmlockd: () => Array<{ vg: string; name: string }> | { error: string } | undefined;
}

export const typeOf = (agent: string) => agent.split(":").pop() ?? agent;
const isType = (r: Rsc, ...types: string[]) => types.includes(typeOf(r.agent));

function nodeState(n: CrmStatus["nodes"][number]): string {
  if (n.unclean) return "UNCLEAN";
  if (!n.online) return n.pending ? "pending" : "OFFLINE";
  if (n.maintenance) return "maintenance";
  if (n.standby) return "standby";
  return "online";
}

/** crm_mon instances of a primitive (globally unique clones print "id:N"). */
function rscInstances(crm: CrmStatus, id: string): ResourceInstance[] {
  return crm.resources.filter((r) => r.id === id || r.id.startsWith(`${id}:`));
}

const activeNodes = (crm: CrmStatus, id: string, role?: string) =>
  [...new Set(rscInstances(crm, id).filter((i) => i.active && i.node && (!role || i.role === role)).map((i) => i.node!))].sort();

/** Connected components of resources linked by constraints, clones and groups. */
function components(cfg: StackConfig): Rsc[][] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let p = parent.get(x) ?? x;
    if (p !== x) {
      p = find(p);
      parent.set(x, p);
    }
    return p;
  };
  const union = (a: string, b: string) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(rb, ra);
  };
  const topOf = (id: string) => members(cfg, id)[0]?.top;
  for (const r of cfg.resources) find(r.top);
  for (const c of cfg.constraints) {
    const [a, b] = c.kind === "order" ? [c.first, c.then] : [c.rsc, c.with];
    const ta = topOf(a);
    const tb = topOf(b);
    if (ta && tb) union(ta, tb);
  }
  const groups = new Map<string, Rsc[]>();
  for (const r of cfg.resources) {
    const k = find(r.top);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()];
}

/** Start order inside a stack: order constraints first (topological), then configuration order. */
export function startOrder(cfg: StackConfig, rs: Rsc[]): Rsc[] {
  const ids = new Set(rs.map((r) => r.id));
  const before = new Map<string, Set<string>>();
  for (const c of cfg.constraints) {
    if (c.kind !== "order") continue;
    for (const a of members(cfg, c.first)) for (const b of members(cfg, c.then)) if (ids.has(a.id) && ids.has(b.id)) before.set(b.id, (before.get(b.id) ?? new Set()).add(a.id));
  }
  // group members start in their group's order
  for (const r of rs) {
    if (!r.group) continue;
    const g = rs.filter((x) => x.group === r.group);
    const i = g.indexOf(r);
    if (i > 0) before.set(r.id, (before.get(r.id) ?? new Set()).add(g[i - 1]!.id));
  }
  const out: Rsc[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = (r: Rsc) => {
    if (done.has(r.id) || visiting.has(r.id)) return;
    visiting.add(r.id);
    for (const p of rs) if (before.get(r.id)?.has(p.id)) visit(p);
    visiting.delete(r.id);
    done.add(r.id);
    out.push(r);
  };
  rs.forEach(visit);
  return out;
}

function stackName(rs: Rsc[]): string {
  const ids = [...new Set(rs.map((r) => r.top))];
  if (ids.length === 1) return ids[0]!;
  let p = ids[0]!;
  for (const id of ids) while (!id.startsWith(p)) p = p.slice(0, -1);
  const cut = p.lastIndexOf("-");
  return cut >= 2 ? p.slice(0, cut) : ids[0]!;
}

function stackKind(rs: Rsc[]): string {
  const drbd = rs.filter((r) => isType(r, "drbd")).map((r) => r.params.drbd_resource).filter(Boolean);
  const on = drbd.length ? ` over DRBD ${drbd.join(", ")}` : "";
  if (rs.some((r) => isType(r, "iSCSITarget"))) return `iSCSI${on}`;
  if (rs.some((r) => isType(r, "Filesystem") && r.params.fstype === "gfs2")) return "GFS2";
  if (rs.some((r) => isType(r, "Filesystem"))) return `filesystem${on}`;
  if (drbd.length) return `DRBD ${drbd.join(", ")}`;
  return "resources";
}

function vipRows(crm: CrmStatus, rs: Rsc[], local: LocalView): VipRow[] {
  const vips = rs.filter((r) => isType(r, "IPaddr2", "IPaddr") && r.params.ip);
  if (!vips.length) return [];
  const addrs = local.addresses();
  return vips.map((r) => ({
    resource: r.id,
    ip: r.params.ip!,
    ...(r.params.cidr_netmask ? { cidr: r.params.cidr_netmask } : {}),
    ...(r.params.nic ? { nic: r.params.nic } : {}),
    nodes: activeNodes(crm, r.id),
    ...(addrs ? { presentHere: addrs.has(r.params.ip!) } : {}),
  }));
}

function targetRows(crm: CrmStatus, rs: Rsc[], local: LocalView, notes: string[]): TargetRow[] {
  const ts = rs.filter((r) => isType(r, "iSCSITarget") && r.params.iqn);
  if (!ts.length) return [];
  const seen = local.targets();
  if (seen && "error" in seen) notes.push(`iSCSI targets on this node: ${seen.error}`);
  const localTargets = seen && !("error" in seen) ? seen : [];
  return ts.map((t) => {
    const iqn = t.params.iqn!;
    const nodes = activeNodes(crm, t.id);
    const mine = localTargets.find((x) => x.iqn === iqn);
    const lus = rs.filter((r) => isType(r, "iSCSILogicalUnit") && r.params.target_iqn === iqn);
    const luns: LunRow[] = lus
      .map((r) => {
        const n = Number(r.params.lun);
        return { lun: n, path: r.params.path ?? "", resource: r.id, nodes: activeNodes(crm, r.id), ...(mine?.luns.find((l) => l.lun === n)?.sizeMb !== undefined ? { sizeMb: mine.luns.find((l) => l.lun === n)!.sizeMb } : {}) };
      })
      .sort((a, b) => a.lun - b.lun);
    // LUNs this node exports that no resource manages (left behind, or configured by hand)
    for (const l of mine?.luns ?? []) if (!luns.some((x) => x.lun === l.lun)) luns.push({ lun: l.lun, path: l.path, nodes: local.node ? [local.node] : [], ...(l.sizeMb !== undefined ? { sizeMb: l.sizeMb } : {}) });
    const row: TargetRow = { resource: t.id, iqn, ...(t.params.implementation ? { implementation: t.params.implementation } : mine ? { implementation: mine.implementation } : {}), nodes, luns };
    if (mine) row.initiators = mine.sessions.map((s) => ({ name: s.initiator, addresses: s.addresses }));
    if (mine && local.node && !nodes.includes(local.node)) row.strayHere = true;
    else if (nodes.length && (!local.node || !nodes.includes(local.node))) row.initiatorsNote = `logged-in initiators are visible on ${nodes.join(", ")} only`;
    else if (nodes.length) row.initiatorsNote = "target not found on this node";
    return row;
  });
}

const disks = (s: DrbdState) => s.volumes.map((v) => `${s.volumes.length > 1 ? `${v.volume}:` : ""}${v.client ? "Diskless" : v.disk}`).join(",");

function drbdRows(crm: CrmStatus, rs: Rsc[], local: LocalView, allNodes: string[]): DrbdRow[] {
  return rs
    .filter((r) => isType(r, "drbd") && r.params.drbd_resource)
    .map((r) => {
      const pcmk = new Map<string, string>();
      for (const i of rscInstances(crm, r.id)) if (i.node && i.active) pcmk.set(i.node, i.role);
      const row: DrbdRow = { resource: r.top, drbdResource: r.params.drbd_resource!, nodes: [], syncs: [] };
      const st = local.node ? local.drbd(r) : undefined;
      const rowFor = (node: string): DrbdNodeRow => {
        let x = row.nodes.find((n) => n.node === node);
        if (!x) {
          x = { node, ...(pcmk.has(node) ? { pacemaker: pcmk.get(node) } : {}), source: "pacemaker" };
          row.nodes.push(x);
        }
        return x;
      };
      if (st && "error" in st) row.error = st.error;
      else if (st && local.node) {
        const me = rowFor(local.node);
        Object.assign(me, { role: st.role, ...(st.configured ? { disk: disks(st) } : {}), source: "local" as const });
        const others = allNodes.filter((n) => n !== local.node);
        for (const c of st.connections) {
          // DRBD 9 names a connection after the peer's host name; 8.4 has one, called "peer"
          const peer = allNodes.includes(c.name) ? c.name : others.length === 1 ? others[0]! : c.name;
          const p = rowFor(peer);
          // as this node's DRBD sees the peer: "Unknown"/"DUnknown" while not connected
          Object.assign(p, {
            connection: c.connection,
            source: "peer" as const,
            role: c.peerRole,
            disk: c.peerDevices.map((d) => `${c.peerDevices.length > 1 ? `${d.volume}:` : ""}${d.peerClient ? "Diskless" : d.peerDisk}`).join(",") || "DUnknown",
          });
          for (const d of c.peerDevices) {
            if (d.done === undefined || !/^(SyncSource|SyncTarget|PausedSync[ST])$/.test(d.replication)) continue;
            const localIsTarget = /SyncTarget|PausedSyncT/.test(d.replication);
            row.syncs.push({ target: localIsTarget ? local.node : peer, source: localIsTarget ? peer : local.node, volume: d.volume, done: d.done });
          }
        }
      }
      for (const n of allNodes) if (pcmk.has(n)) rowFor(n);
      row.nodes.sort((a, b) => allNodes.indexOf(a.node) - allNodes.indexOf(b.node));
      return row;
    });
}

function fsRows(crm: CrmStatus, rs: Rsc[], local: LocalView, nodeIds: Map<string, string>, allNodes: string[]): FsRow[] {
  const fss = rs.filter((r) => isType(r, "Filesystem") && r.params.directory);
  if (!fss.length) return [];
  const mounts = local.node ? local.mounts() : undefined;
  let dlm: ReturnType<LocalView["dlm"]> | null = null;
  return fss.map((r) => {
    const dir = r.params.directory!.replace(/\/+$/, "") || "/";
    const fstype = r.params.fstype ?? "";
    const started = activeNodes(crm, r.id);
    const row: FsRow = { resource: r.id, directory: dir, device: r.params.device ?? "", fstype, nodes: [] };
    for (const n of allNodes) if (started.includes(n) || n === local.node) row.nodes.push({ node: n, started: started.includes(n) });
    const mine = row.nodes.find((n) => n.node === local.node);
    if (mounts && mine) {
      const m = mountsAt(mounts, dir).pop();
      mine.mounted = !!m && (!fstype || m.fstype === fstype);
      if (m && mine.mounted) {
        mine.readOnly = m.options.includes("ro");
        if (m.fstype === "gfs2") {
          const sys = local.gfs2Sys(m);
          if (sys) {
            row.lockTable = sys.lockTable;
            mine.withdrawn = sys.withdrawn;
          }
        }
      }
    }
    if (fstype === "gfs2" && row.lockTable) {
      dlm ??= local.dlm() ?? { error: "not read" };
      const fsname = row.lockTable.split(":")[1];
      if (!("error" in dlm)) {
        const ls = dlm.find((l) => l.name === fsname);
        const byId = new Map([...nodeIds].map(([name, id]) => [id, name]));
        row.dlmMembers = (ls?.members ?? []).map((id) => byId.get(String(id)) ?? `nodeid ${id}`);
        for (const n of row.nodes) n.dlmMember = row.dlmMembers.includes(n.node);
      }
    }
    row.nodes = row.nodes.filter((n) => n.started || n.mounted);
    return row;
  });
}

function lockdRows(crm: CrmStatus, rs: Rsc[], local: LocalView): LockdRow[] {
  const ls = rs.filter((r) => isType(r, "clvm", "lvmlockd"));
  if (!ls.length) return [];
  const q = local.node ? local.lvmlockd() : undefined;
  return ls.map((r) => {
    const row: LockdRow = { resource: r.id, nodes: activeNodes(crm, r.id) };
    if (q && "error" in q) row.note = q.error;
    else if (q) row.lockspaces = q.filter((l) => l.vg).map((l) => l.name);
    else if (local.node && row.nodes.includes(local.node)) row.note = "lvmlockd is not running on this node";
    return row;
  });
}

const intervalText = (ms: string) => {
  const n = Number(ms);
  if (!Number.isFinite(n)) return ms;
  return n % 60000 === 0 && n ? `${n / 60000}min` : `${n / 1000}s`;
};

export function failureRows(crm: CrmStatus): FailureRow[] {
  return crm.failures.map((f) => {
    // op key: RSC_TASK_INTERVAL (the resource id may contain "_")
    const m = /^(.*)_([a-z_-]+?)_(\d+)$/.exec(f.opKey);
    const rsc = m && m[2] === f.task ? m[1]! : f.opKey.replace(new RegExp(`_${f.task}_\\d+$`), "");
    return {
      resource: rsc,
      operation: f.task,
      interval: intervalText(f.interval || m?.[3] || "0"),
      node: f.node,
      exitCode: f.exitCode,
      exitStatus: f.exitStatus,
      exitReason: f.exitReason,
      status: f.status,
      lastRcChange: f.lastRcChange,
    };
  });
}

export interface BuildOpts {
  version: string;
  crm: CrmStatus;
  cfg: StackConfig;
  local: LocalView;
  hazards: HazardLine[] | { unavailable: string };
  notes?: string[];
}

export function buildReport(o: BuildOpts): StatusReport {
  const { crm, cfg, local } = o;
  const notes = [...(o.notes ?? [])];
  const allNodes = crm.nodes.map((n) => n.name);
  const nodeIds = new Map(crm.nodes.map((n) => [n.name, n.id]));
  const comps = components(cfg);
  // constraint-less single resources go together at the end
  const loners = comps.filter((c) => c.length === 1 && !cfg.constraints.some((k) => [k.kind === "order" ? k.first : k.rsc, k.kind === "order" ? k.then : k.with].some((id) => members(cfg, id).includes(c[0]!))));
  // fence devices are shown on the Fencing line, not as a stack of their own
  const fence = (rs: Rsc[]) => rs.every((r) => r.agent.startsWith("stonith:"));
  const plain = loners.filter((c) => !fence(c));
  const stacksIn = [...comps.filter((c) => !loners.includes(c)), ...(plain.length ? [plain.flat()] : [])];
  const stacks: StackRow[] = stacksIn.map((rs0) => {
    const rs = startOrder(cfg, rs0);
    const lonely = rs0.length > 1 && loners.flat().includes(rs0[0]!);
    return {
      name: lonely ? "other resources" : stackName(rs),
      kind: lonely ? "unconstrained" : stackKind(rs),
      resources: rs.map((r) => ({
        id: r.id,
        agent: r.agent,
        ...(r.clone ? { clone: r.clone } : {}),
        promotable: r.promotable,
        ...(r.group ? { group: r.group } : {}),
        instances: rscInstances(crm, r.id)
          .map((i) => ({ ...(i.node ? { node: i.node } : {}), role: i.role, failed: i.failed, managed: i.managed, blocked: i.blocked }))
          // crm_mon lists clone instances in no fixed order: by node, stopped last
          .sort((a, b) => (a.node ? allNodes.indexOf(a.node) : 1e9) - (b.node ? allNodes.indexOf(b.node) : 1e9)),
      })),
      vips: vipRows(crm, rs, local),
      targets: targetRows(crm, rs, local, notes),
      drbd: drbdRows(crm, rs, local, allNodes),
      filesystems: fsRows(crm, rs, local, nodeIds, allNodes),
      lockd: lockdRows(crm, rs, local),
    };
  });
  const hz = o.hazards;
  return {
    tool: "tsstor status",
    version: o.version,
    cluster: {
      ...(crm.dc ? { dc: crm.dc } : {}),
      quorum: crm.quorum,
      lastUpdate: crm.lastUpdate,
      stonithEnabled: (crm.options["stonith-enabled"] ?? cfg.properties["stonith-enabled"] ?? "true") === "true",
      fencing: fencingRow(crm, cfg),
      maintenanceMode: (crm.options["maintenance-mode"] ?? "false") === "true",
      ...(local.node ? { localNode: local.node } : {}),
    },
    nodes: crm.nodes.map((n) => ({ name: n.name, state: nodeState(n), dc: n.isDc, local: n.name === local.node })),
    stacks,
    failures: failureRows(crm),
    hazards: Array.isArray(hz) ? hz : [],
    ...(Array.isArray(hz) ? {} : { hazardsUnavailable: hz.unavailable }),
    notes,
  };
}

/** How this cluster fences, from the configuration, and the last fencing action it took. */
function fencingRow(crm: CrmStatus, cfg: StackConfig): FencingRow {
  const enabled = (crm.options["stonith-enabled"] ?? cfg.properties["stonith-enabled"] ?? "true") === "true";
  const devices = cfg.resources
    .filter((r) => r.agent.startsWith("stonith:"))
    .map((r) => ({ id: r.id, agent: r.agent.slice("stonith:".length), nodes: rscInstances(crm, r.id).filter((i) => i.node && i.active).map((i) => i.node!) }));
  const wd = cfg.properties["stonith-watchdog-timeout"] ?? "";
  const method = !enabled ? "none" : devices.some((d) => d.agent === "fence_sbd") ? "sbd" : devices.length ? "agent" : wd && !/^0+[a-z]*$/i.test(wd) ? "watchdog" : "none";
  const e = crm.fenceEvents[0];
  return { method, devices, ...(e ? { last: { action: e.action, target: e.target, by: e.delegate || e.origin, status: e.status, completed: e.completed } } : {}) };
}

/** Instances of a clone or primitive on a node, for renderers. */
export function roleOn(r: ResourceRow, node: string): InstanceRow | undefined {
  return r.instances.find((i) => i.node === node);
}

export { instances };
export type { Constraint };
