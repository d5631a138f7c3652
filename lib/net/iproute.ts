// Typed adapter for iproute2's `ip`: route lookups for nic/netmask discovery, address and
// link changes. Values reach `ip` only after strict validation (addresses, prefixes, interface
// names), as argv elements, never through a shell.

import type { Family } from "./address.js";
import type { IfAddr } from "./netlink.js";
import { IFA_F } from "./netlink.js";
import { describeFailure, type Runner } from "../system/run.js";
import { OcfError, OCF } from "../ocf/codes.js";

export interface Route {
  type: string; // unicast, unreachable, blackhole, prohibit, local, ...
  dest: string; // "default" or an address
  prefix: number;
  dev?: string;
  proto?: string;
  scope?: string;
  metric: number;
}

const TYPES = new Set(["unicast", "unreachable", "blackhole", "prohibit", "local", "broadcast", "throw", "nat", "anycast", "multicast"]);

/** `ip -o route list` lines to routes. */
export function parseRoutes(out: string, family: Family): Route[] {
  const routes: Route[] = [];
  for (const line of out.split("\n")) {
    const w = line.trim().split(/\s+/).filter(Boolean);
    if (!w.length) continue;
    let type = "unicast";
    if (TYPES.has(w[0]!)) type = w.shift()!;
    const d = w.shift() ?? "";
    const [dest, pfx] = d.split("/");
    const r: Route = { type, dest: dest!, prefix: pfx !== undefined ? Number(pfx) : d === "default" ? 0 : family === 4 ? 32 : 128, metric: 0 };
    for (let i = 0; i < w.length - 1; i++) {
      const k = w[i]!;
      const v = w[i + 1]!;
      if (k === "dev") r.dev = v;
      else if (k === "proto") r.proto = v;
      else if (k === "scope") r.scope = v;
      else if (k === "metric") r.metric = Number(v);
    }
    routes.push(r);
  }
  return routes;
}

/**
 * The route discovery picks (findif): connected routes only (no default, unreachable,
 * prohibit, blackhole), on `nic` when given; the most specific prefix wins, then the lowest metric.
 */
export function pickRoute(routes: Route[], nic?: string): Route | undefined {
  const usable = routes.filter(
    (r) => r.dest !== "default" && !["unreachable", "prohibit", "blackhole", "throw"].includes(r.type) && r.dev && (!nic || r.dev === nic),
  );
  usable.sort((a, b) => b.prefix - a.prefix || a.metric - b.metric);
  return usable[0];
}

const fam = (f: Family) => (f === 4 ? "inet" : "inet6");

export class Ip {
  constructor(private readonly run: Runner) {}

  routeMatch(family: Family, ip: string, o: { prefix?: number; proto?: string; table?: "local" } = {}): Route[] {
    const args = ["-o", "-f", fam(family), "route", "list", "match", o.prefix ? `${ip}/${o.prefix}` : ip];
    if (o.proto) args.push("proto", o.proto);
    if (o.table) args.push("table", o.table, "scope", "host");
    else if (family === 4) args.push("scope", "link");
    const r = this.run.run("ip", args);
    if (r.code !== 0) throw new OcfError(OCF.ERR_GENERIC, describeFailure(r));
    return parseRoutes(r.stdout, family);
  }

  addrAdd(a: {
    family: Family;
    ip: string;
    prefix: number;
    nic: string;
    broadcast?: string;
    label?: string;
    nodad?: boolean;
    noprefixroute?: boolean;
    preferredLft?: string;
  }): void {
    const args = ["-f", fam(a.family), "addr", "add", `${a.ip}/${a.prefix}`];
    if (a.broadcast) args.push("brd", a.broadcast);
    args.push("dev", a.nic);
    if (a.family === 6 && a.nodad) args.push("nodad");
    if (a.noprefixroute) args.push("noprefixroute");
    if (a.label) args.push("label", a.label);
    if (a.family === 6 && a.preferredLft) args.push("preferred_lft", a.preferredLft);
    const r = this.run.run("ip", args);
    if (r.code !== 0) throw new OcfError(OCF.ERR_GENERIC, `cannot add ${a.ip}/${a.prefix} to ${a.nic}: ${describeFailure(r)}`);
  }

  /** Returns false when the address was already gone. */
  addrDel(family: Family, ip: string, prefix: number, nic: string): boolean {
    const r = this.run.run("ip", ["-f", fam(family), "addr", "del", `${ip}/${prefix}`, "dev", nic]);
    if (r.code === 0) return true;
    if (/Cannot assign requested address|Cannot find device|No such device/.test(r.stderr)) return false;
    throw new OcfError(OCF.ERR_GENERIC, `cannot remove ${ip}/${prefix} from ${nic}: ${describeFailure(r)}`);
  }

  linkUp(nic: string): void {
    const r = this.run.run("ip", ["link", "set", "dev", nic, "up"]);
    if (r.code !== 0) throw new OcfError(OCF.ERR_GENERIC, `cannot bring ${nic} up: ${describeFailure(r)}`);
  }

  routeFlushCache(family: Family): void {
    this.run.run("ip", ["-f", fam(family), "route", "flush", "cache"]);
  }

  addrlabel(op: "add" | "del", ip: string, label: number): void {
    this.run.run("ip", ["addrlabel", op, "prefix", `${ip}/128`, "label", String(label)]);
  }

  /** Fallback when netlink is unavailable: `ip -j addr show` into the same model. */
  addrShow(family: Family): IfAddr[] {
    const r = this.run.run("ip", ["-j", "-f", fam(family), "addr", "show"]);
    if (r.code !== 0) throw new OcfError(OCF.ERR_GENERIC, describeFailure(r));
    const out: IfAddr[] = [];
    for (const link of JSON.parse(r.stdout || "[]") as Array<{ ifindex: number; addr_info?: Array<Record<string, unknown>> }>) {
      for (const ai of link.addr_info ?? []) {
        let flags = 0;
        if (ai.tentative) flags |= IFA_F.TENTATIVE;
        if (ai.dadfailed) flags |= IFA_F.DADFAILED;
        if (ai.secondary) flags |= IFA_F.SECONDARY;
        if (ai.nodad) flags |= IFA_F.NODAD;
        if (ai.noprefixroute) flags |= IFA_F.NOPREFIXROUTE;
        out.push({
          family,
          ifindex: link.ifindex,
          prefix: Number(ai.prefixlen),
          address: String(ai.local),
          label: typeof ai.label === "string" ? ai.label : undefined,
          flags,
          scope: 0,
        });
      }
    }
    return out;
  }
}
