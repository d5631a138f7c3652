// Leftovers of rigs whose owner died without teardown (SIGKILL, a crashed runner, a session
// stopped mid-test): kill their processes by PID, delete their tsr* namespaces and state dirs.
//   bun test/rig/cleanup.ts          rigs whose owner process is gone, and unclaimed tsr* namespaces
//   bun test/rig/cleanup.ts --all    every tsr* rig, even one a live process still owns
import { pidAlive } from "./exec.js";
import { NETNS_RE, destroyNetns, netnsList, readClaims } from "./net.js";
import { cleanupClaim } from "./rig.js";

export interface CleanupReport {
  rigs: string[];
  namespaces: string[];
  skipped: string[];
}

export function cleanupLeftovers(o: { all?: boolean } = {}): CleanupReport {
  const report: CleanupReport = { rigs: [], namespaces: [], skipped: [] };
  const liveOwned = new Set<string>();
  for (const c of readClaims()) {
    if (!o.all && pidAlive(c.owner)) {
      report.skipped.push(c.prefix);
      liveOwned.add(c.prefix);
      continue;
    }
    cleanupClaim(c);
    report.rigs.push(c.prefix);
  }
  // namespaces no claim names (claim file lost): ours by name, unless a live rig owns the prefix
  for (const ns of netnsList()) {
    if (!NETNS_RE.test(ns)) continue;
    if (liveOwned.has(ns.slice(0, ns.indexOf("-")))) continue;
    destroyNetns(ns);
    report.namespaces.push(ns);
  }
  return report;
}

const invoked = process.argv[1] ?? "";
if (/cleanup\.(ts|js)$/.test(invoked)) {
  const r = cleanupLeftovers({ all: process.argv.includes("--all") });
  console.log(`rigs cleaned: ${r.rigs.join(" ") || "none"}; namespaces deleted: ${r.namespaces.join(" ") || "none"}${r.skipped.length ? `; left alone (owner alive, use --all): ${r.skipped.join(" ")}` : ""}`);
}
