// iSCSI names, portals, initiator lists and CHAP credentials: the syntax both iSCSI agents share,
// checked before anything reaches targetcli, configfs or tgtadm. Pure functions (unit-tested).

import { createRequire } from "node:module";

/** The implementations tsstor drives; the others are accepted names that validate rejects. */
export const IMPLEMENTATIONS = ["lio-t", "tgt", "lio", "iet", "scst"] as const;
export type Implementation = (typeof IMPLEMENTATIONS)[number];
export const SUPPORTED: readonly Implementation[] = ["lio-t", "tgt"];

// RFC 3720 3.2.6.3: iqn.YYYY-MM.reversed.domain[:anything], eui.16 hex, naa.16 or 32 hex.
// No '_' (LIO refuses it) and no white space; at most 223 bytes.
const IQN_RE = /^iqn\.\d{4}-(0[1-9]|1[0-2])\.[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[a-z0-9.:-]*)?$/i;
const EUI_RE = /^eui\.[0-9a-f]{16}$/i;
const NAA_RE = /^naa\.([0-9a-f]{16}|[0-9a-f]{32})$/i;

/** An error message for a bad iSCSI name (target or initiator), or undefined. */
export function iscsiNameError(v: string): string | undefined {
  if (v.length > 223) return "must be at most 223 characters";
  if (IQN_RE.test(v) || EUI_RE.test(v) || NAA_RE.test(v)) return undefined;
  return `must be an iSCSI name (iqn.YYYY-MM.reversed.domain[:id], eui.<16 hex> or naa.<16|32 hex>), got ${JSON.stringify(v.slice(0, 80))}`;
}

/** LIO stores names in lower case (rtslib normalises them); tgt keeps them as given. */
export function lioName(v: string): string {
  return v.toLowerCase();
}

export interface Portal {
  /** IPv4 dotted quad, or IPv6 in brackets: the spelling LIO uses in np/ directory names */
  ip: string;
  port: number;
}

export const portalKey = (p: Portal): string => `${p.ip}:${p.port}`;
/** The address as targetcli's `portals create` wants it (no brackets). */
export const bareIp = (p: Portal): string => p.ip.replace(/^\[|\]$/g, "");

/** The reason two of a lio-t target's own portals can never both exist, if they clash. */
export function ownPortalsClash(portals: Portal[]): string | undefined {
  for (const [i, a] of portals.entries()) {
    for (const b of portals.slice(i + 1)) {
      if (portalsClash(portalKey(a), portalKey(b))) return `portals ${portalKey(a)} and ${portalKey(b)} cannot both exist: ${CLASH_WHY}`;
    }
  }
  return undefined;
}

export const CLASH_WHY = "the kernel cannot listen on a wildcard address (0.0.0.0, or [::] for both families) and another address it covers on the same port";

/** The portal a portalKey or LIO np directory name spells, the address as spelled there. */
export function portalOfKey(k: string): Portal {
  const i = k.lastIndexOf(":");
  return { ip: k.slice(0, i), port: Number(k.slice(i + 1)) };
}

/** The address as a value: one IPv6 address has many spellings ([0::1] and [::1]). */
const address = (p: Portal): string => (p.ip.startsWith("[") ? (canonicalIpv6(bareIp(p)) ?? p.ip) : p.ip);

/** Two portal keys (np directory names) for one socket address. */
export function samePortal(a: string, b: string): boolean {
  const x = portalOfKey(a);
  const y = portalOfKey(b);
  return x.port === y.port && address(x) === address(y);
}

/**
 * Whether the kernel cannot listen on both portals (LIO np directory names, "a.b.c.d:port" or
 * "[v6]:port"): the same port, different addresses, and one of them a wildcard covering the
 * other (0.0.0.0 covers IPv4; [::] both families: LIO does not set IPV6_V6ONLY, and Linux's
 * default net.ipv6.bindv6only=0 makes it dual-stack). Binding the second fails with EADDRINUSE
 * and targetcli says "Could not create NetworkPortal in configFS". The same ip:port (compared as
 * an address, not a spelling) is shared by targets, so it does not clash.
 */
export function portalsClash(a: string, b: string): boolean {
  const x = portalOfKey(a);
  const y = portalOfKey(b);
  if (x.port !== y.port) return false;
  const ax = address(x);
  const ay = address(y);
  if (ax === ay) return false;
  const v4 = (ip: string) => !ip.startsWith("[");
  return ax === "[::]" || ay === "[::]" || (v4(ax) && v4(ay) && (ax === "0.0.0.0" || ay === "0.0.0.0"));
}

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Canonical IPv6 spelling in brackets (lower case, zeros compressed), or undefined if not IPv6. */
export function canonicalIpv6(a: string): string | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(a) || !a.includes(":")) return undefined;
  try {
    return new URL(`http://[${a}]/`).hostname; // "[fd31::1]"
  } catch {
    return undefined;
  }
}

/** One portal: `IPv4[:port]` or `[IPv6][:port]` (port defaults to 3260). */
export function parsePortal(s: string): Portal | string {
  let host: string;
  let portS: string | undefined;
  if (s.startsWith("[")) {
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
    if (!m) return `${JSON.stringify(s)} is not [IPv6]:port`;
    host = m[1]!;
    portS = m[2];
    const c = canonicalIpv6(host);
    if (!c) return `${JSON.stringify(host)} is not an IPv6 address`;
    host = c;
  } else {
    const m = /^([^:]+)(?::(\d+))?$/.exec(s);
    if (!m) return `${JSON.stringify(s)}: write IPv6 portals as [address]:port`;
    host = m[1]!;
    portS = m[2];
    if (!IPV4_RE.test(host)) return `${JSON.stringify(host)} is not an IPv4 address`;
  }
  const port = portS === undefined ? 3260 : Number(portS);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `port in ${JSON.stringify(s)} must be 1-65535`;
  return { ip: host, port };
}

export function parsePortals(v: string): Portal[] | string {
  const out: Portal[] = [];
  for (const w of v.split(/\s+/).filter(Boolean)) {
    const p = parsePortal(w);
    if (typeof p === "string") return p;
    if (!out.some((q) => portalKey(q) === portalKey(p))) out.push(p);
  }
  return out;
}

export const portalsError = (v: string): string | undefined => {
  const r = parsePortals(v);
  return typeof r === "string" ? r : undefined;
};

/** iser_portals: addresses (any port) or address:port of entries in `portals`. */
export function iserMatches(iser: string, p: Portal): boolean {
  const q = parsePortal(iser);
  if (typeof q === "string") {
    // a bare IPv6 address without brackets
    const c = canonicalIpv6(iser);
    return c !== undefined && c === p.ip;
  }
  return q.ip === p.ip && (iser.includes("]:") || (!iser.startsWith("[") && iser.includes(":")) ? q.port === p.port : true);
}

export function iserPortalsError(v: string): string | undefined {
  for (const w of v.split(/\s+/).filter(Boolean)) {
    if (typeof parsePortal(w) === "string" && canonicalIpv6(w) === undefined) return `${JSON.stringify(w)} is not an address or address:port`;
  }
  return undefined;
}

export const splitWords = (v: string): string[] => [...new Set(v.split(/\s+/).filter(Boolean))];

/** tgt binds initiators by address (IP, CIDR or ALL) or by name. */
export function tgtInitiatorKind(v: string): "name" | "address" | undefined {
  if (iscsiNameError(v) === undefined) return "name";
  if (v === "ALL") return "address";
  const [a, bits, ...rest] = v.split("/");
  if (rest.length) return undefined;
  const ok4 = IPV4_RE.test(a!) && (bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= 32));
  const ok6 = canonicalIpv6(a!.replace(/^\[|\]$/g, "")) !== undefined && (bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= 128));
  return ok4 || ok6 ? "address" : undefined;
}

/** allowed_initiators: iSCSI names (all implementations) or, for tgt, addresses. */
export function initiatorsError(v: string): string | undefined {
  for (const w of splitWords(v)) {
    if (tgtInitiatorKind(w) === undefined) return `${JSON.stringify(w.slice(0, 80))} is neither an iSCSI name nor an address (ALL, IP or IP/prefix)`;
  }
  return undefined;
}

/** additional_parameters: "name=value" words; neither part may hold white space. */
export function parseNameValues(v: string): Array<[string, string]> | string {
  const out: Array<[string, string]> = [];
  for (const w of v.split(/\s+/).filter(Boolean)) {
    const m = /^([A-Za-z][A-Za-z0-9_]*)=(\S+)$/.exec(w);
    if (!m) return `${JSON.stringify(w.slice(0, 80))} is not name=value`;
    out.push([m[1]!, m[2]!]);
  }
  return out;
}

export const nameValuesError = (v: string): string | undefined => {
  const r = parseNameValues(v);
  return typeof r === "string" ? r : undefined;
};

/**
 * CHAP user names and secrets: printable ASCII without white space, 1-255 characters (LIO's
 * and tgt's limit), not the word NULL (LIO's "unset"). tgt also forbids ',' (its request
 * separator); that is checked by the agents once the implementation is known.
 */
export function chapError(v: string): string | undefined {
  if (v.length > 255) return "must be at most 255 characters";
  if (!/^[\x21-\x7e]+$/.test(v)) return "must be printable ASCII without white space";
  if (v === "NULL") return 'must not be the word "NULL"';
  return undefined;
}

/**
 * The rules that bind the two CHAP directions together (each value already passed chapError):
 * RFC 7143 12.1.3 forbids one secret both ways; tgt keeps one secret per account name and splits
 * its requests at ','. Undefined secrets (not read) are not compared.
 */
export function chapPairError(
  impl: string | undefined,
  chap: { user: string; password?: string | undefined } | undefined,
  mutual: { user: string; password?: string | undefined } | undefined,
): string | undefined {
  if (impl === "tgt") {
    for (const [what, c] of [["incoming", chap], ["outgoing (mutual)", mutual]] as const) {
      if (c?.user.includes(",")) return `tgt cannot take a ',' in the ${what} CHAP user name`;
      if (c?.password?.includes(",")) return `tgt cannot take a ',' in the ${what} CHAP secret`;
    }
    if (mutual && mutual.user === chap?.user) return "tgt keeps one secret per account name: the outgoing (mutual) CHAP user must differ from the incoming one";
  }
  if (chap?.password !== undefined && chap.password === mutual?.password) return "the outgoing (mutual) CHAP secret must differ from the incoming one (RFC 7143 12.1.3)";
  return undefined;
}

/** First 8 hex digits of md5(resource name): upstream's default scsi_sn, so migration keeps it. */
export function defaultSerial(instance: string): string {
  if (typeof Bun !== "undefined") return new Bun.CryptoHasher("md5").update(instance).digest("hex").slice(0, 8);
  const { createHash } = createRequire(import.meta.url)("node:crypto") as typeof import("node:crypto");
  return createHash("md5").update(instance).digest("hex").slice(0, 8);
}

/** Upstream's default scsi_id: the resource name cut to 16 bytes. */
export const defaultScsiId = (instance: string): string => instance.slice(0, 16);

/**
 * The implementation to use: as configured, else lio-t where targetcli exists, else tgt where
 * tgtadm exists (upstream prefers tgt; LIO is the kernel's own target and the better default).
 * `which` is Runner.which (PATH lookup without a fork).
 */
export function chooseImplementation(configured: string, which: (cmd: string) => string | undefined): Implementation | undefined {
  if (configured) return configured as Implementation;
  if (which("targetcli")) return "lio-t";
  if (which("tgtadm")) return "tgt";
  return undefined;
}
