// The kernel's address table over rtnetlink (RTM_GETADDR dump) through bun:ffi: what
// `ip -o addr show` prints, without forking `ip` on every monitor (~0.3 ms instead of ~3 ms).

import { libc } from "../system/ffi.js";
import { formatIPv4, formatIPv6, type Family } from "./address.js";

export const IFA_F = {
  SECONDARY: 0x01,
  NODAD: 0x02,
  OPTIMISTIC: 0x04,
  DADFAILED: 0x08,
  DEPRECATED: 0x20,
  TENTATIVE: 0x40,
  PERMANENT: 0x80,
  NOPREFIXROUTE: 0x200,
} as const;

export interface IfAddr {
  family: Family;
  ifindex: number;
  prefix: number;
  /** canonical text */
  address: string;
  /** IPv4 only: the label (`eth0` or `eth0:vip`) */
  label?: string;
  /** IFA_F_* (from IFA_FLAGS when present, which carries the bits above 0xff) */
  flags: number;
  scope: number;
}

const AF_INET = 2;
const AF_INET6 = 10;
const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0x80000;
const NETLINK_ROUTE = 0;
const RTM_NEWADDR = 20;
const RTM_GETADDR = 22;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const IFA_FLAGS = 8;

function addrText(fam: number, b: Uint8Array): string {
  if (fam === AF_INET) return formatIPv4(((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!);
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return formatIPv6(v);
}

/** Parse one recv() worth of netlink messages. Exported for unit tests. */
export function parseAddrMessages(buf: Uint8Array, n: number): { addrs: IfAddr[]; done: boolean; error?: number } {
  const v = new DataView(buf.buffer, buf.byteOffset, n);
  const addrs: IfAddr[] = [];
  let off = 0;
  while (off + 16 <= n) {
    const len = v.getUint32(off, true);
    const type = v.getUint16(off + 4, true);
    if (len < 16 || off + len > n) break;
    if (type === NLMSG_DONE) return { addrs, done: true };
    if (type === NLMSG_ERROR) return { addrs, done: true, error: -v.getInt32(off + 16, true) };
    if (type === RTM_NEWADDR) {
      const b = off + 16;
      const fam = buf[b]!;
      let flags = buf[b + 2]!;
      const a: Partial<IfAddr> = { family: fam === AF_INET ? 4 : 6, prefix: buf[b + 1]!, scope: buf[b + 3]!, ifindex: v.getUint32(b + 4, true) };
      let local: string | undefined;
      let address: string | undefined;
      let ra = b + 8;
      while (ra + 4 <= off + len) {
        const rlen = v.getUint16(ra, true);
        const rtype = v.getUint16(ra + 2, true);
        if (rlen < 4) break;
        const data = buf.subarray(ra + 4, ra + rlen);
        if (rtype === IFA_LOCAL) local = addrText(fam, data);
        else if (rtype === IFA_ADDRESS) address = addrText(fam, data);
        else if (rtype === IFA_LABEL) a.label = new TextDecoder().decode(data).replace(/\0.*$/s, "");
        else if (rtype === IFA_FLAGS && rlen >= 8) flags = v.getUint32(ra + 4, true);
        ra += (rlen + 3) & ~3;
      }
      a.flags = flags;
      // IPv4: IFA_LOCAL is the address (IFA_ADDRESS is the peer on point-to-point links).
      a.address = local ?? address;
      if (a.address && (fam === AF_INET || fam === AF_INET6)) addrs.push(a as IfAddr);
    }
    off += (len + 3) & ~3;
  }
  return { addrs, done: false };
}

/** All addresses of one family, or undefined when netlink is not available here (use `ip`). */
export function dumpAddrs(family: Family): IfAddr[] | undefined {
  const c = libc("socket", "send", "recv", "close");
  if (!c) return undefined;
  const fd = Number(c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (fd < 0) return undefined;
  try {
    const req = new Uint8Array(24);
    const dv = new DataView(req.buffer);
    dv.setUint32(0, 24, true);
    dv.setUint16(4, RTM_GETADDR, true);
    dv.setUint16(6, 0x301, true); // NLM_F_REQUEST | NLM_F_DUMP
    dv.setUint32(8, 1, true);
    req[16] = family === 4 ? AF_INET : AF_INET6;
    if (Number(c.send(fd, c.ptr(req), 24, 0)) !== 24) return undefined;
    const buf = new Uint8Array(65536);
    const all: IfAddr[] = [];
    for (let i = 0; i < 10000; i++) {
      const n = Number(c.recv(fd, c.ptr(buf), buf.length, 0));
      if (n <= 0) return undefined;
      const r = parseAddrMessages(buf, n);
      all.push(...r.addrs);
      if (r.error) return undefined;
      if (r.done) return all;
    }
    return undefined;
  } finally {
    c.close(fd);
  }
}

/** Interface name for an index (if_indextoname), or undefined. */
export function ifName(index: number): string | undefined {
  const c = libc("if_indextoname");
  if (!c) return undefined;
  const buf = new Uint8Array(16);
  const p = c.if_indextoname(index, c.ptr(buf));
  if (!p) return undefined;
  const s = new TextDecoder().decode(buf);
  return s.slice(0, s.indexOf("\0"));
}
