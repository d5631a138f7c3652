// The DRBD simulator's "kernel": every simulated node's DRBD objects and meta data in one JSON
// file ($TSSTOR_DRBD_SIM_DIR/state.json), shared by all node namespaces and changed under a lock.
//
// Per node: module loaded (version 9.x or 8.4.x), resources (role, volumes attached or not,
// connections with paths), and the on-disk meta data per resource and volume (disk state, a data
// generation, and per peer the generation last in sync = DRBD's bitmap UUID). Connections are
// derived: two nodes are Connected when both have the resource up, both issued connect, neither
// link is cut and both kernels are alive. The first time a pair connects the handshake compares
// generations (no sync, resync in either direction, or split brain -> StandAlone); resync takes
// `syncMs` and completes lazily whenever any simulator command runs (settle()).

import { sleepMs } from "../../../lib/system/run.js";
import { mkdirSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync, existsSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

export interface MetaData {
  disk: "UpToDate" | "Outdated" | "Inconsistent" | "Consistent";
  gen: number;
  /** peer name -> our generation when last in sync with it (set once we diverge) */
  bitmap: Record<string, number>;
}

export interface SimVolume {
  minor: number;
  /** device node the simulator created (drbdadm knows the configured path) */
  devPath?: string;
  /** attached backing device; null = not attached (Diskless) */
  backing: string | null;
  client: boolean;
  /** resync in progress with this volume as target */
  sync?: { from: string; startedAt: number; durationMs: number; frozen?: number };
}

export interface SimConnection {
  name: string;
  peerNodeId: number;
  /** connect issued (Connecting/Connected); false = StandAlone */
  connect: boolean;
  paths: Array<{ local: string; peer: string }>;
  allowTwoPrimaries: boolean;
  fencing: string;
  /** settled link state */
  established: boolean;
}

export interface SimResource {
  nodeId: number;
  role: "Primary" | "Secondary";
  quorum: string;
  volumes: Record<string, SimVolume>;
  conns: Record<string, SimConnection>;
}

export interface SimNode {
  kernel: string;
  loaded: boolean;
  resources: Record<string, SimResource>;
  md: Record<string, Record<string, MetaData>>;
  holdOpen: Record<string, boolean>;
  quorumOverride: Record<string, "yes" | "no">;
}

export interface SimState {
  nodes: Record<string, SimNode>;
  cuts: string[];
  syncMs: number;
  nextGen: number;
}

export const DEFAULT_KERNEL = "9.2.12";

export function simDir(): string {
  const d = process.env.TSSTOR_DRBD_SIM_DIR;
  if (!d) throw new Error("TSSTOR_DRBD_SIM_DIR is not set");
  return d;
}

/** This process's node: TSSTOR_DRBD_SIM_NODE, else the (UTS namespace's) host name. */
export function selfNode(): string {
  const n = process.env.TSSTOR_DRBD_SIM_NODE;
  if (n) return n;
  try {
    return readFileSync("/proc/sys/kernel/hostname", "utf8").trim();
  } catch {
    return "localhost";
  }
}

export function newNode(kernel = process.env.TSSTOR_DRBD_SIM_KERNEL || DEFAULT_KERNEL, loaded = true): SimNode {
  return { kernel, loaded, resources: {}, md: {}, holdOpen: {}, quorumOverride: {} };
}

function emptyState(): SimState {
  return { nodes: {}, cuts: [], syncMs: 0, nextGen: 100 };
}


/** Run fn on the state under the simulator's lock; the state is saved when fn returns. */
export function withState<T>(fn: (s: SimState, now: number) => T): T {
  const dir = simDir();
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, "lock");
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A holder killed by a test's timeout leaves the lock: break it after 5 s.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 5000) rmdirSync(lock);
      } catch {
        /* gone meanwhile */
      }
      sleepMs(i < 50 ? 2 : 10);
    }
  }
  try {
    const file = join(dir, "state.json");
    let s: SimState;
    try {
      s = JSON.parse(readFileSync(file, "utf8")) as SimState;
    } catch {
      s = emptyState();
    }
    const now = Date.now();
    settle(s, now);
    const r = fn(s, now);
    settle(s, now);
    const tmp = `${file}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify(s));
    renameSync(tmp, file);
    writeProcFiles(s);
    return r;
  } finally {
    rmdirSync(lock);
  }
}

/** A node, created on first use (module loaded, kernel from TSSTOR_DRBD_SIM_KERNEL). */
export function node(s: SimState, name: string): SimNode {
  return (s.nodes[name] ??= newNode());
}

const pairKey = (a: string, b: string) => [a, b].sort().join("|");
export const isCut = (s: SimState, a: string, b: string) => s.cuts.includes(pairKey(a, b));
export function cut(s: SimState, a: string, b: string, on: boolean): void {
  const k = pairKey(a, b);
  s.cuts = s.cuts.filter((c) => c !== k);
  if (on) s.cuts.push(k);
}

export function md(n: SimNode, res: string, vol: string | number): MetaData | undefined {
  return n.md[res]?.[String(vol)];
}

/** Runtime disk state of a volume (Diskless when not attached). */
export function diskState(n: SimNode, res: string, vol: string): string {
  const v = n.resources[res]?.volumes[vol];
  if (!v || v.backing === null) return "Diskless";
  return md(n, res, vol)?.disk ?? "Diskless";
}

/** The peer's view over an established connection, if any. */
export function peerOf(s: SimState, self: string, res: string, c: SimConnection): { node: SimNode; res: SimResource } | undefined {
  if (!c.established) return undefined;
  const pn = s.nodes[c.name];
  const pr = pn?.resources[res];
  return pn && pr ? { node: pn, res: pr } : undefined;
}

/** A new data generation on `self` (writes while some peer is away); connected peers follow. */
export function newGen(s: SimState, self: string, res: string): void {
  const n = s.nodes[self]!;
  const r = n.resources[res]!;
  for (const vol of Object.keys(r.volumes)) {
    const m = md(n, res, vol);
    if (!m || r.volumes[vol]!.backing === null) continue;
    const old = m.gen;
    m.gen = s.nextGen++;
    for (const c of Object.values(r.conns)) {
      const p = peerOf(s, self, res, c);
      const pm = p && md(p.node, res, vol);
      if (p && pm && p.res.volumes[vol]?.backing !== null && !p.res.volumes[vol]?.sync) {
        pm.gen = m.gen;
      } else if (m.bitmap[c.name] === undefined) {
        m.bitmap[c.name] = old;
      }
    }
  }
}

function reachable(s: SimState, a: string, b: string, res: string): boolean {
  const na = s.nodes[a];
  const nb = s.nodes[b];
  const ca = na?.resources[res]?.conns;
  const cb = nb?.resources[res]?.conns;
  const ab = ca && Object.values(ca).find((c) => c.name === b);
  const ba = cb && Object.values(cb).find((c) => c.name === a);
  return !!(na?.loaded && nb?.loaded && ab?.connect && ba?.connect && ab.paths.length && ba.paths.length && !isCut(s, a, b));
}

/** The handshake of a newly established connection, per volume. */
function handshake(s: SimState, now: number, a: string, b: string, res: string): "ok" | "split-brain" {
  const na = s.nodes[a]!;
  const nb = s.nodes[b]!;
  const ra = na.resources[res]!;
  const rb = nb.resources[res]!;
  const plans: Array<() => void> = [];
  for (const vol of Object.keys(ra.volumes)) {
    if (!rb.volumes[vol] || ra.volumes[vol]!.backing === null || rb.volumes[vol]!.backing === null) continue;
    const ma = md(na, res, vol);
    const mb = md(nb, res, vol);
    if (!ma || !mb) continue;
    const startSync = (from: string, to: SimNode, toRes: SimResource, toMd: MetaData) => () => {
      toMd.disk = "Inconsistent";
      toRes.volumes[vol]!.sync = { from, startedAt: now, durationMs: s.syncMs };
    };
    if (ma.disk === "Inconsistent" && mb.disk === "Inconsistent") continue;
    if (ma.disk === "Inconsistent") {
      plans.push(startSync(b, na, ra, ma));
      continue;
    }
    if (mb.disk === "Inconsistent") {
      plans.push(startSync(a, nb, rb, mb));
      continue;
    }
    if (ma.gen === mb.gen) {
      // Same data: whatever was Outdated or Consistent is UpToDate again.
      plans.push(() => {
        ma.disk = mb.disk = "UpToDate";
        delete ma.bitmap[b];
        delete mb.bitmap[a];
      });
    } else if (ma.bitmap[b] === mb.gen) {
      plans.push(startSync(a, nb, rb, mb));
    } else if (mb.bitmap[a] === ma.gen) {
      plans.push(startSync(b, na, ra, ma));
    } else {
      return "split-brain";
    }
  }
  for (const p of plans) p();
  return "ok";
}

function finishSync(s: SimState, self: string, res: string, vol: string): void {
  const n = s.nodes[self]!;
  const v = n.resources[res]!.volumes[vol]!;
  const src = s.nodes[v.sync!.from];
  const sm = src && md(src, res, vol);
  const m = md(n, res, vol)!;
  m.disk = "UpToDate";
  if (sm) {
    m.gen = sm.gen;
    delete sm.bitmap[self];
    if (sm.disk !== "UpToDate") sm.disk = "UpToDate";
  }
  delete m.bitmap[v.sync!.from];
  delete v.sync;
}

/** Bring every derived state up to `now`: links, handshakes, resync completion. */
export function settle(s: SimState, now: number): void {
  for (const [name, n] of Object.entries(s.nodes)) {
    for (const [res, r] of Object.entries(n.resources)) {
      for (const c of Object.values(r.conns)) {
        const up = reachable(s, name, c.name, res);
        if (up && !c.established) {
          const peer = s.nodes[c.name]!.resources[res]!;
          const back = Object.values(peer.conns).find((x) => x.name === name)!;
          if (handshake(s, now, name, c.name, res) === "split-brain") {
            // after-sb-0pri disconnect (the default): both sides go StandAlone.
            c.connect = back.connect = false;
            continue;
          }
          c.established = back.established = true;
        } else if (!up && c.established) {
          c.established = false;
          for (const v of Object.values(r.volumes)) if (v.sync && v.sync.from === c.name) delete v.sync;
          if (r.role === "Primary") newGen(s, name, res);
        }
      }
      for (const [vol, v] of Object.entries(r.volumes)) {
        if (v.sync && v.sync.frozen === undefined && now - v.sync.startedAt >= v.sync.durationMs) finishSync(s, name, res, vol);
      }
    }
  }
}

/** Per-volume quorum: off -> yes; else a majority of the nodes (self + connected) of all configured. */
export function hasQuorum(s: SimState, self: string, res: string): boolean {
  const n = s.nodes[self]!;
  const o = n.quorumOverride[res];
  if (o) return o === "yes";
  const r = n.resources[res];
  if (!r || r.quorum === "off") return true;
  const all = 1 + Object.keys(r.conns).length;
  const votes = 1 + Object.values(r.conns).filter((c) => c.established).length;
  const need = r.quorum === "majority" ? Math.floor(all / 2) + 1 : r.quorum === "all" ? all : Number(r.quorum) || Math.floor(all / 2) + 1;
  return votes >= need;
}

export function syncDone(v: SimVolume, now: number): number {
  if (!v.sync) return 100;
  if (v.sync.frozen !== undefined) return v.sync.frozen;
  return v.sync.durationMs <= 0 ? 100 : Math.min(100, (100 * (now - v.sync.startedAt)) / v.sync.durationMs);
}

/** Device nodes stand in for the kernel's /dev/drbdN (and udev's named ones). */
export function makeDevNode(path: string, minor: number): void {
  if (existsSync(path) || process.env.TSSTOR_DRBD_SIM_NO_DEVNODES) return;
  spawnSync("mknod", [path, "b", "147", String(minor)]);
}

export function dropDevNode(s: SimState, path: string | undefined): void {
  if (!path) return;
  const inUse = Object.values(s.nodes).some((n) => Object.values(n.resources).some((r) => Object.values(r.volumes).some((v) => v.devPath === path)));
  if (!inUse) rmSync(path, { force: true });
}

export function procDir(name: string): string {
  return join(simDir(), "proc", name);
}

function writeProcFiles(s: SimState): void {
  for (const [name, n] of Object.entries(s.nodes)) {
    const f = join(procDir(name), "drbd");
    if (!n.loaded) {
      try {
        unlinkSync(f);
      } catch {
        /* not there */
      }
      continue;
    }
    mkdirSync(procDir(name), { recursive: true });
    writeFileSync(f, procText(s, name));
  }
}

/** /proc/drbd: the version header; DRBD 8.4 adds one status line pair per minor. */
export function procText(s: SimState, name: string): string {
  const n = s.nodes[name]!;
  if (!n.kernel.startsWith("8.")) {
    return `version: ${n.kernel} (api:2/proto:86-122)\nGIT-hash: 0000000000000000000000000000000000000000 build by tsstor-drbd-sim, 2024-01-01 00:00:00\nTransports (api:21): tcp (${n.kernel})\n`;
  }
  const lines = [`version: ${n.kernel} (api:1/proto:86-101)`, "srcversion: 0123456789ABCDEF0123456 "];
  const vols: Array<[number, string]> = [];
  for (const [res, r] of Object.entries(n.resources)) {
    for (const [vol, v] of Object.entries(r.volumes)) {
      const c = Object.values(r.conns)[0];
      const p = c && peerOf(s, name, res, c);
      const cs = !c || !c.connect ? "StandAlone" : !c.established ? "WFConnection" : v.sync ? "SyncTarget" : "Connected";
      const pd = p ? diskState(p.node, res, vol) : "DUnknown";
      const pr = p ? p.res.role : "Unknown";
      vols.push([v.minor, ` ${v.minor}: cs:${cs} ro:${r.role}/${pr} ds:${diskState(n, res, vol)}/${pd} C r-----\n    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0`]);
    }
  }
  for (const [, l] of vols.sort((a, b) => a[0] - b[0])) lines.push(l);
  return `${lines.join("\n")}\n`;
}
