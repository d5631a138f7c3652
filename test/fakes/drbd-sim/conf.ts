// drbd.conf for the DRBD simulator's drbdadm: the subset of drbd.conf(5) two-node and small
// multi-node setups use. Statements are words ending in ";" or a "{ block }"; "#" comments,
// quoted strings and `include "glob";` are understood. A resource is resolved for one host:
// its volumes (device, minor, disk or none), its peers (from connection / connection-mesh
// sections, else every other `on` host) and the net/options values the simulator models.

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export interface Stmt {
  words: string[];
  block?: Stmt[];
  file: string;
  line: number;
}

export class ConfError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

function tokenize(text: string, file: string): Array<{ t: string; line: number; quoted: boolean }> {
  const out: Array<{ t: string; line: number; quoted: boolean }> = [];
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "\n") line++;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "{" || c === "}" || c === ";") {
      out.push({ t: c, line, quoted: false });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      let s = "";
      while (j < text.length && text[j] !== '"') {
        if (text[j] === "\\" && j + 1 < text.length) j++;
        s += text[j];
        j++;
      }
      if (j >= text.length) throw new ConfError(`${file}:${line}: unterminated string`, 10);
      out.push({ t: s, line, quoted: true });
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s{};#"]/.test(text[j]!)) j++;
      out.push({ t: text.slice(i, j), line, quoted: false });
      i = j;
    }
  }
  return out;
}

function parseBlock(toks: ReturnType<typeof tokenize>, pos: { i: number }, file: string, nested: boolean): Stmt[] {
  const out: Stmt[] = [];
  let words: string[] = [];
  let line = 0;
  while (pos.i < toks.length) {
    const tok = toks[pos.i++]!;
    if (!tok.quoted && tok.t === "}") {
      if (!nested) throw new ConfError(`${file}:${tok.line}: Parse error: unexpected '}'`, 10);
      if (words.length) throw new ConfError(`${file}:${tok.line}: Parse error: ';' expected before '}'`, 10);
      return out;
    }
    if (!tok.quoted && tok.t === ";") {
      if (words.length) out.push({ words, file, line });
      words = [];
      continue;
    }
    if (!tok.quoted && tok.t === "{") {
      out.push({ words, block: parseBlock(toks, pos, file, true), file, line: line || tok.line });
      words = [];
      continue;
    }
    if (!words.length) line = tok.line;
    words.push(tok.t);
  }
  if (nested) throw new ConfError(`${file}: Parse error: missing '}'`, 10);
  if (words.length) throw new ConfError(`${file}:${line}: Parse error: ';' expected`, 10);
  return out;
}

function globFiles(pattern: string): string[] {
  const dir = dirname(pattern);
  const base = pattern.slice(dir.length + 1);
  if (!base.includes("*") && !base.includes("?")) return [pattern];
  const re = new RegExp(`^${base.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
  try {
    return readdirSync(dir).filter((f) => re.test(f)).sort().map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/** Parse a configuration file with its includes. Errors: 20 cannot open (as drbdadm), 10 syntax. */
export function parseConfFile(path: string, depth = 0): Stmt[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new ConfError(`Can not open '${path}'.\n.`, 20);
  }
  const toks = tokenize(text, path);
  const stmts = parseBlock(toks, { i: 0 }, path, false);
  const out: Stmt[] = [];
  for (const s of stmts) {
    if (s.words[0] === "include" && !s.block) {
      if (depth > 8) throw new ConfError(`${path}:${s.line}: include nesting too deep`, 10);
      const pat = resolve(dirname(path), s.words[1] ?? "");
      for (const f of globFiles(pat)) out.push(...parseConfFile(f, depth + 1));
    } else out.push(s);
  }
  return out;
}

export interface VolumeConf {
  vnr: number;
  minor: number;
  device: string;
  /** backing device; null for `disk none` (diskless client) */
  disk: string | null;
  metaDisk: string;
}

export interface PeerConf {
  name: string;
  nodeId: number;
  local: string;
  peer: string;
}

export interface ResourceConf {
  name: string;
  host: string;
  nodeId: number;
  volumes: VolumeConf[];
  peers: PeerConf[];
  protocol: string;
  allowTwoPrimaries: boolean;
  fencing: string;
  quorum: string;
  /** the statements, for `drbdadm dump` */
  stmts: Stmt[];
  file: string;
  line: number;
}

const sub = (b: Stmt[] | undefined, name: string) => (b ?? []).filter((s) => s.words[0] === name);
const val = (b: Stmt[] | undefined, name: string) => (b ?? []).find((s) => s.words[0] === name && !s.block)?.words.slice(1);

function parseDevice(words: string[] | undefined, ctx: string): { minor: number; device: string } | undefined {
  if (!words) return undefined;
  let minor: number | undefined;
  let device: string | undefined;
  for (let i = 0; i < words.length; i++) {
    if (words[i] === "minor") minor = Number(words[++i]);
    else device = words[i];
  }
  if (minor === undefined && device) {
    const m = /drbd(\d+)$/.exec(device);
    if (m) minor = Number(m[1]);
  }
  if (minor === undefined || !Number.isInteger(minor)) throw new ConfError(`${ctx}: device needs a minor number`, 10);
  return { minor, device: device ?? `/dev/drbd${minor}` };
}

function parseAddress(words: string[] | undefined): string | undefined {
  if (!words || !words.length) return undefined;
  const fam = words.length > 1 ? words[0]! : "ipv4";
  return `${fam}:${words[words.length - 1]!}`;
}

function netValues(blocks: Stmt[][]): { protocol: string; allowTwoPrimaries: boolean; fencing: string } {
  const r = { protocol: "C", allowTwoPrimaries: false, fencing: "dont-care" };
  for (const b of blocks) {
    const p = val(b, "protocol");
    if (p) r.protocol = p[0]!;
    const a = val(b, "allow-two-primaries");
    if (a) r.allowTwoPrimaries = a.length === 0 || a[0] === "yes";
    const f = val(b, "fencing");
    if (f) r.fencing = f[0]!;
  }
  return r;
}

/** Resolve resource `name` for `host`. Errors as drbdadm: 1 not defined here. */
export function resolveResource(stmts: Stmt[], name: string, host: string): ResourceConf {
  const res = stmts.find((s) => s.words[0] === "resource" && s.words[1] === name && s.block);
  const notHere = new ConfError(`'${name}' not defined in your config (for this host).`, 1);
  if (!res) throw notHere;
  const common = stmts.find((s) => s.words[0] === "common" && s.block)?.block ?? [];
  const body = res.block!;
  const ons = sub(body, "on").filter((s) => s.block);
  const me = ons.find((s) => s.words.slice(1).includes(host));
  if (!me) throw notHere;
  const hostOf = (s: Stmt) => s.words[1]!;

  // Volumes: explicit volume sections (resource level, then the host's), else the implicit volume 0.
  const volSections = [...sub(body, "volume"), ...sub(me.block, "volume")].filter((s) => s.block);
  const vnrs = [...new Set(volSections.map((s) => Number(s.words[1])))].sort((a, b) => a - b);
  if (!vnrs.length) vnrs.push(0);
  const volumes: VolumeConf[] = vnrs.map((vnr) => {
    const secs = volSections.filter((s) => Number(s.words[1]) === vnr).map((s) => s.block!);
    const pick = (k: string) => {
      for (const b of [...secs].reverse()) {
        const v = val(b, k);
        if (v) return v;
      }
      return val(me.block, k) ?? val(body, k);
    };
    const dev = parseDevice(pick("device"), `${res.file}:${res.line}: resource ${name} volume ${vnr}`);
    if (!dev) throw new ConfError(`${res.file}:${res.line}: resource ${name}: no device defined for volume ${vnr}`, 10);
    const disk = pick("disk");
    return { vnr, ...dev, disk: !disk || disk[0] === "none" ? null : disk[0]!, metaDisk: (pick("meta-disk") ?? ["internal"]).join(" ") };
  });

  const nodeIdOf = (s: Stmt, i: number) => {
    const v = val(s.block, "node-id");
    return v ? Number(v[0]) : i;
  };
  const addrOf = (h: string) => parseAddress(val(ons.find((s) => hostOf(s) === h)?.block, "address"));
  const peers: PeerConf[] = [];
  const conns = sub(body, "connection").filter((s) => s.block);
  const mesh = sub(body, "connection-mesh").find((s) => s.block);
  const netBlocks: Stmt[][] = [...sub(common, "net").map((s) => s.block!), ...sub(body, "net").map((s) => s.block!)];
  const addPeer = (h: string, local?: string, peer?: string) => {
    const os = ons.find((s) => hostOf(s) === h);
    if (!os || peers.some((p) => p.name === h)) return;
    peers.push({ name: h, nodeId: nodeIdOf(os, ons.indexOf(os)), local: local ?? addrOf(host) ?? "", peer: peer ?? addrOf(h) ?? "" });
  };
  if (conns.length) {
    for (const c of conns) {
      const hosts = sub(c.block, "host").map((s) => ({ name: s.words[1]!, addr: parseAddress(s.words.includes("address") ? s.words.slice(s.words.indexOf("address") + 1) : undefined) }));
      if (!hosts.some((h) => h.name === host)) continue;
      const mine = hosts.find((h) => h.name === host)!;
      for (const h of hosts) if (h.name !== host) addPeer(h.name, mine.addr, h.addr);
      netBlocks.push(...sub(c.block, "net").map((s) => s.block!));
    }
  } else {
    const names = mesh ? (val(mesh.block, "hosts") ?? []) : ons.map(hostOf);
    if (mesh) netBlocks.push(...sub(mesh.block, "net").map((s) => s.block!));
    for (const h of names) if (h !== host) addPeer(h);
  }
  const opts = [...sub(common, "options"), ...sub(body, "options")].map((s) => s.block!);
  let quorum = "off";
  for (const b of opts) {
    const q = val(b, "quorum");
    if (q) quorum = q[0]!;
  }
  return { name, host, nodeId: nodeIdOf(me, ons.indexOf(me)), volumes, peers, ...netValues(netBlocks), quorum, stmts: body, file: res.file, line: res.line };
}

/** `drbdadm dump RES`: the resource normalized, close to drbdadm's layout (4-space indents). */
export function dumpResource(r: ResourceConf): string {
  const lines = [`# resource ${r.name} on ${r.host}: not ignored, not stacked`, `# defined at ${r.file}:${r.line}`, `resource ${r.name} {`];
  const emit = (stmts: Stmt[], depth: number) => {
    for (const s of stmts) {
      const pad = "    ".repeat(depth);
      const [k, ...rest] = s.words;
      if (s.block) {
        lines.push(`${pad}${s.words.join(" ")} {`);
        emit(s.block, depth + 1);
        lines.push(`${pad}}`);
      } else if (k === "allow-two-primaries" && rest.length === 0) {
        lines.push(`${pad}${k.padEnd(18)} yes;`);
      } else {
        lines.push(`${pad}${(k ?? "").padEnd(rest.length ? 20 : 0)}${rest.length ? ` ${rest.join(" ")}` : ""};`);
      }
    }
  };
  emit(r.stmts, 1);
  lines.push("}", "");
  return `${lines.join("\n")}\n`;
}

/** Names of all resources in the file (for `all`). */
export function resourceNames(stmts: Stmt[]): string[] {
  return stmts.filter((s) => s.words[0] === "resource" && s.block).map((s) => s.words[1]!);
}
