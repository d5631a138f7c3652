// Syntax checks for every value a stack script puts on a pcs command line. All of them run
// before a single pcs command does; each returns an error text or undefined.
import { isIPv4, isIPv6 } from "node:net";
import { readSecretFile } from "../lib/system/secret-file.js";

export type Check = (v: string) => string | undefined;

/** Pacemaker XML ids (pcs rejects others): a letter or _ first, then letters, digits, _ . - */
export const resourceId: Check = (v) =>
  /^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/.test(v) ? undefined : `"${v}" is not a valid resource id (letter or _ first, then letters, digits, _ . -; at most 63)`;

/** RFC 3720 iSCSI names: iqn.YYYY-MM.reversed.domain[:unique], eui.<16 hex>, naa.<16|32 hex>. */
export const iqn: Check = (v) => {
  if (Buffer.byteLength(v) > 223) return `"${v}" is longer than 223 bytes (RFC 3720)`;
  if (/^eui\.[0-9A-Fa-f]{16}$/.test(v) || /^naa\.([0-9A-Fa-f]{16}|[0-9A-Fa-f]{32})$/.test(v)) return undefined;
  const m = /^iqn\.(\d{4})-(\d{2})\.([a-z0-9][a-z0-9-]*(?:\.[a-z0-9][a-z0-9-]*)*)(?::([\x21-\x7e]+))?$/.exec(v);
  if (!m) return `"${v}" is not an iSCSI name (iqn.YYYY-MM.reversed.domain[:name], eui.HEX16 or naa.HEX, lower case)`;
  const month = Number(m[2]);
  if (month < 1 || month > 12) return `"${v}": month ${m[2]} in the iqn date is not 01-12`;
  if (m[4] && /[\s'"`$\\]/.test(m[4])) return `"${v}": quotes, $, \\ and spaces are not allowed in an iSCSI name`;
  return undefined;
};

export const absPath: Check = (v) =>
  /^\/[\x21-\x7e]*$/.test(v) && !/['"`$\\;|&<>*?]/.test(v) && !/(^|\/)\.\.?(\/|$)/.test(v)
    ? undefined
    : `"${v}" is not a plain absolute path (no spaces, quotes, shell characters, . or .. parts)`;

export const mountPoint: Check = (v) => absPath(v) ?? (v === "/" || v.replace(/\/+$/, "") === "" ? `"${v}": refusing to mount over /` : undefined);

/** IPv4 or IPv6 address, optionally /prefix. */
export function ipWithPrefix(v: string): { addr: string; prefix: number | undefined; v6: boolean } | string {
  const [addr = "", pfx, extra] = v.split("/");
  if (extra !== undefined) return `"${v}" is not ADDRESS[/PREFIX]`;
  const v6 = isIPv6(addr);
  if (!isIPv4(addr) && !v6) return `"${addr}" is not an IPv4 or IPv6 address`;
  if (pfx === undefined) return { addr, prefix: undefined, v6 };
  const n = Number(pfx);
  if (!/^\d{1,3}$/.test(pfx) || n < 1 || n > (v6 ? 128 : 32)) return `"${v}": prefix must be 1-${v6 ? 128 : 32}`;
  return { addr, prefix: n, v6 };
}

/** iSCSI portal: IPv4:PORT, [IPv6]:PORT, or an address alone (port 3260). */
export function portal(v: string): { addr: string; port: number } | string {
  const m = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(v) ?? /^([0-9.]+)(?::(\d+))?$/.exec(v);
  if (!m || !(isIPv4(m[1]!) || isIPv6(m[1]!))) return `"${v}" is not a portal (IPv4[:PORT] or [IPv6][:PORT])`;
  const port = m[2] === undefined ? 3260 : Number(m[2]);
  if (port < 1 || port > 65535) return `"${v}": port must be 1-65535`;
  return { addr: m[1]!, port };
}

export const nic: Check = (v) => (/^[A-Za-z0-9_.:-]{1,15}$/.test(v) && !v.startsWith("-") ? undefined : `"${v}" is not an interface name (at most 15 of A-Z a-z 0-9 _ . : -)`);

/** drbd_resource, as ocf:linbit:drbd accepts it. */
export const drbdResource: Check = (v) => (/^[-%+./0-9:=@A-Z_a-z]{1,64}$/.test(v) && !v.startsWith("-") ? undefined : `"${v}" is not a DRBD resource name ([-%+./0-9:=@A-Z_a-z], not starting with -)`);

/** LVM VG/LV names. */
export const lvmName: Check = (v) =>
  /^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$/.test(v) && v !== "." && v !== ".." ? undefined : `"${v}" is not an LVM name (A-Z a-z 0-9 + _ . -, not starting with -)`;

/** pcs interval/timeout values: 10, 10s, 500ms, 2min. */
export const duration: Check = (v) => (/^\d+(ms|s|m|min|h)?$/.test(v) ? undefined : `"${v}" is not a duration (e.g. 10s, 500ms, 2min)`);

/** A resource agent spec for an extra service: class:provider:type or class:type. */
export const agentSpec: Check = (v) =>
  /^(ocf:[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+|(systemd|lsb|service):[A-Za-z0-9_.@-]+)$/.test(v) ? undefined : `"${v}" is not an agent (ocf:PROVIDER:TYPE, systemd:UNIT, lsb:SCRIPT or service:NAME)`;

/** name=value for an extra parameter: a plain name, a value without control characters. */
export const nameValue: Check = (v) => (/^[A-Za-z_][A-Za-z0-9_-]*=[^\x00-\x1f\x7f]*$/.test(v) ? undefined : `"${v}" is not NAME=VALUE`);

/** Collects every error; nothing runs unless the list is empty. */
export class Problems {
  readonly list: string[] = [];
  check(what: string, v: string | undefined, c: Check): void {
    if (v === undefined) return;
    const e = c(v);
    if (e) this.list.push(`${what}: ${e}`);
  }
  add(msg: string): void {
    this.list.push(msg);
  }
  /** A root-only secret file the generated configuration names (the secret never enters argv or
   * the CIB): a plain path (it lands in a command line), a regular file, mode 0600, not empty.
   * Returns the secret, or undefined after adding why not (never the content). */
  secretFile(flag: string, file: string): string | undefined {
    const bad = absPath(file);
    if (bad) return void this.list.push(`${flag}: ${bad}`);
    const r = readSecretFile(file);
    if ("error" in r) return void this.list.push(`${flag}: ${r.error} (the file must exist at this path on every node, mode 0600)`);
    return r.secret;
  }
  unique(what: string, vals: string[]): void {
    const seen = new Set<string>();
    for (const v of vals) {
      if (seen.has(v)) this.list.push(`${what}: "${v}" given twice`);
      seen.add(v);
    }
  }
}
