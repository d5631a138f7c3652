// ocf:tsstor:IPaddr2 — the cluster's virtual IP, a drop-in for ocf:heartbeat:IPaddr2.
//
// Ownership: start writes a record in HA_RSCTMP *before* adding the address, and stop removes
// only what a record says this agent added. An address present without a record is foreign
// (static configuration, another tool): start, probe and monitor refuse it with exit 6 (the
// configuration conflicts with the node's, so the cluster must not serve it anywhere), and stop
// leaves it alone and succeeds. So one address is never served from two nodes by the cluster,
// and a failover never removes a static address.
//
// monitor reads the kernel's address table over netlink and link state from /sys: no fork.
// The procedures (record, discovery, announcements, DAD) are lib/net/vip.ts.

import { readFileSync } from "node:fs";
import { defineHandlers, type Ctx } from "../lib/ocf/runner.js";
import { defineAgent, p, plainActions } from "../lib/ocf/declaration.js";
import { ocfIsFalse, ocfIsTrue } from "../lib/ocf/env.js";
import { OCF, fail } from "../lib/ocf/codes.js";
import { answersElsewhere, chooseArpSender, type ArpSender } from "../lib/net/announce.js";
import { Ip } from "../lib/net/iproute.js";
import { addOffset, isLinkLocal6, parseIP, parsePrefix, type ParsedIP } from "../lib/net/address.js";
import { IFA_F } from "../lib/net/netlink.js";
import { ifIndex, linkDown, nicExists, validIfName } from "../lib/net/interfaces.js";
import { announce, foreign, nameOf, observe, readOwned, removeOwned, resolve, sendArp, stopArpSender, waitDad, writeOwned, type Announce, type Owned, type Wanted } from "../lib/net/vip.js";
import { forgetPublished, publishClients, tickleClients } from "../lib/net/takeover.js";

const LABEL_RE = /^[A-Za-z0-9_.-]+$/;

/** tickle_ports as numbers ([] when empty), undefined when malformed. */
function tickleList(v: string): number[] | undefined {
  const parts = v.split(",").map((x) => x.trim()).filter(Boolean);
  const ports = parts.map((x) => (/^\d{1,5}$/.test(x) ? Number(x) : NaN));
  return ports.every((n) => n >= 1 && n <= 65535) ? ports : undefined;
}

export const decl = defineAgent({
  name: "IPaddr2",
  version: "0.1.0",
  shortdesc: "Manages virtual IPv4 and IPv6 addresses (Linux specific version)",
  longdesc: `Adds a virtual IPv4 or IPv6 address to an interface and announces it (gratuitous ARP,
unsolicited neighbour advertisements). Parameters are those of ocf:heartbeat:IPaddr2.
Unlike it, this agent only ever removes an address it added itself (recorded in HA_RSCTMP): an
address configured outside the cluster is reported (exit 6) and never adopted or deleted.`,
  params: {
    ip: p.string({
      shortdesc: "IPv4 or IPv6 address",
      longdesc: "The IPv4 (dotted quad) or IPv6 (colon hexadecimal) address to manage, for example 192.168.1.1 or 2001:db8::1.",
      required: true,
      uniqueGroup: "ip",
    }),
    nic: p.string({
      shortdesc: "Network interface",
      longdesc: `The interface to add the address to (also "nic:label"). Default: the interface of the
connected route to the address with the most specific prefix (then the lowest metric).
Required for IPv6 link-local addresses.`,
    }),
    cidr_netmask: p.string({
      shortdesc: "CIDR netmask",
      longdesc: "The prefix length (24) or, for IPv4, a dotted quad mask (255.255.255.0). Default: the prefix of the route found for nic.",
    }),
    netmask: p.string({
      shortdesc: "Netmask (old name of cidr_netmask)",
      longdesc: "Accepted for configurations written for very old IPaddr2 versions.",
      deprecated: { replacedWith: ["cidr_netmask"], desc: "Use cidr_netmask." },
    }),
    broadcast: p.string({
      shortdesc: "Broadcast address",
      longdesc: 'IPv4 broadcast address, or "+" (all host bits set) or "-" (none). Default: the kernel\'s choice.',
    }),
    iflabel: p.string({
      shortdesc: "Interface label",
      longdesc: 'IPv4 label: the address is added with label "nic:iflabel" (at most 15 characters in all).',
    }),
    lvs_support: p.boolean({ shortdesc: "Enable support for LVS DR", longdesc: "Not supported by this agent (exit 6 when true).", default: false }),
    lvs_ipv6_addrlabel: p.boolean({ shortdesc: "Enable adding IPv6 address label.", longdesc: "Add an IPv6 address label (ip addrlabel) for the address, so LVS DR replies use it as source.", default: false }),
    lvs_ipv6_addrlabel_value: p.integer({ shortdesc: "IPv6 address label value.", longdesc: "The label value for lvs_ipv6_addrlabel.", default: 99, min: 0 }),
    mac: p.string({ shortdesc: "Cluster IP MAC address", longdesc: "Only used by load-sharing (CLUSTERIP) clones, which this agent does not support; checked for syntax only." }),
    clusterip_hash: p.select(["sourceip", "sourceip-sourceport", "sourceip-sourceport-destport"] as const, {
      shortdesc: "Cluster IP hashing function",
      longdesc: "Only used by load-sharing (CLUSTERIP) clones, which this agent does not support.",
      default: "sourceip-sourceport",
    }),
    unique_clone_address: p.boolean({
      shortdesc: "Create a unique address for cloned instances",
      longdesc: "In a globally unique clone, instance N manages ip + N (IPv4: last octet; IPv6: the whole address).",
      default: false,
    }),
    arp_interval: p.integer({ shortdesc: "ARP/NA packet interval in ms", longdesc: "Milliseconds between announcements.", default: 200, min: 1, reloadable: true }),
    arp_count: p.integer({ shortdesc: "ARP/NA packet count sent during initialization", longdesc: "Announcements sent at start; 0 sends none.", default: 5, min: 0, reloadable: true }),
    arp_count_refresh: p.integer({ shortdesc: "ARP packet count sent during monitoring", longdesc: "IPv4 gratuitous ARPs sent (in the background) at every recurring monitor; 0 sends none.", default: 0, min: 0, reloadable: true }),
    arp_bg: p.string({
      shortdesc: "ARP/NA from background",
      longdesc: "Send the IPv4 announcements in the background (default true for IPv4). IPv6 advertisements are always sent before start returns.",
      reloadable: true,
      validate: (v) => (ocfIsTrue(v) || ocfIsFalse(v) ? undefined : `must be a boolean, got ${JSON.stringify(v)}`),
    }),
    arp_sender: p.select(["send_arp", "iputils_arping", "libnet_arping", "ipoibarping"] as const, {
      shortdesc: "ARP sender",
      longdesc: "The IPv4 announcement program. Default: iputils arping, else resource-agents' send_arp.",
      reloadable: true,
    }),
    send_arp_opts: p.string({
      shortdesc: "Options for ARP sender",
      longdesc: 'Extra options: "-A" (ARP reply mode instead of request), "-U" (unsolicited request, the default). Nothing else is accepted.',
      reloadable: true,
      validate: (v) => {
        const bad = v.split(/\s+/).filter((x) => x && !["-A", "-U"].includes(x));
        return bad.length ? `supports only -A and -U, got ${JSON.stringify(bad[0])}` : undefined;
      },
    }),
    flush_routes: p.boolean({ shortdesc: "Flush kernel routing table on stop", longdesc: "Flush the routing cache after removing the address.", default: false, reloadable: true }),
    run_arping: p.boolean({ shortdesc: "Run arping for IPv4 collision detection check", longdesc: "Before adding an IPv4 address, check with arping -D that no other host uses it.", default: false, reloadable: true }),
    nodad: p.boolean({ shortdesc: "Use nodad flag", longdesc: "Add IPv6 addresses without duplicate address detection.", default: false }),
    noprefixroute: p.boolean({ shortdesc: "Use noprefixroute flag", longdesc: "Do not create the prefix route for the address.", default: false }),
    preferred_lft: p.string({
      shortdesc: "IPv6 preferred lifetime",
      longdesc: 'IPv6 preferred lifetime in seconds, or "forever". 0 makes the address deprecated (not used as a source).',
      default: "forever",
      validate: (v) => (/^(forever|\d{1,10})$/.test(v) ? undefined : `must be "forever" or seconds, got ${JSON.stringify(v)}`),
    }),
    network_namespace: p.string({
      shortdesc: "Network namespace to use",
      longdesc: "Manage the address inside this network namespace (/run/netns/NAME), as ip netns exec does.",
      validate: (v) => (/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(v) ? undefined : `is not a valid namespace name: ${JSON.stringify(v)}`),
    }),
    check_link_status: p.boolean({ shortdesc: "Consider the resource failed when the link is down", longdesc: "monitor returns 7 (not running) when the interface's link is down.", default: true, reloadable: true }),
    tickle_ports: p.string({
      shortdesc: "Reset the clients' connections on takeover (TCP ports)",
      longdesc: `tsstor extension (empty: off, as in ocf:heartbeat:IPaddr2). Comma-separated TCP ports of the
service behind this address, e.g. 3260 for an iSCSI portal. While the address is served, its
clients' connections on these ports are published to every node (pacemaker-attrd private
attributes: never written to the CIB); the node that takes the address over sends each of them a
tickle ACK, so the clients reconnect at once instead of at their next TCP retransmission, which
comes seconds after a failover.`,
      reloadable: true,
      validate: (v) => (tickleList(v) ? undefined : `must be TCP ports separated by commas (1-65535), got ${JSON.stringify(v)}`),
    }),
    proto: p.string({
      shortdesc: "Route protocol for interface discovery",
      longdesc: 'Only consider routes of this protocol (e.g. "kernel") when discovering nic and netmask.',
      validate: (v) => (/^([a-z][a-z0-9_.-]{0,31}|\d{1,3})$/.test(v) ? undefined : `is not a route protocol: ${JSON.stringify(v)}`),
    }),
  },
  actions: plainActions({ start: 20, stop: 20, monitor: { timeout: 20, interval: 10 }, reloadAgent: 20, validate: 20, metaData: 5 }),
  examples: [
    "pcs resource create vip ocf:tsstor:IPaddr2 ip=192.168.122.10 cidr_netmask=24 op monitor interval=10s",
    "pcs resource create vip6 ocf:tsstor:IPaddr2 ip=2001:db8::10 cidr_netmask=64 nic=eth0",
  ],
});

type C = Ctx<typeof decl.params>;

/** The configured address (clone offset applied) plus nic/label/prefix as given. */
interface Target {
  ip: ParsedIP;
  nic?: string;
  label?: string;
  prefix?: number;
}

function target(ctx: C): Target {
  const p = ctx.params;
  let ip = parseIP(p.ip.trim());
  if (!ip) throw fail.configured(`parameter ip is not a valid IPv4 or IPv6 address: ${JSON.stringify(p.ip)}`);
  if (p.unique_clone_address && ctx.env.meta.clone !== undefined) {
    const moved = addOffset(ip, ctx.env.meta.clone);
    if (!moved) throw fail.configured(`unique_clone_address: ${ip.text} + clone ${ctx.env.meta.clone} leaves the address range`);
    ip = moved;
  }
  let nic: string | undefined = p.nic || undefined;
  let label: string | undefined;
  if (nic?.includes(":")) {
    [nic, label] = [nic.slice(0, nic.indexOf(":")), nic.slice(nic.indexOf(":") + 1)];
  }
  if (p.iflabel) label = p.iflabel;
  const mask = p.cidr_netmask || p.netmask;
  const prefix = mask ? parsePrefix(mask, ip.family) : undefined;
  return { ip, nic, label, prefix };
}

// Level-0 checks: parameters only, nothing read from the system.
function checkParams(ctx: C): Target {
  const p = ctx.params;
  const t = target(ctx);
  const mask = p.cidr_netmask || p.netmask;
  if (mask && t.prefix === undefined) throw fail.configured(`parameter cidr_netmask is not a valid ${t.ip.family === 4 ? "IPv4 netmask" : "IPv6 prefix length"}: ${JSON.stringify(mask)}`);
  if (t.nic !== undefined && !validIfName(t.nic)) throw fail.configured(`parameter nic is not a valid interface name: ${JSON.stringify(p.nic)}`);
  if (t.label !== undefined) {
    if (t.ip.family === 6) throw fail.configured("parameter iflabel applies to IPv4 addresses only");
    if (!LABEL_RE.test(t.label)) throw fail.configured(`parameter iflabel may hold only letters, digits, '_', '.', '-': ${JSON.stringify(t.label)}`);
    if (t.nic && `${t.nic}:${t.label}`.length > 15) throw fail.configured(`parameter iflabel: interface label ${t.nic}:${t.label} exceeds 15 characters`);
  }
  if (p.broadcast && t.ip.family === 4 && p.broadcast !== "+" && p.broadcast !== "-" && parseIP(p.broadcast)?.family !== 4) {
    throw fail.configured(`parameter broadcast must be an IPv4 address, "+" or "-": ${JSON.stringify(p.broadcast)}`);
  }
  if (isLinkLocal6(t.ip) && !t.nic) throw fail.configured(`parameter nic is required for the link-local address ${t.ip.text}`);
  if (p.lvs_support) throw fail.configured("parameter lvs_support is not supported by ocf:tsstor:IPaddr2 (it deletes and re-adds loopback addresses it does not own)");
  if (p.lvs_ipv6_addrlabel && t.ip.family === 4) throw fail.configured("parameter lvs_ipv6_addrlabel applies to IPv6 addresses only");
  if (p.mac && !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(p.mac)) throw fail.configured(`parameter mac is not a MAC address: ${JSON.stringify(p.mac)}`);
  const m = ctx.env.meta;
  // Clone meta is absent at crm_resource --validate, present at start/monitor in a clone.
  if (m.isClone && (m.cloneMax ?? 1) > 1 && !p.unique_clone_address) {
    throw fail.configured("load-sharing clones (iptables CLUSTERIP) are not supported: use unique_clone_address=true with globally-unique=true, or no clone");
  }
  if (p.unique_clone_address && m.isClone && !m.globallyUnique) throw fail.configured("unique_clone_address makes sense only with meta globally-unique=true");
  return t;
}

/** The address and what is given of nic and prefix, for route discovery. */
const wanted = (ctx: C, t: Target): Wanted => ({ ip: t.ip, nic: t.nic, prefix: t.prefix, proto: ctx.params.proto || undefined });

/** How to announce the address: the arp_* parameters. */
function announcing(ctx: C, family: 4 | 6, count: number): Announce {
  const p = ctx.params;
  return {
    count,
    intervalMs: p.arp_interval,
    background: p.arp_bg === "" ? family === 4 : ocfIsTrue(p.arp_bg),
    sender: p.arp_sender as ArpSender | "",
    reply: p.send_arp_opts.split(/\s+/).includes("-A"),
  };
}

/** When network_namespace is set, run the whole action inside it (as upstream does). */
function inNamespace(ctx: C): number | undefined {
  const ns = ctx.params.network_namespace;
  if (!ns) return undefined;
  return ctx.reexec(["ip", "netns", "exec", ns], { OCF_RESKEY_network_namespace: "" });
}

export const agent = defineHandlers(decl, {
  validate(ctx) {
    const t = checkParams(ctx);
    if (ctx.level < 10) return;
    if (ctx.params.network_namespace) {
      try {
        readFileSync(`/run/netns/${ctx.params.network_namespace}`);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") throw fail.installed(`network namespace ${ctx.params.network_namespace} does not exist`);
      }
      return; // the rest is checked inside the namespace at start
    }
    if (t.nic && !nicExists(t.nic)) throw fail.configured(`interface ${t.nic} does not exist`);
    const r = resolve(ctx, wanted(ctx, t));
    if (typeof r === "number") return r;
    if (t.label && `${r.nic}:${t.label}`.length > 15) throw fail.configured(`interface label ${r.nic}:${t.label} exceeds 15 characters`);
    if (t.ip.family === 4 && ctx.params.arp_count > 0 && !chooseArpSender(ctx.params.arp_sender as ArpSender | "", undefined)) {
      throw fail.installed("no ARP sender found: install iputils-arping (or set arp_count=0)");
    }
  },

  start(ctx) {
    const ns = inNamespace(ctx);
    if (ns !== undefined) return ns;
    const p = ctx.params;
    const t = target(ctx);
    if (t.nic !== undefined && !nicExists(t.nic)) throw fail.configured(`interface ${t.nic} does not exist`);
    const r = resolve(ctx, wanted(ctx, t));
    if (typeof r === "number") return r;
    if (!nicExists(r.nic)) throw fail.installed(`interface ${r.nic} does not exist`);
    const label = t.label ? `${r.nic}:${t.label}` : undefined;
    if (label && label.length > 15) throw fail.configured(`interface label ${label} exceeds 15 characters`);
    const ip = new Ip(ctx.run);

    const owned = readOwned(ctx, t.ip.text);
    const here = observe(ctx, t.ip);
    if (here.length && !owned) throw foreign(t.ip, here);
    const want: Owned = { ip: t.ip.text, family: t.ip.family, prefix: r.prefix, nic: r.nic, label, instance: ctx.env.instance };
    const idx = ifIndex(r.nic);
    const exact = here.find((a) => a.ifindex === idx && a.prefix === r.prefix && (!label || a.label === label));
    if (owned && exact && owned.nic === r.nic) {
      ctx.log.info(`${t.ip.text}/${r.prefix} is already on ${r.nic}`);
      return OCF.SUCCESS;
    }
    if (owned && here.length) {
      // ours but not as configured now (other nic/prefix/label): take it back first
      ip.addrDel(owned.family, owned.ip, owned.prefix, owned.nic);
    }

    if (t.ip.family === 4 && p.run_arping) {
      if (answersElsewhere(ctx.run, r.nic, t.ip.text)) throw fail.generic(`IPv4 address collision: ${t.ip.text} answers on ${r.nic} (arping -D)`);
    }

    writeOwned(ctx, want);
    if (p.lvs_ipv6_addrlabel) ip.addrlabel("add", t.ip.text, p.lvs_ipv6_addrlabel_value);
    // IPv4 without a broadcast parameter: the directed broadcast of the prefix, as upstream's
    // findif derives it (no broadcast on /31 and /32)
    let brd: string | undefined;
    if (t.ip.family === 4) brd = p.broadcast || (r.prefix <= 30 ? "+" : undefined);
    ip.addrAdd({
      family: t.ip.family,
      ip: t.ip.text,
      prefix: r.prefix,
      nic: r.nic,
      broadcast: brd,
      label,
      nodad: p.nodad,
      noprefixroute: p.noprefixroute,
      preferredLft: p.preferred_lft,
    });
    ip.linkUp(r.nic);

    // Confirm: the address is where we put it.
    const now = observe(ctx, t.ip).find((a) => a.ifindex === idx);
    if (!now) throw fail.generic(`${t.ip.text} is not on ${r.nic} after adding it`);
    if (t.ip.family === 6 && !p.nodad && idx !== undefined) waitDad(ctx, t.ip, idx, want);
    announce(ctx, t.ip, want, announcing(ctx, t.ip.family, p.arp_count));
    const ports = tickleList(p.tickle_ports) ?? [];
    if (ports.length) {
      // after the first announcement: the clients' answers must come here, not to the old node
      forgetPublished(ctx, ctx.env.instance);
      tickleClients(ctx, ctx.env.instance, t.ip.text, ports);
    }
    ctx.log.info(`${t.ip.text}/${r.prefix} added to ${r.nic}${label ? ` as ${label}` : ""}`);
    return OCF.SUCCESS;
  },

  stop(ctx) {
    const ns = inNamespace(ctx);
    if (ns !== undefined) return ns;
    const t = target(ctx);
    stopArpSender(ctx, t.ip.text);
    const owned = readOwned(ctx, t.ip.text);
    if (!owned) {
      const here = observe(ctx, t.ip);
      if (here.length) ctx.log.warn(`${t.ip.text} is configured on ${here.map((a) => nameOf(a.ifindex)).join(", ")} but was not added by the cluster: left alone`);
      return OCF.SUCCESS;
    }
    const ip = new Ip(ctx.run);
    const ports = tickleList(ctx.params.tickle_ports) ?? [];
    if (ports.length) {
      // the freshest list, for the node that takes over (a planned move)
      publishClients(ctx, ctx.env.instance, owned.ip, ports, true);
      forgetPublished(ctx, ctx.env.instance);
    }
    if (observe(ctx, t.ip).length) ip.addrDel(owned.family, owned.ip, owned.prefix, owned.nic);
    if (ctx.params.lvs_ipv6_addrlabel && owned.family === 6) ip.addrlabel("del", owned.ip, ctx.params.lvs_ipv6_addrlabel_value);
    if (ctx.params.flush_routes) ip.routeFlushCache(owned.family);
    const idx = ifIndex(owned.nic);
    if (observe(ctx, t.ip).some((a) => a.ifindex === idx)) throw fail.generic(`${owned.ip} is still on ${owned.nic} after removing it`);
    removeOwned(ctx, t.ip.text);
    ctx.log.info(`${owned.ip}/${owned.prefix} removed from ${owned.nic}`);
    return OCF.SUCCESS;
  },

  monitor(ctx) {
    const ns = inNamespace(ctx);
    if (ns !== undefined) return ns;
    const t = target(ctx);
    const here = observe(ctx, t.ip);
    const owned = readOwned(ctx, t.ip.text);
    const nic = owned?.nic ?? t.nic;
    // as upstream since 3.9.6: a vanished interface is a failure, not "not running"
    if (!ctx.probe && nic && !nicExists(nic)) throw fail.generic(`interface ${nic} does not exist`);
    if (!here.length) {
      if (owned && !ctx.probe) throw fail.notRunning(`${t.ip.text} is no longer on ${owned.nic}`);
      return OCF.NOT_RUNNING;
    }
    if (!owned) throw foreign(t.ip, here);
    const idx = ifIndex(owned.nic);
    const mine = here.find((a) => a.ifindex === idx);
    if (!mine) throw fail.generic(`${owned.ip} is on ${here.map((a) => nameOf(a.ifindex)).join(", ")} instead of ${owned.nic}`);
    if (owned.label && mine.label !== owned.label) throw fail.generic(`${owned.ip} on ${owned.nic} lacks its label ${owned.label}`);
    if (mine.prefix !== owned.prefix) throw fail.generic(`${owned.ip} on ${owned.nic} has prefix /${mine.prefix}, not /${owned.prefix}`);
    if (mine.flags & IFA_F.DADFAILED) throw fail.generic(`${owned.ip} on ${owned.nic} failed duplicate address detection`);
    if (ctx.params.check_link_status && linkDown(owned.nic)) throw fail.notRunning(`the link of ${owned.nic} is down`);
    if (owned.family === 4 && ctx.params.arp_count_refresh > 0 && !ctx.probe) sendArp(ctx, owned, { ...announcing(ctx, 4, ctx.params.arp_count_refresh), background: true });
    const ports = tickleList(ctx.params.tickle_ports) ?? [];
    if (ports.length && !ctx.probe) publishClients(ctx, ctx.env.instance, owned.ip, ports);
    return OCF.SUCCESS;
  },

  // Only announcement and monitoring parameters are reloadable: they apply from the next action.
  "reload-agent"(ctx) {
    ctx.log.info("announcement and monitoring parameters reloaded");
    return OCF.SUCCESS;
  },
});
