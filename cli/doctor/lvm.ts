// lvm.conf(5) / lvmlocal.conf: whether LVM commands use lvmlockd, and the device filters.
import { readFileSync } from "node:fs";
import { ConfError, parseLvmSyntax, sections, settings, type Node } from "./conf.js";

export interface LvmConf {
  path: string;
  /** global/use_lvmlockd (LVM's default is 0) */
  useLvmlockd: boolean;
  /** devices/use_devicesfile: with 1, LVM uses only the PVs listed in the devices file */
  useDevicesfile: boolean;
  /** devices/filter and devices/global_filter patterns ("a|re|" / "r|re|") */
  filter: string[];
  globalFilter: string[];
}

function settingsIn(nodes: Node[], section: string, key: string): string[] | undefined {
  const s = sections(nodes, section).flatMap((x) => settings(x.children, key));
  return s.length ? s[s.length - 1]!.words.slice(1) : undefined;
}

export function readLvmConf(path: string): LvmConf {
  let nodes;
  try {
    nodes = parseLvmSyntax(readFileSync(path, "utf8"));
  } catch (e) {
    throw e instanceof ConfError ? new ConfError(`${path}: ${e.message}`) : e;
  }
  return {
    path,
    useLvmlockd: settingsIn(nodes, "global", "use_lvmlockd")?.[0] === "1",
    useDevicesfile: settingsIn(nodes, "devices", "use_devicesfile")?.[0] === "1",
    filter: settingsIn(nodes, "devices", "filter") ?? [],
    globalFilter: settingsIn(nodes, "devices", "global_filter") ?? [],
  };
}

/**
 * Whether LVM's filters accept a device path: the first pattern that matches decides
 * ("a|re|" accepts, "r|re|" rejects), a path no pattern matches is accepted (lvm.conf(5)).
 * The delimiter is the character after a/r. Symlink names are not resolved here.
 */
export function lvmAccepts(patterns: string[], dev: string): boolean {
  for (const p of patterns) {
    const m = /^([ar])(.)(.*)\2$/.exec(p);
    if (!m) continue;
    let re: RegExp;
    try {
      re = new RegExp(m[3]!);
    } catch {
      continue;
    }
    if (re.test(dev)) return m[1] === "a";
  }
  return true;
}
