// TCP "tickle ACKs" for an address takeover (what resource-agents' portblock does with tickle_tcp,
// and ctdb on IP failover). The initiators' connections to the dead node are in retransmit
// backoff (0.2, 0.4, 0.8, 1.6, 3.2 s...) and notice the move only when a retransmission reaches
// the new node. So the new node sends each known connection a bare ACK (seq 0, ack 0) from
// VIP:port: the client's kernel answers that unacceptable ACK with an ACK carrying its real
// numbers, our kernel has no socket for the 4-tuple and answers with a RST the client accepts,
// and the initiator reconnects within a round trip instead of a backoff interval.
//
// Parsing (/proc/net/tcp*, the state-file format) is pure and loads under Node; only tickle()
// touches bun:ffi, and only when called.

import { readFileSync } from "node:fs";
import { constants as osConstants, endianness } from "node:os";
import { errno, libc } from "../system/ffi.js";
import { sleepMs } from "../system/sleep.js";
import { formatIPv4, formatIPv6, parseIP, type Family } from "./address.js";

export interface Endpoint {
  /** canonical text (IPv4 dotted quad, RFC 5952 IPv6) */
  ip: string;
  port: number;
}

/** One TCP connection seen from this side: `local` is the service address (VIP:port). */
export interface Conn {
  local: Endpoint;
  remote: Endpoint;
}

// ---- /proc/net/tcp and /proc/net/tcp6 ------------------------------------------------------

/** st column of /proc/net/tcp* (include/net/tcp_states.h) */
export const TCP_ESTABLISHED = 1;

const LITTLE_ENDIAN = endianness() === "LE";

// The kernel prints each address as %08X of 32-bit words in host byte order (IPv4: one word,
// IPv6: four words of s6_addr32), so on little-endian hosts every word's bytes are reversed.
// Ports are printed after ntohs, as plain hex numbers.
function procAddrBytes(hex: string): number[] {
  const out: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    const v = parseInt(hex.slice(w, w + 8), 16);
    const be = [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    out.push(...(LITTLE_ENDIAN ? be.reverse() : be));
  }
  return out;
}

/** Address bytes (network order) to canonical text; IPv4-mapped IPv6 (::ffff:a.b.c.d) as IPv4. */
function bytesToIp(b: number[]): string {
  if (b.length === 4) return formatIPv4(((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!);
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v >> 32n === 0xffffn ? formatIPv4(Number(v & 0xffffffffn)) : formatIPv6(v);
}

export interface ProcTcpEntry extends Conn {
  state: number;
}

const PROC_LINE = /^\s*\d+:\s+([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})\s+([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})\s+([0-9A-Fa-f]{2})\s/;

/** Every socket line of /proc/net/tcp and/or /proc/net/tcp6 text (the header and odd lines skipped). */
export function parseProcNetTcp(text: string): ProcTcpEntry[] {
  const out: ProcTcpEntry[] = [];
  for (const line of text.split("\n")) {
    const m = PROC_LINE.exec(line);
    if (!m || m[1]!.length !== m[3]!.length) continue;
    out.push({
      local: { ip: bytesToIp(procAddrBytes(m[1]!)), port: parseInt(m[2]!, 16) },
      remote: { ip: bytesToIp(procAddrBytes(m[3]!)), port: parseInt(m[4]!, 16) },
      state: parseInt(m[5]!, 16),
    });
  }
  return out;
}

/** IP text to canonical form (IPv4-mapped IPv6 as IPv4), or undefined. */
function canonicalIp(s: string): { family: Family; text: string } | undefined {
  const p = parseIP(s);
  if (!p) return undefined;
  if (p.family === 6 && p.value >> 32n === 0xffffn) return { family: 4, text: formatIPv4(Number(p.value & 0xffffffffn)) };
  return { family: p.family, text: p.text };
}

function readProc(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    // no tcp6 file when IPv6 is disabled
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw e;
  }
}

/**
 * The ESTABLISHED TCP connections whose local end is localIp:localPort (port 0: any port, as
 * portblock records every connection to the address), from /proc/net/tcp and /proc/net/tcp6 of
 * the caller's network namespace, or from `procText` (the two files' text, for tests).
 * Connections of a dual-stack listener show up in tcp6 as ::ffff:a.b.c.d and are reported as IPv4.
 */
export function established(localIp: string, localPort: number, procText?: string): Conn[] {
  const want = canonicalIp(localIp);
  if (!want) throw new Error(`not an IP address: ${JSON.stringify(localIp)}`);
  if (!Number.isInteger(localPort) || localPort < 0 || localPort > 65535) throw new Error(`not a port: ${localPort}`);
  const text = procText ?? readProc("/proc/net/tcp") + "\n" + readProc("/proc/net/tcp6");
  const seen = new Set<string>();
  const out: Conn[] = [];
  for (const e of parseProcNetTcp(text)) {
    if (e.state !== TCP_ESTABLISHED || e.local.ip !== want.text || (localPort !== 0 && e.local.port !== localPort)) continue;
    const key = connKey(e);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ local: e.local, remote: e.remote });
  }
  return out;
}

// ---- the state-file format: "LOCALIP:PORT REMOTEIP:PORT" per line -------------------------

function formatEndpoint(e: Endpoint): string {
  return e.ip.includes(":") ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

function connKey(c: Conn): string {
  return `${formatEndpoint(c.local)} ${formatEndpoint(c.remote)}`;
}

/** One line per connection, `LOCALIP:PORT REMOTEIP:PORT` (IPv6 in brackets). */
export function formatConns(conns: Conn[]): string {
  return conns.map((c) => `${connKey(c)}\n`).join("");
}

const ENDPOINT = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):([0-9]{1,5})$/;

function parseEndpoint(s: string, where: string): { family: Family; ep: Endpoint } {
  const m = ENDPOINT.exec(s);
  if (!m) {
    const hint = !s.startsWith("[") && (s.match(/:/g)?.length ?? 0) > 1 ? " (an IPv6 address needs brackets: [ADDR]:PORT)" : "";
    throw new Error(`${where}: not IP:PORT: ${JSON.stringify(s)}${hint}`);
  }
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new Error(`${where}: port out of range (1-65535): ${JSON.stringify(s)}`);
  const ipText = m[1] ?? m[2]!;
  const p = parseIP(ipText);
  if (!p || (m[1] !== undefined) !== (p.family === 6)) throw new Error(`${where}: not an IP${m[1] !== undefined ? "v6" : "v4"} address: ${JSON.stringify(ipText)}`);
  const ip = canonicalIp(ipText)!;
  // no TCP connection has these at either end: unspecified, broadcast, multicast
  const v = ip.family === 4 ? p.value & 0xffffffffn : p.value;
  const bad = ip.family === 4 ? v === 0n || v === 0xffffffffn || v >> 28n === 0xen : v === 0n || v >> 120n === 0xffn;
  if (bad) throw new Error(`${where}: not a unicast address: ${JSON.stringify(ipText)}`);
  return { family: ip.family, ep: { ip: ip.text, port } };
}

/**
 * Read formatConns() text back (a state file, so never trusted): blank lines and `#` comments
 * are skipped, fields may be separated by spaces or tabs; anything else throws an Error naming
 * the line.
 */
export function parseConns(text: string): Conn[] {
  const out: Conn[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const where = `line ${i + 1}`;
    const s = lines[i]!.replace(/#.*/s, "").trim();
    if (s === "") continue;
    const f = s.split(/[ \t]+/);
    if (f.length !== 2) throw new Error(`${where}: expected "LOCALIP:PORT REMOTEIP:PORT", got ${JSON.stringify(s.slice(0, 200))}`);
    const local = parseEndpoint(f[0]!, where);
    const remote = parseEndpoint(f[1]!, where);
    if (local.family !== remote.family) throw new Error(`${where}: local and remote addresses of different families: ${JSON.stringify(s)}`);
    out.push({ local: local.ep, remote: remote.ep });
  }
  return out;
}

// ---- the packets ---------------------------------------------------------------------------

export const TCP_FLAG = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;
/** tickle_tcp's window; any nonzero value does */
export const TICKLE_WINDOW = 1234;

const IPPROTO_TCP = 6;

function ipBytes(ip: string): Uint8Array {
  const p = parseIP(ip);
  if (!p) throw new Error(`not an IP address: ${JSON.stringify(ip)}`);
  const n = p.family === 4 ? 4 : 16;
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Number((p.value >> BigInt((n - 1 - i) * 8)) & 0xffn);
  return b;
}

/** The 16-bit one's complement sum (RFC 1071) of the chunks, not yet complemented. */
function sum16(chunks: Uint8Array[]): number {
  let sum = 0;
  for (const c of chunks) {
    for (let i = 0; i + 1 < c.length; i += 2) sum += (c[i]! << 8) | c[i + 1]!;
    if (c.length % 2) sum += c[c.length - 1]! << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** RFC 1071 Internet checksum of the concatenated chunks (each chunk of even length but the last). */
export function internetChecksum(...chunks: Uint8Array[]): number {
  return ~sum16(chunks) & 0xffff;
}

/** The pseudo-header the TCP checksum covers (RFC 793 for IPv4, RFC 8200 section 8.1 for IPv6). */
function pseudoHeader(src: Uint8Array, dst: Uint8Array, tcpLength: number): Uint8Array {
  if (src.length === 4) {
    const p = new Uint8Array(12);
    p.set(src, 0);
    p.set(dst, 4);
    p[9] = IPPROTO_TCP;
    new DataView(p.buffer).setUint16(10, tcpLength);
    return p;
  }
  const p = new Uint8Array(40);
  p.set(src, 0);
  p.set(dst, 16);
  new DataView(p.buffer).setUint32(32, tcpLength);
  p[39] = IPPROTO_TCP;
  return p;
}

export interface SegmentOpts {
  seq?: number;
  ack?: number;
  flags?: number;
  window?: number;
}

/**
 * The complete IP datagram (IPv4 or IPv6 header + a 20-byte TCP header, no payload) from
 * `c.local` to `c.remote`; by default the tickle: ACK only, seq 0, ack 0, window 1234.
 */
export function tickleDatagram(c: Conn, o: SegmentOpts = {}): Uint8Array {
  const src = ipBytes(c.local.ip);
  const dst = ipBytes(c.remote.ip);
  if (src.length !== dst.length) throw new Error(`address families differ: ${connKey(c)}`);
  const tcp = new Uint8Array(20);
  const t = new DataView(tcp.buffer);
  t.setUint16(0, c.local.port);
  t.setUint16(2, c.remote.port);
  t.setUint32(4, o.seq ?? 0);
  t.setUint32(8, o.ack ?? 0);
  tcp[12] = 5 << 4; // data offset: 5 words, no options
  tcp[13] = o.flags ?? TCP_FLAG.ACK;
  t.setUint16(14, o.window ?? TICKLE_WINDOW);
  // a computed 0 is sent as 0xffff, as tickle_tcp and ctdb do (both mean zero in one's complement)
  t.setUint16(16, internetChecksum(pseudoHeader(src, dst, 20), tcp) || 0xffff);

  if (src.length === 4) {
    const pkt = new Uint8Array(40);
    const v = new DataView(pkt.buffer);
    pkt[0] = 0x45; // version 4, 5-word header
    v.setUint16(2, pkt.length);
    // id 0: the kernel picks one for IP_HDRINCL packets (and then redoes the header checksum)
    pkt[8] = 64; // TTL
    pkt[9] = IPPROTO_TCP;
    pkt.set(src, 12);
    pkt.set(dst, 16);
    v.setUint16(10, internetChecksum(pkt.subarray(0, 20)));
    pkt.set(tcp, 20);
    return pkt;
  }
  const pkt = new Uint8Array(60);
  const v = new DataView(pkt.buffer);
  pkt[0] = 0x60; // version 6, traffic class 0, flow label 0
  v.setUint16(4, tcp.length); // payload length: the kernel does not fill it in for IPV6_HDRINCL
  pkt[6] = IPPROTO_TCP;
  pkt[7] = 64; // hop limit
  pkt.set(src, 8);
  pkt.set(dst, 24);
  pkt.set(tcp, 40);
  return pkt;
}

// ---- sending -------------------------------------------------------------------------------

// Raw sockets with IPPROTO_RAW, which implies IP_HDRINCL (IPv4) and IPV6_HDRINCL (IPv6): we
// write the whole datagram, so the source address is exactly the recorded local end. With
// SOCK_RAW/IPPROTO_TCP the kernel would write the IP header and pick the source from the route,
// needing a bind() per local address, an address this host owns (portblock also tickles in the
// other direction, from the client's address to reset our own stale sockets) and a socket that
// receives a copy of every incoming TCP segment. IPPROTO_RAW sockets receive nothing. The kernel
// still fills in the IPv4 id, total length and header checksum, and routes on the destination.
// The TCP checksum is always ours (the kernel never touches a raw socket's payload).
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0x800;
const SOCK_CLOEXEC = 0x80000;
const IPPROTO_RAW = 255;

function sockaddrFor(ip: string): Uint8Array {
  const b = ipBytes(ip);
  if (b.length === 4) {
    const sa = new Uint8Array(16);
    new DataView(sa.buffer).setUint16(0, AF_INET, true);
    sa.set(b, 4); // sin_port stays 0: raw sockets have no ports
    return sa;
  }
  // sin6_port must be 0 (or IPPROTO_RAW) on a raw IPv6 socket, else EINVAL
  const sa = new Uint8Array(28);
  new DataView(sa.buffer).setUint16(0, AF_INET6, true);
  sa.set(b, 8);
  return sa;
}

/** errno of the last libc call, by name. */
function lastErrno(): string {
  const n = errno();
  if (!n) return "failed";
  const name = Object.entries(osConstants.errno).find(([, v]) => v === n)?.[0];
  return name ?? `errno ${n}`;
}

const TRANSIENT = new Set(["EAGAIN", "EWOULDBLOCK", "ENOBUFS", "EINTR"]);

export interface TickleOpts {
  /** datagrams per connection (default 3, like ctdb; at least 1): survives a lost packet */
  repeat?: number;
  /** pause between rounds over all connections, ms (default 0: back to back, like tickle_tcp -n) */
  intervalMs?: number;
}

/**
 * Send each connection `repeat` tickle ACKs from its local to its remote end: after the VIP is up
 * here and announced, so that the client's answer comes to this node. Never throws for
 * a connection: a failure (unroutable client, no CAP_NET_RAW, no bun:ffi) is collected in
 * `errors`, once per connection, and that connection is not tried again. `sent` counts the
 * datagrams the kernel accepted (delivery is not confirmed: a client that no longer exists just
 * never answers).
 */
export function tickle(conns: Conn[], opts: TickleOpts = {}): { sent: number; errors: string[] } {
  const repeat = Math.max(1, Math.floor(opts.repeat ?? 3));
  const errors: string[] = [];
  const jobs: Array<{ key: string; family: Family; pkt: Uint8Array; sa: Uint8Array; failed: boolean }> = [];
  const seen = new Set<string>();
  for (const c of conns) {
    const key = connKey(c);
    if (seen.has(key)) continue;
    seen.add(key);
    try {
      const pkt = tickleDatagram(c);
      const family: Family = pkt.length === 40 ? 4 : 6;
      if (family === 6 && (parseIP(c.remote.ip)!.value >> 118n === 0x3fan || parseIP(c.local.ip)!.value >> 118n === 0x3fan)) {
        errors.push(`${key}: link-local addresses need an interface; not supported`);
        continue;
      }
      jobs.push({ key, family, pkt, sa: sockaddrFor(c.remote.ip), failed: false });
    } catch (e) {
      errors.push(`${key}: ${(e as Error).message}`);
    }
  }
  if (jobs.length === 0) return { sent: 0, errors };

  const c = libc("socket", "sendto", "close", "__errno_location");
  if (!c) return { sent: 0, errors: [...errors, "raw sockets need the compiled agent (bun:ffi); no tickle ACK sent"] };
  const fds = new Map<Family, number>();
  let sent = 0;
  try {
    for (const family of [4, 6] as const) {
      if (!jobs.some((j) => j.family === family)) continue;
      const fd = Number(c.socket(family === 4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW));
      if (fd >= 0) {
        fds.set(family, fd);
        continue;
      }
      const err = lastErrno();
      errors.push(`cannot open a raw IPv${family} socket: ${err}${err === "EPERM" ? " (needs CAP_NET_RAW)" : ""}`);
      for (const j of jobs) if (j.family === family) j.failed = true;
    }
    for (let round = 0; round < repeat; round++) {
      if (round > 0) sleepMs(opts.intervalMs ?? 0);
      for (const j of jobs) {
        if (j.failed) continue;
        const fd = fds.get(j.family)!;
        // non-blocking: a full send buffer (datagrams queued behind unresolved neighbours) is
        // waited out briefly, never forever
        for (let attempt = 0; ; attempt++) {
          if (Number(c.sendto(fd, c.ptr(j.pkt), j.pkt.length, 0, c.ptr(j.sa), j.sa.length)) === j.pkt.length) {
            sent++;
            break;
          }
          const err = lastErrno();
          if (TRANSIENT.has(err) && attempt < 20) {
            sleepMs(5);
            continue;
          }
          errors.push(`${j.key}: sendto: ${err}`);
          j.failed = true;
          break;
        }
      }
    }
  } finally {
    for (const fd of fds.values()) c.close(fd);
  }
  return { sent, errors };
}
