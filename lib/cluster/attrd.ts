// pacemaker-attrd through attrd_updater, and the cluster's members through crm_node. A private
// attribute (-p) lives in the memory of every node's attrd and is never written to the CIB: no
// CIB write, no transition. When a node is lost, attrd forgets the values *of* that node, so a
// value meant to outlive a node is stored for the other nodes (lib/net/takeover.ts).

import type { Runner } from "../system/run.js";

const TIMEOUT_MS = 5000;

export class Attrd {
  constructor(private readonly run: Runner) {}

  /** Set a private attribute of `node`; false when attrd did not take it. */
  setPrivate(name: string, value: string, node: string): boolean {
    return this.run.run("attrd_updater", ["-p", "-n", name, "-N", node, "-U", value], { timeoutMs: TIMEOUT_MS }).code === 0;
  }

  /** The value attrd holds for `node` (this node when omitted); undefined when unset or attrd is unreachable. */
  query(name: string, node?: string): string | undefined {
    const r = this.run.run("attrd_updater", ["-Q", "-n", name, ...(node ? ["-N", node] : [])], { timeoutMs: TIMEOUT_MS });
    if (r.code !== 0) return undefined;
    return parseQuery(r.stdout);
  }
}

/** attrd_updater -Q's answer: name="N" host="H" value="V" (text), or the same attributes in XML. */
export function parseQuery(out: string): string | undefined {
  const m = /\bvalue="([^"]*)"/.exec(out);
  if (!m) return undefined;
  return m[1]!.replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&apos;/g, "'").replace(/&amp;/g, "&");
}

/** The cluster's nodes, past and present (crm_node -l: "ID NAME STATE" per line); [] when unknown. */
export function clusterNodes(run: Runner): string[] {
  const r = run.run("crm_node", ["-l"], { timeoutMs: TIMEOUT_MS });
  if (r.code !== 0) return [];
  return parseNodes(r.stdout);
}

export function parseNodes(out: string): string[] {
  const nodes: string[] = [];
  for (const line of out.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 2 && /^\d+$/.test(f[0]!) && f[1]) nodes.push(f[1]);
  }
  return nodes;
}
