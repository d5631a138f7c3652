// The iSCSI initiator side (open-iscsi): sessions and their disks read from sysfs, what still uses
// a disk, the node database records iscsiadm keeps, and the typed iscsiadm adapter.
//
// Sessions are told apart by target AND portal: one target reached through two portals (two
// paths for multipath) has one session per portal, and upstream's agent, matching the portal as a
// text prefix of `iscsiadm -m session` lines, logs out the wrong one (resource-agents #744/#747).
// Here a session is the sysfs pair /sys/class/iscsi_session/sessionN (targetname, tpgt, state)
// and /sys/class/iscsi_connection/connectionN:0 (persistent_address, persistent_port: the
// portal as logged in to), compared as addresses.

import { closeSync, existsSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Mount } from "../fs/mounts.js";
import type { Runner, RunResult } from "../system/run.js";
import { sleepMs } from "../system/sleep.js";
import { splitDmName } from "../lvm/dm.js";
import { canonicalIpv6, iscsiNameError, parsePortal, type Portal } from "./syntax.js";

// ---- the portal parameter -------------------------------------------------------------------

export interface InitiatorPortal {
  /** bare address: dotted quad, or IPv6 in canonical form without brackets */
  address: string;
  port: number;
  /** the target portal group tag, when the parameter names one (",N") */
  tpgt?: number;
}

/** `IPv4[:port][,tpgt]` or `[IPv6][:port][,tpgt]`; an error message otherwise. */
export function parseInitiatorPortal(v: string): InitiatorPortal | string {
  // [\s\S]: a value with a newline must reach parsePortal's refusal, not fail to match here
  const m = /^([\s\S]*?)(?:,(\d{1,5}))?$/.exec(v)!;
  const p = parsePortal(m[1]!);
  if (typeof p === "string") {
    if (/^[a-z0-9.-]+(:\d+)?$/i.test(m[1]!) && /[a-z]/i.test(m[1]!)) {
      return `must be an IP address (sessions are matched by the address the kernel reports, so a host name cannot be told apart from another portal), got ${JSON.stringify(v)}`;
    }
    return `must be IPv4[:port] or [IPv6][:port], optionally with ",tpgt": ${p}`;
  }
  return { address: bare(p), port: p.port, ...(m[2] !== undefined ? { tpgt: Number(m[2]) } : {}) };
}

export const portalError = (v: string): string | undefined => {
  const p = parseInitiatorPortal(v);
  return typeof p === "string" ? p : undefined;
};

const bare = (p: Portal): string => p.ip.replace(/^\[|\]$/g, "");

/** The portal as iscsiadm -p and udev's by-path links spell it: a.b.c.d:port, [v6]:port. */
export function portalArg(p: InitiatorPortal): string {
  return `${p.address.includes(":") ? `[${p.address}]` : p.address}:${p.port}`;
}

function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  const x = canonicalIpv6(a.replace(/^\[|\]$/g, ""));
  const y = canonicalIpv6(b.replace(/^\[|\]$/g, ""));
  // IPv4-mapped spellings ("::ffff:10.0.0.1") are what a dual-stack socket may report
  const v4 = (s: string) => s.replace(/^\[?::ffff:([\d.]+)\]?$/i, "$1");
  return (x !== undefined && x === y) || v4(a) === v4(b);
}

// ---- sysfs: sessions and disks ----------------------------------------------------------------

function readTrim(p: string): string | undefined {
  try {
    return readFileSync(p, "utf8").trim();
  } catch {
    return undefined;
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export interface Session {
  /** the session number: iscsiadm -m session -r SID */
  sid: number;
  target: string;
  tpgt: number | undefined;
  /** the kernel's session state: LOGGED_IN, FAILED, FREE */
  state: string;
  /** where the session logs in to (persistent_address/port); undefined while not readable */
  address: string | undefined;
  port: number | undefined;
  /** the connection state (up, down, failed, bound), when the kernel reports one */
  connState: string | undefined;
}

/** Every iSCSI session of this node, from sysfs (no fork, no iscsid). */
export function readSessions(sys: string): Session[] {
  const out: Session[] = [];
  const conns = list(`${sys}/class/iscsi_connection`);
  for (const name of list(`${sys}/class/iscsi_session`)) {
    const m = /^session(\d+)$/.exec(name);
    if (!m) continue;
    const dir = `${sys}/class/iscsi_session/${name}`;
    const target = readTrim(`${dir}/targetname`);
    if (target === undefined) continue; // gone while we looked
    const conn = conns.find((c) => c.startsWith(`connection${m[1]}:`));
    const cdir = conn && `${sys}/class/iscsi_connection/${conn}`;
    const address = cdir ? readTrim(`${cdir}/persistent_address`) || readTrim(`${cdir}/address`) : undefined;
    const portS = cdir ? readTrim(`${cdir}/persistent_port`) || readTrim(`${cdir}/port`) : undefined;
    const tpgt = readTrim(`${dir}/tpgt`);
    out.push({
      sid: Number(m[1]),
      target,
      tpgt: tpgt !== undefined && /^\d+$/.test(tpgt) ? Number(tpgt) : undefined,
      state: readTrim(`${dir}/state`) ?? "unknown",
      address,
      port: portS !== undefined && /^\d+$/.test(portS) ? Number(portS) : undefined,
      connState: cdir ? readTrim(`${cdir}/state`) : undefined,
    });
  }
  return out.sort((a, b) => a.sid - b.sid);
}

/** The sessions to this target through this portal (iSCSI names compare case-insensitively). */
export function sessionsTo(sessions: readonly Session[], target: string, portal: InitiatorPortal): Session[] {
  return sessions.filter(
    (s) =>
      s.target.toLowerCase() === target.toLowerCase() &&
      s.address !== undefined &&
      sameAddress(s.address, portal.address) &&
      s.port === portal.port &&
      (portal.tpgt === undefined || s.tpgt === undefined || s.tpgt === portal.tpgt),
  );
}

export function describeSession(s: Session): string {
  const at = s.address === undefined ? "?" : `${s.address.includes(":") ? `[${s.address}]` : s.address}:${s.port}`;
  return `session ${s.sid} (${s.target} at ${at}, ${s.state}${s.connState && s.connState !== "up" ? `, connection ${s.connState}` : ""})`;
}

export interface Disk {
  /** kernel name: sdb */
  name: string;
  /** SCSI address H:C:T:L */
  hctl: string;
  lun: number;
  /** the SCSI device state (running, offline, transport-offline, blocked) */
  state: string | undefined;
}

/** The SCSI disks the kernel found through one session (device/target*\/H:C:T:L/block/*). */
export function sessionDisks(sys: string, sid: number): Disk[] {
  const dev = `${sys}/class/iscsi_session/session${sid}/device`;
  const out: Disk[] = [];
  for (const t of list(dev)) {
    if (!t.startsWith("target")) continue;
    for (const hctl of list(`${dev}/${t}`)) {
      if (!/^\d+:\d+:\d+:\d+$/.test(hctl)) continue;
      for (const name of list(`${dev}/${t}/${hctl}/block`)) {
        out.push({ name, hctl, lun: Number(hctl.split(":")[3]), state: readTrim(`${dev}/${t}/${hctl}/state`) });
      }
    }
  }
  return out.sort((a, b) => a.lun - b.lun);
}

/** udev's persistent link for one LUN through one portal (60-persistent-storage.rules). */
export function byPathLink(devRoot: string, portal: InitiatorPortal, target: string, lun: number): string {
  return `${devRoot}/disk/by-path/ip-${portalArg(portal)}-iscsi-${target}-lun-${lun}`;
}

/** The multipath map (its dm name) this path device belongs to, if any. */
export function multipathMapOf(sys: string, kname: string): string | undefined {
  for (const h of list(`${sys}/class/block/${kname}/holders`)) {
    if ((readTrim(`${sys}/class/block/${h}/dm/uuid`) ?? "").startsWith("mpath-")) return readTrim(`${sys}/class/block/${h}/dm/name`) ?? h;
  }
  return undefined;
}

// ---- what uses a disk -----------------------------------------------------------------------

function devNo(sys: string, kname: string): string | undefined {
  return readTrim(`${sys}/class/block/${kname}/dev`);
}

function mountedOn(mounts: readonly Mount[], no: string | undefined): string[] {
  if (no === undefined) return [];
  return mounts.filter((m) => `${m.major}:${m.minor}` === no).map((m) => m.mountPoint);
}

/** A path device that is still there and running (a removed one may linger in slaves/ until multipathd reloads the map). */
function isAlive(sys: string, kname: string): boolean {
  if (!existsSync(`${sys}/class/block/${kname}`)) return false;
  const st = readTrim(`${sys}/class/block/${kname}/device/state`);
  return st === undefined || st === "running";
}

/**
 * Why this block device cannot lose its disk now: its mounts, and the holders stacked on it
 * (an active LV, a multipath map in use, md...). Partitions count as the disk. A multipath map
 * is in the way only when it is in use and this disk is its last live path (`ours` are the disks
 * about to go): logging out of one path of several is what multipath is for.
 */
export function diskUsers(sys: string, kname: string, mounts: readonly Mount[], ours: ReadonlySet<string> = new Set([kname]), depth = 0): string[] {
  if (depth > 8) return [`${kname} (holders nested too deep to follow)`];
  const out: string[] = [];
  for (const mp of mountedOn(mounts, devNo(sys, kname))) out.push(`${kname} is mounted on ${mp}`);
  for (const part of list(`${sys}/class/block/${kname}`)) {
    if (part !== kname && part.startsWith(kname) && existsSync(`${sys}/class/block/${kname}/${part}/partition`)) {
      out.push(...diskUsers(sys, part, mounts, ours, depth + 1));
    }
  }
  for (const h of list(`${sys}/class/block/${kname}/holders`)) {
    const name = readTrim(`${sys}/class/block/${h}/dm/name`);
    const uuid = readTrim(`${sys}/class/block/${h}/dm/uuid`) ?? "";
    if (uuid.startsWith("mpath-")) {
      const above = diskUsers(sys, h, mounts, ours, depth + 1);
      if (above.length === 0) continue; // an unused map: multipathd drops the path, nothing breaks
      const others = list(`${sys}/class/block/${h}/slaves`).filter((s) => !ours.has(s) && isAlive(sys, s));
      if (others.length > 0) continue; // the map keeps its other live paths
      out.push(`${kname} is the last live path of multipath map ${name ?? h} (${above.join("; ")})`);
    } else if (uuid.startsWith("LVM-")) {
      out.push(`${kname} holds the active LVM volume ${lvName(name ?? h)} (${h})`);
    } else if (name !== undefined) {
      out.push(`${kname} is held by device-mapper device ${name} (${h})`);
    } else {
      out.push(`${kname} is held by ${h}`);
    }
  }
  return out;
}

function lvName(dm: string): string {
  const n = splitDmName(dm);
  return n ? `${n.vg}/${n.lv}` : dm;
}

// ---- open-iscsi's node database -----------------------------------------------------------------

/**
 * open-iscsi's node database, compiled into iscsiadm and printed by nothing: Debian 12's 2.1.8 keeps
 * it in /etc/iscsi, Debian 13's 2.1.11 in /var/lib/iscsi. The binary holds the path as a string, so
 * it says which; a file that holds neither (a wrapper script) leaves the directory that exists.
 */
export function iscsiDbOf(iscsiadm: string | undefined): string {
  let bin: Buffer | undefined;
  try {
    if (iscsiadm) bin = readFileSync(iscsiadm);
  } catch {
    bin = undefined;
  }
  for (const root of ["/var/lib/iscsi", "/etc/iscsi"]) if (bin?.includes(`${root}/nodes`)) return root;
  return existsSync("/var/lib/iscsi/nodes") && !existsSync("/etc/iscsi/nodes") ? "/var/lib/iscsi" : "/etc/iscsi";
}

/**
 * The record files of (target, portal) in the node database: NODE_CONFIG_DIR/TARGET/ADDR,PORT,TPGT
 * is a directory with one file per iface (open-iscsi >= 2.0-870), or itself the record (older);
 * a record without a TPGT is NODE_CONFIG_DIR/TARGET/ADDR,PORT, one file.
 */
export function nodeRecordFiles(db: string, target: string, portal: InitiatorPortal): string[] {
  const dir = `${db}/nodes/${target}`;
  const out: string[] = [];
  for (const e of list(dir)) {
    // ADDR,PORT without a TPGT: a static record (iscsiadm -m node -o new), made by hand where
    // discovery cannot be used, e.g. an array behind NAT that offers its own address; open-iscsi
    // keeps it in the old layout, one file, and the login learns the TPGT
    const m = /^(.*),(\d+),(\d+)$/.exec(e) ?? /^([^,]*),(\d+)$/.exec(e);
    if (!m || !sameAddress(m[1]!, portal.address) || Number(m[2]) !== portal.port) continue;
    if (portal.tpgt !== undefined && m[3] !== undefined && Number(m[3]) !== portal.tpgt) continue;
    let isDir = false;
    try {
      isDir = statSync(`${dir}/${e}`).isDirectory();
    } catch {
      continue;
    }
    if (isDir) for (const f of list(`${dir}/${e}`)) out.push(`${dir}/${e}/${f}`);
    else out.push(`${dir}/${e}`);
  }
  return out;
}

/**
 * Hold open-iscsi's own database lock while fn runs (idbm_lock: link(lock, lock.write), retried
 * every 10 ms, 30 s at most), so an iscsiadm or iscsid writing the same records waits for us.
 */
export function withIdbmLock<T>(lockDir: string, fn: () => T, maxMs = 30_000): T {
  mkdirSync(lockDir, { recursive: true, mode: 0o700 });
  const lock = `${lockDir}/lock`;
  const write = `${lockDir}/lock.write`;
  closeSync(openSync(lock, "a", 0o600));
  const t0 = performance.now();
  for (;;) {
    try {
      linkSync(lock, write);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      if (performance.now() - t0 > maxMs) throw new Error(`open-iscsi's database lock ${write} is held for more than ${maxMs / 1000} s`);
      sleepMs(10);
    }
  }
  try {
    return fn();
  } finally {
    try {
      unlinkSync(write);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Set `key = value` lines in record files (replacing a key's line, else adding it before
 * "# END RECORD"), each file rewritten through a root-only temporary file and a rename. Returns
 * the keys that changed (never the values: they may be secrets).
 */
export function setRecordKeys(files: readonly string[], kv: Readonly<Record<string, string>>): string[] {
  const changed = new Set<string>();
  for (const f of files) {
    const lines = readFileSync(f, "utf8").split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    for (const [k, v] of Object.entries(kv)) {
      const line = `${k} = ${v}`;
      const i = lines.findIndex((l) => l.split("=")[0]!.trim() === k);
      if (i >= 0) {
        if (lines[i] === line) continue;
        lines[i] = line;
      } else {
        const end = lines.findIndex((l) => l.startsWith("# END RECORD"));
        lines.splice(end >= 0 ? end : lines.length, 0, line);
      }
      changed.add(k);
    }
    const tmp = `${dirname(f)}/.tsstor-${process.pid}.tmp`;
    writeFileSync(tmp, `${lines.join("\n")}\n`, { mode: 0o600 });
    renameSync(tmp, f);
  }
  return [...changed];
}

export interface Chap {
  username: string;
  password: string;
  /** mutual CHAP: the target's credentials the initiator checks */
  usernameIn?: string;
  passwordIn?: string;
}

/** The node record keys for CHAP (node.session.auth.*), or for none. */
export function chapKeys(c: Chap | undefined): Record<string, string> {
  if (!c) return { "node.session.auth.authmethod": "None" };
  return {
    "node.session.auth.authmethod": "CHAP",
    "node.session.auth.username": c.username,
    "node.session.auth.password": c.password,
    ...(c.usernameIn !== undefined && c.passwordIn !== undefined ? { "node.session.auth.username_in": c.usernameIn, "node.session.auth.password_in": c.passwordIn } : {}),
  };
}

// ---- iscsiadm ----------------------------------------------------------------------------------

/** iscsiadm's exit codes (iscsi_err.h) the agent acts on. */
export const ISCSI_ERR = {
  /** ISCSI_ERR_TRANS_TIMEOUT: no answer from the portal */
  TRANS_TIMEOUT: 8,
  /** ISCSI_ERR_ISCSID_NOTCONN: iscsid is not running and could not be started */
  ISCSID_NOTCONN: 20,
  /** ISCSI_ERR_SESS_EXISTS: already logged in */
  SESS_EXISTS: 15,
  /** ISCSI_ERR_FATAL_LOGIN: a non-retryable login failure (a failed mutual CHAP check, recorded) */
  FATAL_LOGIN: 19,
  /** ISCSI_ERR_NO_OBJS_FOUND: no such record or session */
  NO_OBJS_FOUND: 21,
  /** ISCSI_ERR_SESS_NOT_FOUND: logout of a session that is gone (recorded) */
  SESS_NOT_FOUND: 22,
  /** ISCSI_ERR_LOGIN_AUTH_FAILED */
  LOGIN_AUTH_FAILED: 24,
} as const;

/** iscsiadm's own error lines, without the summary that repeats them. */
export function iscsiadmError(r: RunResult): string {
  if (r.missing) return `${r.argv[0]} not found`;
  if (r.timedOut) return `${r.argv[0]} did not finish in time`;
  // errors are on stderr; stdout has the progress lines ("Logging in to [...]")
  const lines = (r.stderr.trim() ? r.stderr : r.stdout)
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/Could not log into all portals/i.test(l));
  const msg = lines.map((l) => l.replace(/^iscsiadm: /, "")).join("; ");
  return msg ? `${msg} (exit ${r.code})` : `exit ${r.code}`;
}

export interface Discovered {
  address: string;
  port: number;
  tpgt: number;
  target: string;
}

/** `ADDR:PORT,TPGT TARGET` lines (IPv6 in brackets), as discovery prints them. */
export function parseDiscovery(out: string): Discovered[] {
  const res: Discovered[] = [];
  for (const line of out.split("\n")) {
    const m = /^\s*\[?([^\s\]]+?)\]?:(\d+),(-?\d+)\s+(\S+)\s*$/.exec(line);
    if (m && iscsiNameError(m[4]!) === undefined) res.push({ address: m[1]!, port: Number(m[2]), tpgt: Number(m[3]), target: m[4]! });
  }
  return res;
}

export const DISCOVERY_TYPES = ["sendtargets", "isns", "fw"] as const;

/** The typed iscsiadm calls of the agent; never a secret in argv (CHAP goes into the record). */
export class Iscsiadm {
  constructor(
    private readonly run: Runner,
    readonly bin: string,
  ) {}

  /** Discovery that only adds records (-o new): it never rewrites or deletes an existing one. */
  discover(type: (typeof DISCOVERY_TYPES)[number], portal: InitiatorPortal): RunResult {
    return this.run.run(this.bin, ["-m", "discovery", "-t", type, "-p", portalArg(portal), "-o", "new"]);
  }

  login(target: string, portal: InitiatorPortal): RunResult {
    return this.run.run(this.bin, ["-m", "node", "-T", target, "-p", portalArg(portal), "--login"]);
  }

  /** Logout by session number: exactly the session we matched, never another portal's. */
  logout(sid: number): RunResult {
    return this.run.run(this.bin, ["-m", "session", "-r", String(sid), "--logout"]);
  }
}
