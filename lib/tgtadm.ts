// tgt (the userspace SCSI target daemon) through tgtadm, plus tgtd's management socket spoken
// directly for the one request that carries a secret.
//
// Why the socket: `tgtadm --mode account --op new --user U --password P` is the only way tgt
// takes a CHAP secret, and it puts the secret in tgtadm's argv (visible in /proc/PID/cmdline and
// `ps` to every local user). tgtd reads its requests from a unix socket (root only); tgtadm is
// a thin client that sends a fixed 120-byte header and "user=U,password=P\0". We send exactly
// those bytes ourselves (bun:ffi socket/connect/write/read, no child process), so the secret
// never leaves our process except into tgtd. Header layout, tgt 1.0.x (usr/tgtadm.h):
//   u32 mode, u32 op, char lld[64], u32 len, i32 tid, u64 sid, u64 lun,
//   u32 cid, u32 host_no, u32 device_type, u32 ac_dir, u32 pack, u32 force
// Reply: u32 err, u32 len (header included), then text.

import { createRequire } from "node:module";
import type { Logger } from "./log.js";
import type { Runner, RunResult } from "./run.js";
import { describeFailure } from "./run.js";
import { fail } from "./ocf.js";

// ---- tgtadm --op show output --------------------------------------------------------------------

export interface TgtConnection {
  cid: number;
  ip?: string;
}
export interface TgtNexus {
  sid: number;
  initiator: string;
  connections: TgtConnection[];
}
export interface TgtLun {
  lun: number;
  type: string;
  scsiId: string;
  scsiSn: string;
  blockSize?: number;
  sizeMb?: number;
  bsType: string;
  path: string;
}
export interface TgtTarget {
  tid: number;
  iqn: string;
  state: string;
  nexus: TgtNexus[];
  luns: TgtLun[];
  /** incoming accounts bound to the target */
  accounts: string[];
  outgoing: string[];
  /** ACL entries: addresses (ALL, IP, IP/prefix) first, then initiator names */
  acls: string[];
}

/** Parse `tgtadm --lld iscsi --op show --mode target`. */
export function parseTargets(text: string): TgtTarget[] {
  const out: TgtTarget[] = [];
  let t: TgtTarget | undefined;
  let section = "";
  let nexus: TgtNexus | undefined;
  let lun: TgtLun | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    let m = /^Target (\d+): (.*)$/.exec(line);
    if (m) {
      t = { tid: Number(m[1]), iqn: m[2]!, state: "", nexus: [], luns: [], accounts: [], outgoing: [], acls: [] };
      out.push(t);
      section = "";
      continue;
    }
    if (!t) continue;
    const s = line.trim();
    if (/^ {4}\S/.test(line)) {
      section = s.replace(/:$/, "");
      continue;
    }
    switch (section) {
      case "System information":
        if ((m = /^State: (.*)$/.exec(s))) t.state = m[1]!;
        break;
      case "I_T nexus information":
        if ((m = /^I_T nexus: (\d+)$/.exec(s))) {
          nexus = { sid: Number(m[1]), initiator: "", connections: [] };
          t.nexus.push(nexus);
        } else if ((m = /^Initiator: (\S+)/.exec(s)) && nexus) nexus.initiator = m[1]!;
        else if ((m = /^Connection: (\d+)$/.exec(s)) && nexus) nexus.connections.push({ cid: Number(m[1]) });
        else if ((m = /^IP Address: (\S+)$/.exec(s)) && nexus?.connections.length) nexus.connections[nexus.connections.length - 1]!.ip = m[1]!;
        break;
      case "LUN information":
        if ((m = /^LUN: (\d+)$/.exec(s))) {
          lun = { lun: Number(m[1]), type: "", scsiId: "", scsiSn: "", bsType: "", path: "" };
          t.luns.push(lun);
        } else if (lun) {
          if ((m = /^Type: (.*)$/.exec(s))) lun.type = m[1]!;
          else if ((m = /^SCSI ID: (.*)$/.exec(s))) lun.scsiId = m[1]!;
          else if ((m = /^SCSI SN: (.*)$/.exec(s))) lun.scsiSn = m[1]!;
          else if ((m = /^Size: (\d+) MB, Block size: (\d+)$/.exec(s))) {
            lun.sizeMb = Number(m[1]);
            lun.blockSize = Number(m[2]);
          } else if ((m = /^Backing store type: (.*)$/.exec(s))) lun.bsType = m[1]!;
          else if ((m = /^Backing store path: (.*)$/.exec(s))) lun.path = m[1]!;
        }
        break;
      case "Account information":
        if ((m = /^(\S+) \(outgoing\)$/.exec(s))) t.outgoing.push(m[1]!);
        else if (s) t.accounts.push(s);
        break;
      case "ACL information":
        if (s) t.acls.push(s);
        break;
    }
  }
  return out;
}

/** Parse `--mode target --op show --tid N`: its "name=value" parameters. */
export function parseTargetParams(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of text.split("\n")) {
    const i = l.indexOf("=");
    if (i > 0) m.set(l.slice(0, i).trim(), l.slice(i + 1).trim());
  }
  return m;
}

/** Parse `--mode portal --op show`: "Portal: 10.0.0.1:3260,1" lines -> "10.0.0.1:3260". */
export function parsePortals(text: string): string[] {
  return [...text.matchAll(/^Portal: (\S+?)(?:,\d+)?$/gm)].map((m) => m[1]!);
}

/** Parse `--mode account --op show`. */
export function parseAccounts(text: string): string[] {
  return text
    .split("\n")
    .slice(1)
    .map((l) => l.trim())
    .filter(Boolean);
}

// ---- tgtadm ------------------------------------------------------------------------------------

/** tgtd is not listening (tgtadm exits with ECONNREFUSED/ENOTCONN/ENOENT). */
export function notRunning(r: RunResult): boolean {
  return r.code === 107 || r.code === 111 || r.code === 2 || /can't connect|not connected|Connection refused|No such file/i.test(r.stderr);
}

export class Tgt {
  constructor(
    private readonly run: Runner,
    private readonly log: Logger,
    /** TGT_IPC_SOCKET, or undefined for tgt's default */
    private readonly socket: string | undefined,
  ) {}

  /** tgtadm --lld iscsi ARGS; the caller inspects the result. */
  adm(args: string[]): RunResult {
    const r = this.run.run("tgtadm", ["--lld", "iscsi", ...args]);
    if (r.missing) throw fail.installed("tgtadm not found");
    if (r.timedOut) throw fail.generic("tgtadm timed out");
    return r;
  }

  /** tgtadm that must succeed. */
  must(args: string[]): RunResult {
    const r = this.adm(args);
    if (r.code !== 0) throw fail.generic(describeFailure(r).replace(/^tgtadm --lld/, "tgtadm"));
    return r;
  }

  /** All targets, or undefined when tgtd is not running. */
  targets(): TgtTarget[] | undefined {
    const r = this.adm(["--op", "show", "--mode", "target"]);
    if (r.code !== 0) {
      if (notRunning(r)) return undefined;
      throw fail.generic(describeFailure(r));
    }
    return parseTargets(r.stdout);
  }

  targetParams(tid: number): Map<string, string> {
    return parseTargetParams(this.must(["--op", "show", "--mode", "target", "--tid", String(tid)]).stdout);
  }

  portals(): string[] {
    return parsePortals(this.must(["--op", "show", "--mode", "portal"]).stdout);
  }

  accounts(): string[] {
    return parseAccounts(this.must(["--op", "show", "--mode", "account"]).stdout);
  }

  /** `--mode account --op new` through tgtd's socket: the password never reaches an argv. */
  newAccount(user: string, password: string): void {
    const body = `user=${user},password=${password}`;
    const r = ipcRequest(this.socket, { mode: MODE_ACCOUNT, op: OP_NEW }, body);
    this.log.debug(`tgtd socket: account new user=${user} password=*** -> ${tgtError(r.err)}`);
    if (r.err !== 0) throw fail.generic(`creating tgt account ${user} failed: ${tgtError(r.err)}`);
  }
}

// ---- tgtd's management socket ------------------------------------------------------------------

const MODE_ACCOUNT = 7;
const OP_NEW = 0;
const HEADER = 120;

/** tgtadm's messages for tgtd's error numbers (tgt 1.0.x tgtadm_error.h order). */
const ERRORS = [
  "success",
  "unknown error",
  "out of memory",
  "can't find the driver",
  "can't find the target",
  "can't find the logical unit",
  "can't find the session",
  "can't find the connection",
  "can't find the binding",
  "this target already exists",
  "this binding already exists",
  "this logical unit number already exists",
  "this access control rule already exists",
  "this access control rule does not exist",
  "this account already exists",
  "can't find the account",
  "too many accounts",
  "invalid request",
  "this target already has an outgoing account",
  "this target is still active",
  "this logical unit is still active",
  "this driver is busy",
  "this operation isn't supported",
  "unknown parameter",
  "this device has Prevent Removal set",
];
export const tgtError = (n: number): string => ERRORS[n] ?? `tgtd error ${n}`;

/** The default socket of Debian's (and upstream's since 1.0.40) tgt: /var/run/tgtd/socket.<port>. */
const DEFAULT_SOCKET = "/var/run/tgtd/socket";

type Sym = (...a: unknown[]) => number | bigint;
let sys: { socket: Sym; connect: Sym; write: Sym; read: Sym; close: Sym; ptr: (b: Uint8Array) => unknown } | undefined;

function libc() {
  if (sys) return sys;
  if (typeof Bun === "undefined") throw fail.generic("tgtd's socket is only reachable from the compiled agent");
  const ffi = createRequire(import.meta.url)("bun:ffi") as typeof import("bun:ffi");
  const T = ffi.FFIType;
  const lib = ffi.dlopen("libc.so.6", {
    socket: { args: [T.i32, T.i32, T.i32], returns: T.i32 },
    connect: { args: [T.i32, T.ptr, T.u32], returns: T.i32 },
    write: { args: [T.i32, T.ptr, T.u64], returns: T.i64 },
    read: { args: [T.i32, T.ptr, T.u64], returns: T.i64 },
    close: { args: [T.i32], returns: T.i32 },
  });
  const s = lib.symbols as unknown as Record<string, Sym>;
  sys = { socket: s.socket!, connect: s.connect!, write: s.write!, read: s.read!, close: s.close!, ptr: (b) => ffi.ptr(b) };
  return sys;
}

export function encodeRequest(h: { mode: number; op: number; tid?: number }, body: string): Uint8Array {
  const b = new TextEncoder().encode(body.length ? `${body}\0` : "");
  const buf = new Uint8Array(HEADER + b.length);
  const v = new DataView(buf.buffer);
  v.setUint32(0, h.mode, true);
  v.setUint32(4, h.op, true);
  buf.set(new TextEncoder().encode("iscsi"), 8);
  v.setUint32(72, HEADER + b.length, true);
  v.setInt32(76, h.tid ?? -1, true);
  v.setBigUint64(80, 0n, true); // sid
  v.setBigUint64(88, 0xffffffffffffffffn, true); // lun: none
  buf.set(b, HEADER);
  return buf;
}

/** One request on tgtd's socket; returns tgtd's error number and reply text. */
export function ipcRequest(socketPath: string | undefined, h: { mode: number; op: number; tid?: number }, body: string): { err: number; text: string } {
  const c = libc();
  const path = `${socketPath ?? DEFAULT_SOCKET}.0`;
  const addr = new Uint8Array(110); // struct sockaddr_un
  new DataView(addr.buffer).setUint16(0, 1, true); // AF_UNIX
  const p = new TextEncoder().encode(path);
  if (p.length > 107) throw fail.generic(`tgtd socket path too long: ${path}`);
  addr.set(p, 2);
  const fd = Number(c.socket(1, 1, 0)); // AF_UNIX, SOCK_STREAM
  if (fd < 0) throw fail.generic("cannot create a unix socket");
  try {
    if (Number(c.connect(fd, c.ptr(addr), addr.length)) !== 0) throw fail.generic(`cannot connect to tgtd at ${path} (is tgtd running?)`);
    const req = encodeRequest(h, body);
    try {
      let off = 0;
      while (off < req.length) {
        const chunk = req.subarray(off);
        const n = Number(c.write(fd, c.ptr(chunk), chunk.length));
        if (n <= 0) throw fail.generic("writing to tgtd's socket failed");
        off += n;
      }
    } finally {
      req.fill(0); // the secret does not stay in our memory longer than needed
    }
    const head = readFull(c, fd, 8);
    const hv = new DataView(head.buffer);
    const err = hv.getUint32(0, true);
    const len = hv.getUint32(4, true);
    const text = len > 8 ? new TextDecoder().decode(readFull(c, fd, len - 8)).replace(/\0+$/, "") : "";
    return { err, text };
  } finally {
    c.close(fd);
  }
}

function readFull(c: NonNullable<typeof sys>, fd: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let off = 0;
  while (off < n) {
    const chunk = out.subarray(off);
    const r = Number(c.read(fd, c.ptr(chunk), chunk.length));
    if (r <= 0) throw fail.generic("tgtd closed its socket before replying");
    off += r;
  }
  return out;
}
