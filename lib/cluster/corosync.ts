// The corosync cluster name, which a GFS2 lock table ("cluster:fsname") must name: lock_dlm
// refuses to mount otherwise, with a kernel log line few operators find.
//
// The running value comes from `corosync-cmapctl -g totem.cluster_name` (prints
// `totem.cluster_name (str) = NAME`); when corosync does not answer, corosync.conf's
// `totem { cluster_name: NAME }` is read instead (what corosync will use when it starts).

import { readFileSync } from "node:fs";
import { ConfError, sections, value, type Node } from "../system/conf-tree.js";
import type { Runner } from "../system/run.js";

export const COROSYNC_CONF = "/etc/corosync/corosync.conf";

/** `KEY (TYPE) = VALUE` lines of corosync-cmapctl. */
export function parseCmapValue(text: string, key: string): string | undefined {
  for (const line of text.split("\n")) {
    const m = /^(\S+) \(([a-z0-9]+)\) = (.*)$/.exec(line);
    if (m && m[1] === key) return m[3];
  }
  return undefined;
}

/**
 * corosync.conf(5): `name {` ... `}` and `key: value`, one per line, `#` comments. The one parser
 * of this format (the cluster name here, and `tsstor doctor`'s quorum, nodes and timeouts).
 */
export function parseCorosyncConf(text: string): Node[] {
  const root: Node[] = [];
  const stack: Node[][] = [root];
  text.split("\n").forEach((raw, n) => {
    const l = raw.replace(/#.*$/, "").trim();
    if (!l) return;
    if (l === "}") {
      if (stack.length === 1) throw new ConfError(`line ${n + 1}: unbalanced "}"`);
      stack.pop();
      return;
    }
    const open = /^([^\s{:]+)\s*\{$/.exec(l);
    if (open) {
      const sec: Node = { words: [open[1]!], children: [], line: n + 1 };
      stack[stack.length - 1]!.push(sec);
      stack.push(sec.children!);
      return;
    }
    const i = l.indexOf(":");
    if (i < 0) throw new ConfError(`line ${n + 1}: "${l}" is not "key: value"`);
    stack[stack.length - 1]!.push({ words: [l.slice(0, i).trim(), l.slice(i + 1).trim()], line: n + 1 });
  });
  if (stack.length !== 1) throw new ConfError("unexpected end of file: a section is not closed");
  return root;
}

/** cluster_name of the totem section (the last one written wins, as corosync reads it); undefined if absent or unparsable. */
export function parseCorosyncConfClusterName(text: string): string | undefined {
  try {
    return value(sections(parseCorosyncConf(text), "totem").flatMap((s) => s.children!), "cluster_name");
  } catch (e) {
    if (e instanceof ConfError) return undefined;
    throw e;
  }
}

export interface ClusterName {
  name: string | undefined;
  /** where it came from, for messages */
  source: string;
}

export function clusterName(run: Runner, confPath = COROSYNC_CONF): ClusterName {
  const r = run.run("corosync-cmapctl", ["-g", "totem.cluster_name"], { timeoutMs: 10000 });
  if (r.code === 0) {
    const v = parseCmapValue(r.stdout, "totem.cluster_name");
    if (v !== undefined) return { name: v, source: "corosync-cmapctl" };
  }
  try {
    return { name: parseCorosyncConfClusterName(readFileSync(confPath, "utf8")), source: confPath };
  } catch {
    return { name: undefined, source: r.missing ? "corosync-cmapctl (not installed)" : "corosync-cmapctl" };
  }
}
