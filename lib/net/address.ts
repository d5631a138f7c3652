// IP address syntax: strict parsing, RFC 5952 canonical IPv6, netmasks, clone offsets.
// Pure functions (no I/O), shared by IPaddr2 and the stack scripts.

export type Family = 4 | 6;

const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function parseIPv4(s: string): number | undefined {
  if (!V4.test(s)) return undefined;
  return s.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
}

export function formatIPv4(n: number): string {
  return [24, 16, 8, 0].map((sh) => Math.floor(n / 2 ** sh) % 256).join(".");
}

/** IPv6 text (with optional embedded IPv4 tail) to a 128-bit integer; undefined when malformed. */
export function parseIPv6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.length > 45) return undefined;
  let text = s;
  if (text.includes(".")) {
    // embedded IPv4 tail (::ffff:192.0.2.1): rewrite it as two hex groups
    const at = text.lastIndexOf(":");
    const v4 = parseIPv4(text.slice(at + 1));
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, at + 1)}${Math.floor(v4 / 65536).toString(16)}:${(v4 % 65536).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parseGroups = (h: string) => (h === "" ? [] : h.split(":"));
  const head = parseGroups(halves[0]!);
  const rest = halves.length === 2 ? parseGroups(halves[1]!) : [];
  for (const g of [...head, ...rest]) if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const fill = 8 - head.length - rest.length;
    if (fill < 1) return undefined;
    groups = [...head.map((g) => parseInt(g, 16)), ...Array<number>(fill).fill(0), ...rest.map((g) => parseInt(g, 16))];
  } else {
    if (head.length !== 8) return undefined;
    groups = head.map((g) => parseInt(g, 16));
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** RFC 5952: lower case, leading zeros dropped, the longest run (>= 2) of zero groups as "::". */
export function formatIPv6(n: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((n >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

export interface ParsedIP {
  family: Family;
  /** canonical text */
  text: string;
  value: bigint;
}

export function parseIP(s: string): ParsedIP | undefined {
  const v4 = parseIPv4(s);
  if (v4 !== undefined) return { family: 4, text: formatIPv4(v4), value: BigInt(v4) };
  if (!s.includes(":")) return undefined;
  const v6 = parseIPv6(s);
  if (v6 === undefined) return undefined;
  return { family: 6, text: formatIPv6(v6), value: v6 };
}

export function isLinkLocal6(ip: ParsedIP): boolean {
  return ip.family === 6 && ip.value >> 118n === 0x3fan; // fe80::/10
}

/** "24" or "255.255.255.0" (IPv4 only) to a prefix length; undefined when invalid. */
export function parsePrefix(s: string, family: Family): number | undefined {
  const max = family === 4 ? 32 : 128;
  if (/^\d{1,3}$/.test(s)) {
    const n = Number(s);
    return n >= 1 && n <= max ? n : undefined;
  }
  if (family !== 4) return undefined;
  const m = parseIPv4(s);
  if (m === undefined) return undefined;
  // contiguous ones then zeros
  let bits = 0;
  let seenZero = false;
  for (let i = 31; i >= 0; i--) {
    const one = Math.floor(m / 2 ** i) % 2 === 1;
    if (one && seenZero) return undefined;
    if (one) bits++;
    else seenZero = true;
  }
  return bits >= 1 ? bits : undefined;
}

/** The address plus `offset` (unique_clone_address); undefined when it leaves the last octet/range. */
export function addOffset(ip: ParsedIP, offset: number): ParsedIP | undefined {
  if (ip.family === 4) {
    // upstream semantics: the clone number is added to the last octet
    const last = Number(ip.value & 0xffn);
    if (last + offset > 255) return undefined;
    const v = Number(ip.value) + offset;
    return { family: 4, text: formatIPv4(v), value: BigInt(v) };
  }
  const v = ip.value + BigInt(offset);
  if (v >> 128n !== 0n) return undefined;
  return { family: 6, text: formatIPv6(v), value: v };
}

/** Directed broadcast of ip/prefix (IPv4). */
export function broadcast4(ip: ParsedIP, prefix: number): string {
  const host = 2 ** (32 - prefix) - 1;
  const v = Number(ip.value);
  return formatIPv4(v - (v % (host + 1)) + host);
}
