// drbd.conf(5) as the doctor needs it: for each resource, its effective net/disk/options/handlers
// settings (the `common` section merged under the resource's own), device minors and backing
// disks. Reads the file and its `include`s (globs, relative to the including file), the same files
// drbdadm reads; `drbdadm dump` output is accepted too (same grammar, includes already expanded).
// Also what LINSTOR generates (/var/lib/linstor.d/*.res, included from /etc/drbd.d/
// linstor-resources.res): its `template-file "linstor_common.conf"` (LINSTOR before 1.12) replaces
// the global `common` for that resource as drbdadm does, and the header comment marks the file as
// LINSTOR's. 8.3's `syncer { }` section is distributed as drbdadm-84 does (rate -> resync-rate).
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
import { ConfError, parseDrbdSyntax, type Node } from "./conf.js";

export type Options = Record<string, string>;
const SECTIONS = ["net", "disk", "options", "handlers", "startup"] as const;
type SectionName = (typeof SECTIONS)[number];

/** Where a setting or a section is written. */
export interface Place {
  file: string;
  line: number;
}

/** A net or disk section below the resource level (DRBD 9 connection / volume sections). */
export interface NestedSection {
  section: "net" | "disk";
  /** what it is inside, for messages: "connection n1 n2", "connection-mesh", "volume 0 on n1" */
  within: string;
  options: Options;
  /** the line of each setting */
  lines: Record<string, number>;
  file: string;
  line: number;
}

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
  /** where each effective resource-level setting is written, as "section.key" (e.g. "net.after-sb-0pri") */
  origins: Record<string, Place>;
  /** net / disk sections inside connection, connection-mesh and volume sections */
  nested: NestedSection[];
  /** replication addresses per host name (`on` sections, `host NAME address` in connections and paths) */
  hostAddresses: Record<string, string[]>;
  /** the device paths: /dev/drbdN of every minor, and named devices */
  devices: string[];
  /** the `common` section that applies: the template file's (template-file), else drbd.conf's */
  common?: Place;
  /** the template-file the resource names (LINSTOR before 1.12: linstor_common.conf) */
  template?: string;
  /** 8.3 syntax: a `syncer` section (in the resource or the common section that applies) */
  syncer: boolean;
  /** the generator named in the file's header, e.g. "linstor(1.25.1)": do not edit by hand */
  generatedBy?: string;
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

/** Settings with the line of each. */
function settingsAt(nodes: Node[] | undefined): { options: Options; lines: Record<string, number> } {
  const lines: Record<string, number> = {};
  for (const n of nodes ?? []) if (!n.children) lines[n.words[0]!] = n.line;
  return { options: options(nodes), lines };
}

/** One section's settings per section name, each with where it is written. */
type Sections = Record<SectionName, Options> & { at: Record<string, Place> };
const emptySections = (): Sections => ({ net: {}, disk: {}, options: {}, handlers: {}, startup: {}, at: {} });

// drbdadm's distribution of 8.3's syncer options (parse_options_syncer, check_deprecated_alias)
const SYNCER_RENAME: Record<string, string> = { rate: "resync-rate", after: "resync-after" };
const SYNCER_NET = new Set(["verify-alg", "csums-alg", "use-rle", "data-integrity-alg"]);
const SYNCER_OPTIONS = new Set(["cpu-mask", "on-no-data-accessible"]);

/** Merge a section (net/disk/options/handlers/startup, or 8.3's syncer) into `into`. */
function addSection(into: Sections, n: Node, file: string): boolean {
  const k = n.words[0]!;
  if (k === "syncer") {
    for (const c of n.children ?? []) {
      if (c.children) continue;
      const key = SYNCER_RENAME[c.words[0]!] ?? c.words[0]!;
      const sec: SectionName = SYNCER_NET.has(key) ? "net" : SYNCER_OPTIONS.has(key) ? "options" : "disk";
      into[sec][key] = c.words.length > 1 ? c.words.slice(1).join(" ") : "yes";
      into.at[`${sec}.${key}`] = { file, line: c.line };
    }
    return true;
  }
  if (!(SECTIONS as readonly string[]).includes(k)) return false;
  const { options: o, lines } = settingsAt(n.children);
  Object.assign(into[k as SectionName], o);
  for (const [key, line] of Object.entries(lines)) into.at[`${k}.${key}`] = { file, line };
  return false;
}

/** The generator a file's header comment names ("# This file was generated by linstor(1.25.1), do not edit manually."). */
function generatorOf(text: string): string | undefined {
  const head = text.split("\n").slice(0, 5).join("\n");
  return /^#\s*This file was generated by (linstor(?:\([^)]*\))?)/im.exec(head)?.[1];
}

/** The host names of a connection (`host NAME ...;`, also in its paths) or connection-mesh (`hosts A B C;`). */
function connectionHosts(nodes: Node[]): string[] {
  const out: string[] = [];
  for (const n of nodes) {
    const k = n.words[0];
    const names = k === "hosts" ? n.words.slice(1) : k === "host" && n.words[1] ? [n.words[1]] : k === "path" && n.children ? connectionHosts(n.children) : [];
    for (const h of names) if (!out.includes(h)) out.push(h);
  }
  return out;
}

/** LINSTOR's placeholder for the backing disks of peers (ConfFileBuilder): not a device anywhere. */
const LINSTOR_PEER_DISK = "/dev/drbd/this/is/not/used";

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
  const seen = new Set<string>();
  const common = emptySections();
  let commonAt: Place | undefined;
  let commonSyncer = false;
  const raw: Array<{ node: Node; file: string; generatedBy?: string }> = [];
  const parse = (file: string): { nodes: Node[]; text: string } => {
    const text = readFileSync(file, "utf8");
    try {
      return { nodes: parseDrbdSyntax(text), text };
    } catch (e) {
      throw e instanceof ConfError ? new ConfError(`${file}: ${e.message}`) : e;
    }
  };
  const load = (file: string, depth: number) => {
    if (depth > 16) throw new ConfError(`${file}: includes nested too deep (a loop?)`);
    // drbdadm reads a file once however often it is included (was_file_already_seen)
    if (seen.has(file)) return;
    seen.add(file);
    files.push(file);
    const { nodes, text } = parse(file);
    const generatedBy = generatorOf(text);
    for (const n of nodes) {
      if (!n.children && n.words[0] === "include" && n.words[1]) {
        const pat = n.words[1];
        const full = isAbsolute(pat) ? join(root, pat) : join(dirname(file), pat);
        for (const f of expand(full)) load(f, depth + 1);
      } else if (n.children && n.words[0] === "common") {
        commonAt = { file, line: n.line };
        for (const s of n.children) if (s.children && addSection(common, s, file)) commonSyncer = true;
      } else if (n.children && n.words[0] === "resource" && n.words[1]) raw.push({ node: n, file, generatedBy });
    }
  };
  load(path, 0);
  /** `template-file "F";`: F's common section replaces drbd.conf's for this resource (drbdadm's template_file()) */
  const templates = new Map<string, { sections: Sections; at: Place; syncer: boolean }>();
  const template = (name: string, from: string) => {
    const file = isAbsolute(name) ? join(root, name) : join(dirname(from), name);
    if (!templates.has(file)) {
      if (!existsSync(file)) throw new ConfError(`${from}: template-file ${name}: no such file`);
      if (!files.includes(file)) files.push(file);
      const { nodes } = parse(file);
      const c = nodes.find((n) => n.children && n.words[0] === "common");
      const sections = emptySections();
      let syncer = false;
      for (const s of c?.children ?? []) if (s.children && addSection(sections, s, file)) syncer = true;
      templates.set(file, { sections, at: { file, line: c?.line ?? 1 }, syncer });
    }
    return { file, ...templates.get(file)! };
  };
  const resources = new Map<string, DrbdResource>();
  for (const { node, file, generatedBy } of raw) {
    const own = emptySections();
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
      origins: {},
      nested: [],
      hostAddresses: {},
      devices: [],
      syncer: false,
      ...(generatedBy ? { generatedBy } : {}),
    };
    const address = (host: string | undefined, words: string[]) => {
      const ip = addressOf(words);
      if (!ip) return;
      if (!r.addresses.includes(ip)) r.addresses.push(ip);
      if (host !== undefined) {
        const list = (r.hostAddresses[host] ??= []);
        if (!list.includes(ip)) list.push(ip);
      }
    };
    const nested = (n: Node, section: "net" | "disk", within: string) => {
      const { options: o, lines } = settingsAt(n.children);
      r.nested.push({ section, within, options: o, lines, file, line: n.line });
    };
    let usedTemplate: ReturnType<typeof template> | undefined;
    const walk = (nodes: Node[], top: boolean, host: string | undefined, within: string) => {
      for (const n of nodes) {
        const k = n.words[0]!;
        if (n.children) {
          if (top && (SECTIONS as readonly string[]).includes(k)) addSection(own, n, file);
          else if (top && k === "syncer") {
            addSection(own, n, file);
            r.syncer = true;
          } else if (k === "connection" || k === "connection-mesh") {
            r.drbd9Syntax = true;
            const hosts = connectionHosts(n.children);
            const name = `${k}${hosts.length ? ` ${hosts.join(" ")}` : ""}`;
            for (const s of n.children) if (s.children && s.words[0] === "net") r.connectionNets.push(options(s.children));
            for (const s of n.children) if (s.children && (s.words[0] === "net" || s.words[0] === "disk")) nested(s, s.words[0] as "net" | "disk", name);
            walk(n.children, false, undefined, name); // its host ... address statements, path and volume sections
          } else if (k === "path") {
            walk(n.children, false, undefined, within);
          } else if (k === "host" && n.words.includes("via")) {
            // `host NAME address 127.0.0.1:7000 via proxy on NAME { inside ...; outside [af] ip:port; }`
            const outside = n.children.find((c) => !c.children && c.words[0] === "outside");
            if (outside) address(n.words[1], outside.words.slice(1));
          } else if (k === "on" || k === "volume" || k === "floating" || k === "stacked-on-top-of") {
            if (k === "on") r.hosts.push(...n.words.slice(1));
            const h = k === "on" ? n.words[1] : host;
            // a volume's disk section: in an `on` section or at the top its disk options, in a connection the peer-device options of that volume
            const w = k === "volume" ? `${within ? `${within} ` : ""}volume ${n.words[1] ?? ""}${h ? ` on ${h}` : ""}` : within;
            if (k === "volume") for (const s of n.children) if (s.children && s.words[0] === "disk") nested(s, "disk", w);
            walk(n.children, false, h, w);
          }
        } else if (k === "device") {
          const m = minorOf(n.words);
          if (m !== undefined && !r.minors.includes(m)) r.minors.push(m);
          const dev = n.words[1] && n.words[1] !== "minor" ? n.words[1] : m !== undefined ? `/dev/drbd${m}` : undefined;
          for (const d of [dev, m !== undefined ? `/dev/drbd${m}` : undefined]) if (d && !r.devices.includes(d)) r.devices.push(d);
        } else if (k === "disk" && n.words[1] && n.words[1] !== "none" && n.words[1] !== LINSTOR_PEER_DISK) {
          if (!r.disks.includes(n.words[1])) r.disks.push(n.words[1]);
        } else if (k === "node-id") r.drbd9Syntax = true;
        else if (top && k === "template-file" && n.words[1]) usedTemplate = template(n.words[1], file);
        else if (top && k === "protocol" && n.words[1]) {
          // 8.3's resource-level `protocol C;` (drbdadm puts it into the net options)
          own.net.protocol = n.words[1];
          own.at["net.protocol"] = { file, line: n.line };
        }
        // `address [af] ip:port;` in an `on` section, `host NAME address [af] ip:port;` in a connection or path
        const a = n.children ? -1 : n.words.indexOf("address");
        if (a >= 0) address(k === "host" && a === 2 ? n.words[1] : host, n.words.slice(a + 1));
      }
    };
    walk(node.children!, true, undefined, "");
    const base = usedTemplate?.sections ?? common;
    for (const s of SECTIONS) r[s] = { ...base[s], ...own[s] };
    r.origins = { ...base.at, ...own.at };
    const commonPlace = usedTemplate?.at ?? commonAt;
    if (commonPlace) r.common = commonPlace;
    if (usedTemplate) r.template = usedTemplate.file;
    if (usedTemplate ? usedTemplate.syncer : commonSyncer) r.syncer = true;
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
