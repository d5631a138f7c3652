// The corosync cluster name, which a GFS2 lock table ("cluster:fsname") must name: lock_dlm
// refuses to mount otherwise, with a kernel log line few operators find.
//
// The running value comes from `corosync-cmapctl -g totem.cluster_name` (prints
// `totem.cluster_name (str) = NAME`); when corosync does not answer, corosync.conf's
// `totem { cluster_name: NAME }` is read instead (what corosync will use when it starts).

import { readFileSync } from "node:fs";
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

/** cluster_name inside the top-level totem { } section of corosync.conf. */
export function parseCorosyncConfClusterName(text: string): string | undefined {
  const stack: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") continue;
    const open = /^([A-Za-z0-9_.-]+)\s*\{$/.exec(line);
    if (open) {
      stack.push(open[1]!);
      continue;
    }
    if (line === "}") {
      stack.pop();
      continue;
    }
    const kv = /^([A-Za-z0-9_.-]+)\s*:\s*(.*)$/.exec(line);
    if (kv && kv[1] === "cluster_name" && stack.length === 1 && stack[0] === "totem") return kv[2]!.trim();
  }
  return undefined;
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
