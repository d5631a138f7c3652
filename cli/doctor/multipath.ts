// multipath.conf(5) blacklist evaluation, as multipath-tools does it: devnode regexes (POSIX
// extended, "!" inverts) of the config file and config_dir (/etc/multipath/conf.d/*.conf), plus
// the built-in default blacklist; blacklist_exceptions win over the blacklist.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseMultipathSyntax, sections, settings } from "./conf.js";

/** multipath-tools' built-in devnode blacklist (libmultipath/blacklist.c, since 0.8.x). */
export const DEFAULT_DEVNODE_BLACKLIST = "!^(sd[a-z]|dasd[a-z]|nvme[0-9])";

export interface Multipath {
  files: string[];
  blacklist: Entry[];
  exceptions: Entry[];
  /** lines whose data multipath ignores (a section opened and filled on one line) */
  ignored: Array<{ file: string; line: number; text: string; ignored: string }>;
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
  const mp: Multipath = { files: [], blacklist: [], exceptions: [], ignored: [] };
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
