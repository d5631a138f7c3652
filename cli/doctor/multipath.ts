// multipath.conf(5) blacklist evaluation, as multipath-tools does it: devnode regexes (POSIX
// extended, "!" inverts) of the config file and config_dir (/etc/multipath/conf.d/*.conf), plus
// the built-in default blacklist; blacklist_exceptions win over the blacklist. Also the settings
// of `defaults`, `overrides`, `devices { device }` and `multipaths { multipath }`, and the
// blacklist entries other than devnode, for the SAN checks (cli/hazards/san.ts).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseMultipathSyntax, sections, settings, type Node } from "./conf.js";

/** multipath-tools' built-in devnode blacklist (libmultipath/blacklist.c, since 0.8.x). */
export const DEFAULT_DEVNODE_BLACKLIST = "!^(sd[a-z]|dasd[a-z]|nvme[0-9])";

export interface Multipath {
  files: string[];
  blacklist: Entry[];
  exceptions: Entry[];
  /** lines whose data multipath ignores (a section opened and filled on one line) */
  ignored: Array<{ file: string; line: number; text: string; ignored: string }>;
  /** `defaults` settings of every file, in reading order (a later one wins) */
  defaults: Setting[];
  /** `overrides` settings of every file, in reading order (a later one wins) */
  overrides: Setting[];
  /** each `devices { device { ... } }` entry */
  devices: Section[];
  /** each `multipaths { multipath { ... } }` entry */
  multipaths: Section[];
  /** blacklist entries other than devnode: wwid, property, protocol (value), device (its settings) */
  blacklistOther: Array<{ kind: string; value: string; file: string; line: number }>;
}

export interface Setting {
  key: string;
  value: string;
  file: string;
  line: number;
}

export interface Section {
  file: string;
  line: number;
  settings: Setting[];
}

/** The last setting `key` of a list (multipath: a later setting overrides an earlier one). */
export function lastSetting(list: Setting[], key: string): Setting | undefined {
  for (let i = list.length - 1; i >= 0; i--) if (list[i]!.key === key) return list[i];
  return undefined;
}

export interface Entry {
  regex: string;
  file: string;
  line: number;
  /** undefined when it does not compile (multipath then drops the entry) */
  test?: (dev: string) => boolean;
}

/** POSIX ERE -> JS, for the patterns people write in blacklists; undefined when it cannot compile. */
export function compileRegex(src: string): ((dev: string) => boolean) | undefined {
  let invert = false;
  let body = src;
  if (body.startsWith("!")) {
    invert = true;
    body = body.slice(1);
  } else if (body.startsWith("\\!")) body = body.slice(1);
  const classes: Record<string, string> = { digit: "0-9", alpha: "A-Za-z", alnum: "A-Za-z0-9", upper: "A-Z", lower: "a-z", space: " \\t\\n\\r\\f\\v", xdigit: "0-9A-Fa-f", punct: "!-\\/:-@\\[-`{-~" };
  body = body.replace(/\[:([a-z]+):\]/g, (m, c: string) => classes[c] ?? m);
  // regcomp(REG_EXTENDED) refuses a repetition operator with nothing before it (REG_BADRPT)
  if (/^[*+?{]/.test(body) || /[(|][*+?]/.test(body)) return undefined;
  try {
    const re = new RegExp(body);
    return (dev) => re.test(dev) !== invert;
  } catch {
    return undefined;
  }
}

export function readMultipath(path: string, confDir: string | undefined): Multipath {
  const mp: Multipath = { files: [], blacklist: [], exceptions: [], ignored: [], defaults: [], overrides: [], devices: [], multipaths: [], blacklistOther: [] };
  const files = [path];
  if (confDir) {
    try {
      files.push(...readdirSync(confDir).filter((f) => f.endsWith(".conf")).sort().map((f) => join(confDir, f)));
    } catch {
      /* no config_dir */
    }
  }
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      if (file === path) throw e;
      continue;
    }
    mp.files.push(file);
    const { nodes, ignored } = parseMultipathSyntax(text);
    mp.ignored.push(...ignored.map((i) => ({ file, ...i })));
    for (const [name, list] of [["blacklist", mp.blacklist], ["blacklist_exceptions", mp.exceptions]] as const) {
      for (const s of sections(nodes, name))
        for (const d of settings(s.children, "devnode")) if (d.words[1] !== undefined) list.push({ regex: d.words[1], file, line: d.line, test: compileRegex(d.words[1]) });
    }
    const flat = (nodes: Node[] | undefined): Setting[] => (nodes ?? []).filter((n) => !n.children && n.words[1] !== undefined).map((n) => ({ key: n.words[0]!, value: n.words[1]!, file, line: n.line }));
    for (const s of sections(nodes, "defaults")) mp.defaults.push(...flat(s.children));
    for (const s of sections(nodes, "overrides")) mp.overrides.push(...flat(s.children));
    for (const [outer, inner, list] of [["devices", "device", mp.devices], ["multipaths", "multipath", mp.multipaths]] as const)
      for (const s of sections(nodes, outer)) for (const e of sections(s.children, inner)) list.push({ file, line: e.line, settings: flat(e.children) });
    for (const s of sections(nodes, "blacklist")) {
      for (const n of s.children ?? []) {
        const kind = n.words[0]!;
        if (kind === "devnode") continue;
        if (n.children) {
          if (kind === "device") mp.blacklistOther.push({ kind, value: flat(n.children).map((x) => `${x.key} "${x.value}"`).join(" "), file, line: n.line });
        } else if (n.words[1] !== undefined) mp.blacklistOther.push({ kind, value: n.words[1], file, line: n.line });
      }
    }
  }
  return mp;
}

/** How multipath treats a device node name: excepted (claimed), blacklisted, or neither. */
export function classify(mp: Multipath, dev: string, withDefault: boolean): { state: "excepted" | "blacklisted" | "none"; by?: Entry } {
  const ex = mp.exceptions.find((e) => e.test?.(dev));
  if (ex) return { state: "excepted", by: ex };
  const bl = mp.blacklist.find((e) => e.test?.(dev));
  if (bl) return { state: "blacklisted", by: bl };
  if (withDefault && compileRegex(DEFAULT_DEVNODE_BLACKLIST)!(dev)) return { state: "blacklisted", by: { regex: DEFAULT_DEVNODE_BLACKLIST, file: "(built-in default)", line: 0 } };
  return { state: "none" };
}
