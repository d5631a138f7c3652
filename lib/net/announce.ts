// Telling the network that an address moved here.
// IPv4: gratuitous ARP with iputils `arping` (Debian's iputils-arping) or resource-agents'
// send_arp when present. IPv6: unsolicited Neighbour Advertisements sent by us on a raw ICMPv6
// socket (no helper needed; resource-agents' send_ua is not required).

import { existsSync } from "node:fs";
import { libc } from "../system/ffi.js";
import type { Runner } from "../system/run.js";
import { sleepMs } from "../system/run.js";
import type { Budget } from "../ocf/budget.js";

export const SEND_ARP = "/usr/libexec/heartbeat/send_arp";

export type ArpSender = "send_arp" | "iputils_arping" | "libnet_arping" | "ipoibarping";

function onPath(cmd: string, path: string | undefined): boolean {
  return (path || "/usr/sbin:/usr/bin:/sbin:/bin").split(":").some((d) => d && existsSync(`${d}/${cmd}`));
}

/**
 * The sender to use: the configured one, else resource-agents' send_arp (millisecond intervals),
 * else iputils arping (whole seconds only); undefined when none exists.
 */
export function chooseArpSender(configured: ArpSender | "", path: string | undefined): { sender: ArpSender; bin: string } | undefined {
  const have = (s: ArpSender): string | undefined => {
    if (s === "send_arp") return existsSync(SEND_ARP) ? SEND_ARP : undefined;
    if (s === "ipoibarping") return onPath("ipoibarping", path) ? "ipoibarping" : undefined;
    return onPath("arping", path) ? "arping" : undefined;
  };
  const order: ArpSender[] = configured ? [configured] : ["send_arp", "iputils_arping"];
  for (const s of order) {
    const bin = have(s);
    if (bin) return { sender: s, bin };
  }
  return undefined;
}

export interface ArpOpts {
  sender: ArpSender;
  bin: string;
  nic: string;
  ip: string;
  count: number;
  intervalMs: number;
  /** ARP reply instead of request (-A) */
  reply: boolean;
}

/** argv for one announcement burst. */
export function arpArgv(o: ArpOpts): string[] {
  switch (o.sender) {
    case "send_arp":
      // send_arp sends a request and a reply per announcement, so -A needs no mapping
      return [o.bin, "-i", String(o.intervalMs), "-r", String(o.count), o.nic, o.ip, "auto", "not_used", "not_used"];
    case "iputils_arping": {
      // iputils arping takes whole seconds (1 by default): sub-second intervals round up to 1 s
      const secs = Math.max(1, Math.round(o.intervalMs / 1000));
      return [o.bin, o.reply ? "-A" : "-U", "-c", String(o.count), ...(secs > 1 ? ["-i", String(secs)] : []), "-I", o.nic, "--", o.ip];
    }
    case "libnet_arping":
      return [o.bin, "-U", "-c", String(o.count), "-i", o.nic, "-S", o.ip, o.ip];
    case "ipoibarping":
      return [o.bin, "-q", "-c", String(o.count), "-U", "-I", o.nic, o.ip];
  }
}

/** Run the burst in the foreground (bounded by the budget) or background (returns its pid). */
export function announce4(run: Runner, o: ArpOpts, background: boolean): { pid?: number; ok: boolean; detail: string } {
  const [cmd, ...args] = arpArgv(o);
  if (background) {
    const pid = run.background(cmd!, args);
    return { pid, ok: pid !== undefined, detail: pid ? `background pid ${pid}` : "could not start" };
  }
  const r = run.run(cmd!, args);
  // arping exits 1 when nobody answers, which is normal for gratuitous ARP
  const ok = r.code === 0 || (o.sender !== "send_arp" && r.code === 1);
  return { ok, detail: r.timedOut ? "timed out" : `rc=${r.code}` };
}

// ---- IPv6 unsolicited NA ------------------------------------------------------------------

const AF_INET6 = 10;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0x80000;
const IPPROTO_ICMPV6 = 58;
const IPPROTO_IPV6 = 41;
const IPV6_UNICAST_HOPS = 16;
const IPV6_MULTICAST_IF = 17;
const IPV6_MULTICAST_HOPS = 18;

function sockaddrIn6(addr: bigint, scope: number): Uint8Array {
  const b = new Uint8Array(28);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_INET6, true);
  for (let i = 0; i < 16; i++) b[8 + i] = Number((addr >> BigInt((15 - i) * 8)) & 0xffn);
  v.setUint32(24, scope, true);
  return b;
}

/** IPv4 duplicate address detection before adding an address (arping -D): true when another host answers for it. */
export function answersElsewhere(run: Runner, nic: string, ip: string): boolean {
  return run.run("arping", ["-q", "-c", "2", "-w", "3", "-D", "-I", nic, "--", ip], { timeoutMs: 5000 }).code === 1;
}

/** ICMPv6 type 136 with the Override flag and a target link-layer address option. */
export function naPacket(target: bigint, mac: string): Uint8Array {
  const p = new Uint8Array(32);
  p[0] = 136;
  p[4] = 0x20; // O (override); not R, not S
  for (let i = 0; i < 16; i++) p[8 + i] = Number((target >> BigInt((15 - i) * 8)) & 0xffn);
  p[24] = 2; // target link-layer address
  p[25] = 1; // length in units of 8 octets
  mac.split(":").forEach((h, i) => (p[26 + i] = parseInt(h, 16)));
  return p;
}

/**
 * Send `count` unsolicited NAs for `ip` to all-nodes (ff02::1) on interface `ifindex`, from the
 * address itself. The kernel fills in the checksum. Returns how many went out, or an error.
 */
export function sendUnsolicitedNA(o: { ip: bigint; linkLocal: boolean; ifindex: number; mac: string; count: number; intervalMs: number; budget: Budget }): { sent: number; error?: string } {
  const c = libc("socket", "setsockopt", "bind", "sendto", "close");
  if (!c) return { sent: 0, error: "raw sockets need the compiled agent (bun:ffi)" };
  const fd = Number(c.socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6));
  if (fd < 0) return { sent: 0, error: "cannot open a raw ICMPv6 socket" };
  try {
    const i32 = (n: number) => new Uint8Array(new Int32Array([n]).buffer);
    c.setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, c.ptr(i32(255)), 4);
    c.setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, c.ptr(i32(255)), 4);
    c.setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, c.ptr(i32(o.ifindex)), 4);
    if (Number(c.bind(fd, c.ptr(sockaddrIn6(o.ip, o.linkLocal ? o.ifindex : 0)), 28)) !== 0) {
      return { sent: 0, error: "cannot bind to the address (still tentative?)" };
    }
    const pkt = naPacket(o.ip, o.mac);
    const dst = sockaddrIn6(0xff020000000000000000000000000001n, o.ifindex);
    let sent = 0;
    for (let i = 0; i < o.count; i++) {
      if (i > 0) {
        if (o.budget.remainingMs() < o.intervalMs) break;
        sleepMs(o.intervalMs);
      }
      if (Number(c.sendto(fd, c.ptr(pkt), pkt.length, 0, c.ptr(dst), 28)) === pkt.length) sent++;
    }
    return { sent };
  } finally {
    c.close(fd);
  }
}

