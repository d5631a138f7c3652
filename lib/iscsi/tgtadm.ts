// tgt (the userspace SCSI target daemon): changes through tgtadm, reads and the one request that
// carries a secret straight over tgtd's management socket.
//
// tgtadm is a thin client: it sends tgtd a fixed 120-byte header plus "key=value" text on a unix
// socket (root only) and prints the text reply. We speak that protocol ourselves (bun:ffi
// socket/connect/write/read, no child process) for:
// - every `--op show`: a monitor costs no fork, and a broken or hanging tgtadm cannot make a
//   stop believe the target is gone;
// - `--mode account --op new`, the only way tgt takes a CHAP secret: through tgtadm it would sit
//   in argv (/proc/PID/cmdline, `ps`) for every local user to read; over the socket it never
//   leaves our process except into tgtd.
// Changes (new, bind, update, delete) stay with tgtadm: readable argv in the logs, and no
// dependence on the header layout beyond what the tests check against the installed tgtadm.
// Header, tgt 1.0.x (usr/tgtadm.h):
//   u32 mode, u32 op, char lld[64], u32 len, i32 tid, u64 sid, u64 lun,
//   u32 cid, u32 host_no, u32 device_type, u32 ac_dir, u32 pack, u32 force
// Reply: u32 err, u32 len (header included), then text.

import { libc, type Libc } from "../system/ffi.js";
import type { Budget } from "../ocf/budget.js";
import type { Logger } from "../ocf/log.js";
import type { Runner, RunResult } from "../system/run.js";
import { fail } from "../ocf/codes.js";

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

export class Tgt {
  private bin: string | undefined;
  constructor(
    private readonly run: Runner,
    private readonly log: Logger,
    private readonly budget: Budget,
    /** TGT_IPC_SOCKET, or undefined for tgt's default */
    private readonly socket: string | undefined,
  ) {}

  /** tgtadm --lld iscsi ARGS (by absolute path); the caller inspects the result. */
  adm(args: string[]): RunResult {
    this.bin ??= this.run.which("tgtadm");
    if (!this.bin) throw fail.installed("tgtadm not found");
    const r = this.run.run(this.bin, ["--lld", "iscsi", ...args]);
    if (r.timedOut) throw fail.generic("tgtadm timed out");
    return r;
  }

  /** tgtadm that must succeed. */
  must(args: string[]): RunResult {
    const r = this.adm(args);
    if (r.code !== 0) {
      const last = (r.stderr.trim() || r.stdout.trim()).split("\n").pop() ?? "";
      throw fail.generic(`tgtadm ${args.slice(0, 4).join(" ")} failed (rc=${r.code})${last ? `: ${last}` : ""}`);
    }
    return r;
  }

  /** `--op show` over the socket: the reply text, or undefined when tgtd is not running. */
  private show(mode: number, tid?: number): string | undefined {
    const r = ipcRequest(this.socket, { mode, op: OP_SHOW, tid }, "", this.budget.remainingMs());
    if (r === undefined) return undefined;
    this.log.debug(`tgtd socket: show mode=${mode}${tid === undefined ? "" : ` tid=${tid}`} -> ${tgtError(r.err)} (${r.text.length} bytes)`);
    if (r.err !== 0) throw fail.generic(`tgtd refused to show (mode ${mode}): ${tgtError(r.err)}`);
    return r.text;
  }

  /** All targets, or undefined when tgtd is not running. */
  targets(): TgtTarget[] | undefined {
    const text = this.show(MODE_TARGET);
    if (text === undefined) return undefined;
    if (text.trim() && !/^Target \d+: /.test(text)) throw fail.generic(`unexpected reply from tgtd: ${JSON.stringify(text.slice(0, 60))}`);
    return parseTargets(text);
  }

  targetParams(tid: number): Map<string, string> {
    return parseTargetParams(this.show(MODE_TARGET, tid) ?? "");
  }

  portals(): string[] {
    return parsePortals(this.show(MODE_PORTAL) ?? "");
  }

  accounts(): string[] {
    return parseAccounts(this.show(MODE_ACCOUNT) ?? "");
  }

  /** `--mode account --op new` over the socket: the password never reaches an argv. */
  newAccount(user: string, password: string): void {
    const r = ipcRequest(this.socket, { mode: MODE_ACCOUNT, op: OP_NEW }, `user=${user},password=${password}`, this.budget.remainingMs());
    if (r === undefined) throw fail.generic("tgtd is not running");
    this.log.debug(`tgtd socket: account new user=${user} password=*** -> ${tgtError(r.err)}`);
    if (r.err !== 0) throw fail.generic(`creating tgt account ${user} failed: ${tgtError(r.err)}`);
  }
}

// ---- tgtd's management socket ------------------------------------------------------------------

const MODE_TARGET = 1;
const MODE_PORTAL = 3;
const MODE_ACCOUNT = 7;
const OP_NEW = 0;
const OP_SHOW = 2;
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

const SOCKET_CALLS = ["socket", "setsockopt", "connect", "write", "read", "close"] as const;
type SocketCalls = Libc<(typeof SOCKET_CALLS)[number]>;

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

/** One request on tgtd's socket: tgtd's error number and reply text; undefined if tgtd is not listening. */
export function ipcRequest(socketPath: string | undefined, h: { mode: number; op: number; tid?: number }, body: string, timeoutMs: number): { err: number; text: string } | undefined {
  const c = libc(...SOCKET_CALLS);
  if (!c) throw fail.generic("tgtd's socket is only reachable from the compiled agent");
  const path = `${socketPath ?? DEFAULT_SOCKET}.0`;
  const addr = new Uint8Array(110); // struct sockaddr_un
  new DataView(addr.buffer).setUint16(0, 1, true); // AF_UNIX
  const p = new TextEncoder().encode(path);
  if (p.length > 107) throw fail.generic(`tgtd socket path too long: ${path}`);
  addr.set(p, 2);
  if (timeoutMs <= 0) throw fail.generic("time budget exhausted before asking tgtd");
  const fd = Number(c.socket(1, 1, 0)); // AF_UNIX, SOCK_STREAM
  if (fd < 0) throw fail.generic("cannot create a unix socket");
  try {
    // a hung tgtd must not outlast the action: SO_RCVTIMEO / SO_SNDTIMEO from the budget
    const tv = new Uint8Array(16);
    const v = new DataView(tv.buffer);
    v.setBigInt64(0, BigInt(Math.floor(timeoutMs / 1000)), true);
    v.setBigInt64(8, BigInt(Math.max(1000, Math.floor((timeoutMs % 1000) * 1000))), true);
    c.setsockopt(fd, 1, 20, c.ptr(tv), 16); // SOL_SOCKET, SO_RCVTIMEO
    c.setsockopt(fd, 1, 21, c.ptr(tv), 16); // SO_SNDTIMEO
    if (Number(c.connect(fd, c.ptr(addr), addr.length)) !== 0) return undefined;
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

function readFull(c: SocketCalls, fd: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let off = 0;
  while (off < n) {
    const chunk = out.subarray(off);
    const r = Number(c.read(fd, c.ptr(chunk), chunk.length));
    if (r <= 0) throw fail.generic(r < 0 ? "tgtd did not answer in time" : "tgtd closed its socket before replying");
    off += r;
  }
  return out;
}
