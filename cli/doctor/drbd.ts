// drbd.conf(5) as the doctor needs it: for each resource, its effective net/disk/options/handlers
// settings (the `common` section merged under the resource's own), device minors and backing
// disks. Reads the file and its `include`s (globs, relative to the including file), the same files
// drbdadm reads; `drbdadm dump` output is accepted too (same grammar, includes already expanded).
import { readFileSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
import { ConfError, parseDrbdSyntax, type Node } from "./conf.js";

export type Options = Record<string, string>;
const SECTIONS = ["net", "disk", "options", "handlers", "startup"] as const;
type SectionName = (typeof SECTIONS)[number];

export interface DrbdResource {
  name: string;
  file: string;
  line: number;
  /** effective settings per section: common's, overridden by the resource's */
  net: Options;
  disk: Options;
  options: Options;
  handlers: Options;
  startup: Options;
  /** net sections inside connection / connection-mesh sections (DRBD 9) */
  connectionNets: Options[];
  minors: number[];
  /** backing disks named in the resource (all hosts) */
  disks: string[];
  /** host names of the `on` sections */
  hosts: string[];
  /** replication addresses (without port or address family) of every host and path */
  addresses: string[];
  /** the resource uses DRBD 9 syntax (node-id, connection, connection-mesh) */
  drbd9Syntax: boolean;
}

export interface DrbdConfig {
  path: string;
  files: string[];
  resources: Map<string, DrbdResource>;
}

/** The IP of drbd.conf's `[af] addr:port` words ("ipv6 [fd00::1]:7789" -> "fd00::1"). */
function addressOf(words: string[]): string | undefined {
  const w = ["ipv4", "ipv6", "ssocks", "sdp", "sci"].includes(words[0]!) ? words[1] : words[0];
  if (!w) return undefined;
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(w);
  return v6 ? v6[1] : w.replace(/:\d+$/, "");
}

/** Section settings: `name value...;` -> name: "value ...", a bare flag -> "yes". */
function options(nodes: Node[] | undefined): Options {
  const o: Options = {};
  for (const n of nodes ?? []) if (!n.children) o[n.words[0]!] = n.words.length > 1 ? n.words.slice(1).join(" ") : "yes";
  return o;
}

/** Expand an include pattern: wildcards (* ? [..]) in the last path component, as drbdadm's glob(3). */
function expand(pattern: string): string[] {
  const dir = dirname(pattern);
  const base = basename(pattern);
  if (!/[*?[]/.test(base)) {
    try {
      statSync(pattern);
      return [pattern];
    } catch {
      return [];
    }
  }
  const re = new RegExp(
    "^" +
      base
        .replace(/[.+^${}()|\\]/g, "\\$&")
        .replace(/\*/g, "[^/]*")
        .replace(/\?/g, "[^/]") +
      "$",
  );
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  // glob(3) skips dot files unless the pattern starts with "."
  return names.filter((n) => re.test(n) && (base.startsWith(".") || !n.startsWith("."))).sort().map((n) => join(dir, n));
}

const minorOf = (words: string[]): number | undefined => {
  const i = words.indexOf("minor");
  if (i >= 0 && /^\d+$/.test(words[i + 1] ?? "")) return Number(words[i + 1]);
  const m = /^\/dev\/drbd(\d+)$/.exec(words[1] ?? "");
  return m ? Number(m[1]) : undefined;
};

/**
 * Read drbd.conf and its includes. `root` re-roots absolute include paths (tests, --root).
 * Throws ConfError (with the file name) on a syntax error.
 */
export function readDrbdConfig(path: string, root = "/"): DrbdConfig {
  const files: string[] = [];
  const common: Record<SectionName, Options> = { net: {}, disk: {}, options: {}, handlers: {}, startup: {} };
  const raw: Array<{ node: Node; file: string }> = [];
  const load = (file: string, depth: number) => {
    if (depth > 16) throw new ConfError(`${file}: includes nested too deep (a loop?)`);
    files.push(file);
    let nodes: Node[];
    try {
      nodes = parseDrbdSyntax(readFileSync(file, "utf8"));
    } catch (e) {
      throw e instanceof ConfError ? new ConfError(`${file}: ${e.message}`) : e;
    }
    for (const n of nodes) {
      if (!n.children && n.words[0] === "include" && n.words[1]) {
        const pat = n.words[1];
        const full = isAbsolute(pat) ? join(root, pat) : join(dirname(file), pat);
        for (const f of expand(full)) load(f, depth + 1);
      } else if (n.children && n.words[0] === "common") {
        for (const s of n.children) if (s.children && (SECTIONS as readonly string[]).includes(s.words[0]!)) Object.assign(common[s.words[0] as SectionName], options(s.children));
      } else if (n.children && n.words[0] === "resource" && n.words[1]) raw.push({ node: n, file });
    }
  };
  load(path, 0);
  const resources = new Map<string, DrbdResource>();
  for (const { node, file } of raw) {
    const own: Record<SectionName, Options> = { net: {}, disk: {}, options: {}, handlers: {}, startup: {} };
    const r: DrbdResource = {
      name: node.words[1]!,
      file,
      line: node.line,
      net: {},
      disk: {},
      options: {},
      handlers: {},
      startup: {},
      connectionNets: [],
      minors: [],
      disks: [],
      hosts: [],
      addresses: [],
      drbd9Syntax: false,
    };
    const walk = (nodes: Node[], top: boolean) => {
      for (const n of nodes) {
        const k = n.words[0]!;
        if (n.children) {
          if (top && (SECTIONS as readonly string[]).includes(k)) Object.assign(own[k as SectionName], options(n.children));
          else if (k === "connection" || k === "connection-mesh") {
            r.drbd9Syntax = true;
            for (const s of n.children) if (s.children && s.words[0] === "net") r.connectionNets.push(options(s.children));
            walk(n.children, false); // its host ... address statements and path sections
          } else if (k === "path") {
            walk(n.children, false);
          } else if (k === "on" || k === "volume" || k === "floating" || k === "stacked-on-top-of") {
            if (k === "on") r.hosts.push(...n.words.slice(1));
            walk(n.children, false);
          }
        } else if (k === "device") {
          const m = minorOf(n.words);
          if (m !== undefined && !r.minors.includes(m)) r.minors.push(m);
        } else if (k === "disk" && n.words[1] && n.words[1] !== "none") {
          if (!r.disks.includes(n.words[1])) r.disks.push(n.words[1]);
        } else if (k === "node-id") r.drbd9Syntax = true;
        // `address [af] ip:port;` in an `on` section, `host NAME address [af] ip:port;` in a connection or path
        const a = n.children ? -1 : n.words.indexOf("address");
        if (a >= 0) {
          const ip = addressOf(n.words.slice(a + 1));
          if (ip && !r.addresses.includes(ip)) r.addresses.push(ip);
        }
      }
    };
    walk(node.children!, true);
    for (const s of SECTIONS) r[s] = { ...common[s], ...own[s] };
    resources.set(r.name, r);
  }
  return { path, files, resources };
}

/** The loaded DRBD module's version from /proc/drbd ("9.2.8"), undefined when not loaded here. */
export function drbdKernelVersion(procDrbd = "/proc/drbd"): string | undefined {
  try {
    return /^version:\s*(\d+\.\d+\S*)/m.exec(readFileSync(procDrbd, "utf8"))?.[1];
  } catch {
    return undefined; // not a DRBD node, or the module is not loaded
  }
}
