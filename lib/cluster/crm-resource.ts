// Adapter for Pacemaker's crm_resource, as far as agents need it.

import type { Runner } from "../system/run.js";

export interface Location {
  node: string;
  promoted: boolean;
}

/**
 * `crm_resource --resource RSC --locate`: where Pacemaker runs a resource. Text lines are
 * "resource RSC is running on: NODE[ Promoted]" (Pacemaker >= 2.1; " Master" before). An empty
 * list when it runs nowhere or the cluster cannot be asked.
 */
export function parseLocate(text: string): Location[] {
  const out: Location[] = [];
  for (const line of text.split("\n")) {
    const m = /is running on: (\S+)( (Promoted|Master))?\s*$/.exec(line.trim());
    if (m) out.push({ node: m[1]!, promoted: m[2] !== undefined });
  }
  return out;
}

export function locate(run: Runner, resource: string): Location[] {
  const r = run.run("crm_resource", ["--resource", resource, "--locate"], { timeoutMs: 15000 });
  return r.code === 0 ? parseLocate(r.stdout) : [];
}
