// A virtual IP's life on a node, for IPaddr2: the ownership record, where the address is now, the
// route that picks nic and prefix when they are not given (upstream's findif), the announcements
// after a move (gratuitous ARP, IPv6 unsolicited NAs) and IPv6 duplicate address detection.
//
// Ownership: start writes a record in HA_RSCTMP *before* adding the address, and stop removes
// only what a record says the agent added; an address present without a record is foreign.

import { join } from "node:path";
import type { ActionTools } from "../ocf/runner.js";
import { OCF, OcfError, fail, type OcfCode } from "../ocf/codes.js";
import { readState, removeState, writeAtomic } from "../system/state-file.js";
import { identify, idText, parseId, signalSame } from "../system/proc.js";
import { sleepMs } from "../system/run.js";
import { announce4, chooseArpSender, sendUnsolicitedNA, type ArpSender } from "./announce.js";
import { isLinkLocal6, type ParsedIP } from "./address.js";
import { Ip, pickRoute } from "./iproute.js";
import { dumpAddrs, ifName, IFA_F, type IfAddr } from "./netlink.js";
import { ifIndex, linkType, macAddress } from "./interfaces.js";

/** What the agent added, written before `ip addr add` (so a SIGKILL cannot orphan an address). */
export interface Owned {
  ip: string;
  family: 4 | 6;
  prefix: number;
  nic: string;
  label?: string;
  instance: string;
}

const recordPath = (t: ActionTools, ip: string) => join(t.env.rscTmp, `tsstor-IPaddr2-${ip}`);
const arpPidPath = (t: ActionTools, ip: string) => join(t.env.rscTmp, `tsstor-IPaddr2-${ip}.arp`);

export function readOwned(t: ActionTools, ip: string): Owned | undefined {
  const s = readState(recordPath(t, ip));
  if (!s) return undefined;
  try {
    return JSON.parse(s) as Owned;
  } catch {
    return undefined;
  }
}

export const writeOwned = (t: ActionTools, o: Owned): void => writeAtomic(recordPath(t, o.ip), `${JSON.stringify(o)}\n`, 0o644);
export const removeOwned = (t: ActionTools, ip: string): void => removeState(recordPath(t, ip));

/** Where the address currently is on this node (any interface): netlink, else `ip addr show`. */
export function observe(t: ActionTools, ip: ParsedIP): IfAddr[] {
  const all = dumpAddrs(ip.family) ?? new Ip(t.run).addrShow(ip.family);
  return all.filter((a) => a.address === ip.text);
}

export function nameOf(index: number): string {
  return ifName(index) ?? `ifindex ${index}`;
}

/** An address found without a record: the configuration conflicts with the node's (exit 6). */
export function foreign(ip: ParsedIP, where: IfAddr[]): OcfError {
  const nics = [...new Set(where.map((a) => nameOf(a.ifindex)))].join(", ");
  return fail.configured(
    `${ip.text} is already configured on ${nics} but was not added by the cluster (no tsstor record): remove it from the node's static network configuration, then clean up the resource`,
  );
}

class DiscoveryError extends OcfError {}

export interface Wanted {
  ip: ParsedIP;
  nic?: string;
  prefix?: number;
  /** the `proto` parameter: only routes of this protocol count */
  proto?: string;
}

/** nic and prefix: as given, else from the connected route (findif). */
function discover(t: ActionTools, w: Wanted): { nic: string; prefix: number } {
  if (w.nic && w.prefix !== undefined) return { nic: w.nic, prefix: w.prefix };
  const ip = new Ip(t.run);
  let r = pickRoute(ip.routeMatch(w.ip.family, w.ip.text, { prefix: w.prefix, proto: w.proto }), w.nic);
  // 127.0.0.0/8 lives in the local table only (as upstream's getnetworkinfo)
  if (!r && w.ip.family === 4 && w.ip.text.startsWith("127.")) r = pickRoute(ip.routeMatch(4, w.ip.text, { prefix: w.prefix, table: "local" }), w.nic);
  if (!r?.dev) {
    throw new DiscoveryError(OCF.ERR_GENERIC, `cannot find a connected route to ${w.ip.text}${w.nic ? ` on ${w.nic}` : ""} to choose nic and netmask: set nic and cidr_netmask`);
  }
  return { nic: w.nic ?? r.dev, prefix: w.prefix ?? r.prefix };
}

/** nic and prefix, or the code a failed discovery maps to, as upstream: start 5, validate-all 6, probe 7, stop 0. */
export function resolve(t: ActionTools, w: Wanted): { nic: string; prefix: number } | number {
  try {
    return discover(t, w);
  } catch (e) {
    if (!(e instanceof DiscoveryError)) throw e;
    const code: OcfCode = t.action === "start" ? OCF.ERR_INSTALLED : t.action === "validate-all" ? OCF.ERR_CONFIGURED : t.probe ? OCF.NOT_RUNNING : t.action === "stop" ? OCF.SUCCESS : OCF.ERR_GENERIC;
    if (code === OCF.NOT_RUNNING || code === OCF.SUCCESS) {
      t.log.info(e.message);
      return code;
    }
    throw new OcfError(code, e.message);
  }
}

export interface Announce {
  /** arp_count (0: none) */
  count: number;
  /** ms between announcements */
  intervalMs: number;
  /** IPv4: keep sending in the background (arp_bg) */
  background: boolean;
  sender: ArpSender | "";
  /** send ARP replies instead of requests (send_arp_opts -A) */
  reply: boolean;
}

/** Stop a background ARP sender left by an earlier start (the same process only, never a reused pid). */
export function stopArpSender(t: ActionTools, ip: string): void {
  const f = arpPidPath(t, ip);
  const sender = parseId(readState(f) ?? "");
  if (sender && signalSame(sender, "SIGTERM")) t.log.info(`stopped the background ARP sender for ${ip}`);
  removeState(f);
}

export function sendArp(t: ActionTools, o: Owned, a: Announce): void {
  const chosen = chooseArpSender(a.sender, undefined);
  if (!chosen) throw fail.installed("no ARP sender found: install iputils-arping (or set arp_count=0)");
  const r = announce4(t.run, { ...chosen, nic: o.nic, ip: o.ip, count: a.count, intervalMs: a.intervalMs, reply: a.reply }, a.background);
  const sender = r.pid ? identify(r.pid) : undefined;
  if (sender) writeAtomic(arpPidPath(t, o.ip), idText(sender), 0o644);
  if (!r.ok) t.log.error(`could not send gratuitous ARPs for ${o.ip} on ${o.nic}: ${r.detail}`);
  else t.log.info(`gratuitous ARP for ${o.ip} on ${o.nic}: ${a.count} via ${chosen.sender} (${r.detail || "done"})`);
}

/** Tell the link the address is here now: gratuitous ARP (IPv4) or unsolicited NAs (IPv6). */
export function announce(t: ActionTools, ip: ParsedIP, o: Owned, a: Announce): void {
  if (a.count === 0 || o.nic === "lo" || linkType(o.nic) === 772) return;
  if (ip.family === 4) return sendArp(t, o, a);
  const mac = macAddress(o.nic);
  const ifindex = ifIndex(o.nic);
  if (!mac || ifindex === undefined) throw fail.generic(`cannot read the MAC address of ${o.nic}`);
  const r = sendUnsolicitedNA({ ip: ip.value, linkLocal: isLinkLocal6(ip), ifindex, mac, count: a.count, intervalMs: a.intervalMs, budget: t.budget });
  if (r.error || r.sent === 0) throw fail.generic(`cannot send unsolicited neighbour advertisements for ${ip.text}: ${r.error ?? "nothing sent"}`);
  t.log.info(`sent ${r.sent} unsolicited neighbour advertisement(s) for ${ip.text} on ${o.nic}`);
}

/** Wait out IPv6 duplicate address detection; a duplicate removes the address and fails start. */
export function waitDad(t: ActionTools, ip: ParsedIP, ifindex: number, o: Owned): void {
  const until = Math.min(t.budget.remainingMs(), 10000);
  const t0 = performance.now();
  for (;;) {
    const a = observe(t, ip).find((x) => x.ifindex === ifindex);
    if (!a) throw fail.generic(`${ip.text} disappeared from ${o.nic} during duplicate address detection`);
    if (a.flags & IFA_F.DADFAILED) {
      new Ip(t.run).addrDel(6, ip.text, o.prefix, o.nic);
      removeOwned(t, ip.text);
      throw fail.generic(`IPv6 address collision: ${ip.text} is already used on the ${o.nic} link (duplicate address detection failed); address removed`);
    }
    if (!(a.flags & IFA_F.TENTATIVE)) return;
    if (performance.now() - t0 >= until) {
      t.log.warn(`${ip.text} still tentative after ${Math.round(until)} ms of duplicate address detection`);
      return;
    }
    sleepMs(50);
  }
}
