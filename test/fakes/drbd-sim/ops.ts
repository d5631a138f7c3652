// The simulated kernel's operations (what drbdsetup asks the DRBD module to do), with DRBD's
// refusals and drbdsetup's exit codes: 10 "Failure: (N) ..." configuration errors, 11 refused
// state changes ("(-12) Device is held open by someone", "(-1) Multiple primaries not allowed by
// config"), 17 "(-2) Need access to UpToDate data", 20 local errors (module not loaded).

import { diskState, dropDevNode, hasQuorum, makeDevNode, md, newGen, peerOf, type SimConnection, type SimNode, type SimResource, type SimState } from "./state.js";

export interface OpResult {
  code: number;
  out: string;
  err: string;
}

export const ok = (out = ""): OpResult => ({ code: 0, out, err: "" });
const failure = (obj: string, n: number, msg: string): OpResult => ({ code: 10, out: "", err: `${obj}: Failure: (${n}) ${msg}\n` });
const refused = (obj: string, n: number, msg: string, code = 11): OpResult => ({ code, out: "", err: `${obj}: State change failed: (${n}) ${msg}\n` });
export const noModule = (): OpResult => ({ code: 20, out: "", err: "Could not connect to 'drbd' generic netlink family\n" });

export interface Ctx {
  s: SimState;
  self: string;
  n: SimNode;
  now: number;
}

function res(c: Ctx, name: string): SimResource | OpResult {
  if (!c.n.loaded) return noModule();
  return c.n.resources[name] ?? failure(name, 158, "Unknown resource");
}

function byMinor(c: Ctx, minor: number): { res: string; vol: string } | undefined {
  for (const [rn, r] of Object.entries(c.n.resources)) {
    for (const [vol, v] of Object.entries(r.volumes)) if (v.minor === minor) return { res: rn, vol };
  }
  return undefined;
}

export function newResource(c: Ctx, name: string, nodeId: number, quorum = "off"): OpResult {
  if (!c.n.loaded) return noModule();
  if (c.n.resources[name]) return failure(name, 174, "Already exists");
  c.n.resources[name] = { nodeId, role: "Secondary", quorum, volumes: {}, conns: {} };
  return ok();
}

export function newMinor(c: Ctx, name: string, minor: number, vol: number, diskless: boolean, devPath?: string): OpResult {
  const r = res(c, name);
  if ("code" in r) return r;
  if (r.volumes[vol] || byMinor(c, minor)) return failure(`minor-${minor}`, 161, "Minor or volume exists already (delete it first)");
  r.volumes[vol] = { minor, backing: null, client: diskless, ...(devPath ? { devPath } : {}) };
  if (devPath) makeDevNode(devPath, minor);
  return ok();
}

export function newPeer(c: Ctx, name: string, peerId: number, connName: string, allowTwoPrimaries: boolean, fencing: string): OpResult {
  const r = res(c, name);
  if ("code" in r) return r;
  if (r.conns[peerId]) return failure(name, 174, "Already exists");
  r.conns[peerId] = { name: connName, peerNodeId: peerId, connect: false, paths: [], allowTwoPrimaries, fencing, established: false };
  return ok();
}

export function newPath(c: Ctx, name: string, peerId: number, local: string, peer: string): OpResult {
  const r = res(c, name);
  if ("code" in r) return r;
  const conn = r.conns[peerId];
  if (!conn) return failure(name, 162, "Invalid configuration request");
  if (!conn.paths.some((p) => p.local === local && p.peer === peer)) conn.paths.push({ local, peer });
  return ok();
}

export function attach(c: Ctx, minor: number, backing: string): OpResult {
  if (!c.n.loaded) return noModule();
  const w = byMinor(c, minor);
  if (!w) return failure(`minor-${minor}`, 127, "Device minor not allocated");
  const r = c.n.resources[w.res]!;
  const v = r.volumes[w.vol]!;
  if (v.backing !== null) return failure(`minor-${minor}`, 124, "Device is attached to a disk (use detach first)");
  const m = md(c.n, w.res, w.vol);
  if (!m) return failure(`minor-${minor}`, 119, "No valid meta-data signature found.\n\n\t==> Use 'drbdadm create-md res' to initialize meta-data area. <==\n");
  v.backing = backing;
  v.client = false;
  // With fencing configured, data that was UpToDate comes back Consistent until a peer confirms it.
  const fenced = Object.values(r.conns).some((x) => x.fencing !== "dont-care");
  if (m.disk === "UpToDate" && fenced && !Object.values(r.conns).some((x) => x.established)) m.disk = "Consistent";
  return ok();
}

export function detach(c: Ctx, minor: number): OpResult {
  if (!c.n.loaded) return ok();
  const w = byMinor(c, minor);
  if (!w) return failure(`minor-${minor}`, 127, "Device minor not allocated");
  const r = c.n.resources[w.res]!;
  if (r.role === "Primary" && !Object.values(r.conns).some((x) => peerOf(c.s, c.self, w.res, x) && diskState(peerOf(c.s, c.self, w.res, x)!.node, w.res, w.vol) === "UpToDate")) {
    return refused(`minor-${minor}`, -2, "Need access to UpToDate data", 17);
  }
  r.volumes[w.vol]!.backing = null;
  delete r.volumes[w.vol]!.sync;
  return ok();
}

export function connect(c: Ctx, name: string, peerId: number): OpResult {
  const r = res(c, name);
  if ("code" in r) return r;
  const conn = r.conns[peerId];
  if (!conn) return failure(name, 162, "Invalid configuration request");
  if (!conn.paths.length) return { code: 10, out: "", err: `${name}: Failure: (162) Invalid configuration request\nadditional info from kernel:\nconnection endpoint(s) missing\n` };
  if (conn.connect) return failure(name, 125, "Device has a net-config (use disconnect first)");
  conn.connect = true;
  return ok();
}

export function disconnect(c: Ctx, name: string, peerId: number): OpResult {
  if (!c.n.loaded) return ok();
  const r = res(c, name);
  if ("code" in r) return r;
  const conn = r.conns[peerId];
  if (conn) conn.connect = false;
  return ok();
}

export function primary(c: Ctx, name: string, force: boolean): OpResult {
  const r = res(c, name);
  if ("code" in r) return r;
  if (r.role === "Primary") return ok();
  for (const conn of Object.values(r.conns)) {
    const p = peerOf(c.s, c.self, name, conn);
    if (p && p.res.role === "Primary" && !conn.allowTwoPrimaries) return refused(name, -1, "Multiple primaries not allowed by config");
  }
  if (!hasQuorum(c.s, c.self, name)) return refused(name, -25, "No quorum");
  for (const [vol, v] of Object.entries(r.volumes)) {
    const local = diskState(c.n, name, vol);
    const remote = Object.values(r.conns).some((conn) => {
      const p = peerOf(c.s, c.self, name, conn);
      return p && diskState(p.node, name, vol) === "UpToDate";
    });
    if (local === "UpToDate" || remote) continue;
    const m = md(c.n, name, vol);
    if (force && v.backing !== null && m) {
      // --force: this node's data becomes the truth, connected Inconsistent peers sync from it.
      m.disk = "UpToDate";
      m.gen = c.s.nextGen++;
      for (const conn of Object.values(r.conns)) {
        const p = peerOf(c.s, c.self, name, conn);
        const pm = p && md(p.node, name, vol);
        if (p && pm && pm.disk === "Inconsistent" && p.res.volumes[vol]?.backing) p.res.volumes[vol]!.sync = { from: c.self, startedAt: c.now, durationMs: c.s.syncMs };
        else if (!p) m.bitmap[conn.name] ??= -1;
      }
      continue;
    }
    return refused(name, -2, "Need access to UpToDate data", 17);
  }
  r.role = "Primary";
  // Writes while some peer is away start a new data generation.
  if (Object.values(r.conns).some((conn) => !conn.established)) newGen(c.s, c.self, name);
  return ok();
}

export function secondary(c: Ctx, name: string): OpResult {
  if (!c.n.loaded) return ok();
  const r = res(c, name);
  if ("code" in r) return r;
  if (r.role === "Secondary") return ok();
  if (c.n.holdOpen[name]) return refused(name, -12, "Device is held open by someone");
  r.role = "Secondary";
  return ok();
}

export function down(c: Ctx, name: string): OpResult {
  if (!c.n.loaded) return ok();
  const r = c.n.resources[name];
  if (!r) return ok();
  if (c.n.holdOpen[name]) return refused(name, -12, "Device is held open by someone");
  delete c.n.resources[name];
  for (const v of Object.values(r.volumes)) dropDevNode(c.s, v.devPath);
  return ok();
}

export function outdate(c: Ctx, minor: number): OpResult {
  if (!c.n.loaded) return noModule();
  const w = byMinor(c, minor);
  if (!w) return failure(`minor-${minor}`, 127, "Device minor not allocated");
  const r = c.n.resources[w.res]!;
  const m = md(c.n, w.res, w.vol);
  // A Primary needs UpToDate data; the set_st_err numbers are DRBD's (SS_*).
  if (r.role === "Primary") return refused(`minor-${minor}`, -2, "Need access to UpToDate data", 17);
  if (Object.values(r.conns).some((x) => x.established)) return refused(`minor-${minor}`, -6, "Refusing to be Outdated while Connected");
  if (!m || r.volumes[w.vol]!.backing === null || m.disk === "Inconsistent") return refused(`minor-${minor}`, -16, "Disk state is lower than outdated", 5);
  m.disk = "Outdated";
  return ok();
}

/** Meta data of a resource that is down (drbdmeta outdate / create-md). */
export function outdateOffline(c: Ctx, name: string, vol: number): void {
  const m = md(c.n, name, vol);
  if (m && m.disk !== "Inconsistent") m.disk = "Outdated";
}

export function createMd(c: Ctx, name: string, vol: number): void {
  (c.n.md[name] ??= {})[String(vol)] = { disk: "Inconsistent", gen: 0, bitmap: {} };
}

export function allConnected(c: Ctx, name: string): boolean {
  const r = c.n.resources[name];
  return !!r && Object.values(r.conns).every((x) => x.established);
}

/** The peer's role/disk over an established connection (Unknown/DUnknown otherwise). */
export function peerRole(c: Ctx, name: string, conn: SimConnection): string {
  return peerOf(c.s, c.self, name, conn)?.res.role ?? "Unknown";
}
export function peerDisk(c: Ctx, name: string, conn: SimConnection, vol: string): string {
  const p = peerOf(c.s, c.self, name, conn);
  return p ? diskState(p.node, name, vol) : "DUnknown";
}
export function peerSyncing(c: Ctx, name: string, conn: SimConnection): boolean {
  const p = peerOf(c.s, c.self, name, conn);
  return !!p && Object.values(p.res.volumes).some((v) => v.sync?.from === c.self);
}
