// IPaddr2: ours vs ocf:heartbeat:IPaddr2, same namespace, same addresses, one run.
// Also the scale case: CPU per second for 64 addresses each monitored every 10 s.
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ROOT, TMP, compare, ocfEnv, once, save, type Cmd, type Row } from "./lib.js";

const OURS = join(ROOT, "build/agents/IPaddr2");
const UP = "/usr/lib/ocf/resource.d/heartbeat/IPaddr2";
const NS = "tsvbench";
const NIC = "tsvbench0";

const ip = (...a: string[]) => spawnSync("ip", a, { encoding: "utf8" });
ip("netns", "del", NS);
ip("netns", "add", NS);
ip("-n", NS, "link", "add", NIC, "type", "veth", "peer", "name", "tsvbench1");
ip("-n", NS, "link", "set", NIC, "up");
ip("-n", NS, "link", "set", "tsvbench1", "up");
ip("-n", NS, "link", "set", "lo", "up");
ip("-n", NS, "addr", "add", "10.245.0.1/24", "dev", NIC);
const rsc = join(TMP, "ipaddr2-rsc");
rmSync(rsc, { recursive: true, force: true });
mkdirSync(rsc, { recursive: true });

try {
  const rows: Row[] = [];
  // arp_count=0 on both sides for start/stop: we time the agents, not ARP bursts
  const params = { ip: "10.245.0.50", arp_count: "1" };
  const c = (bin: string, action: string, extra: Record<string, string> = {}, p: Record<string, string> = params): Cmd => ({
    argv: [bin, action],
    env: ocfEnv("IPaddr2", p, { HA_RSCTMP: rsc, ...extra }),
    netns: NS,
  });
  const rec = { OCF_RESKEY_CRM_meta_interval: "10000" };
  const both = (action: string, scenario: string, extra: Record<string, string> = {}, goal?: number) =>
    rows.push(compare("IPaddr2", action, scenario, c(UP, action, extra), c(OURS, action, extra), { goal }));
  /** Each side in its own state: `before` runs once before, `prepare` before every timed run, `after` once after. */
  const sided = (action: string, scenario: string, goal: number, s: { before?: string; prepare?: string; after?: string; extra?: Record<string, string> }) => {
    const m = (bin: string) => {
      if (s.before) once(c(bin, s.before));
      const r = compare("IPaddr2", action, scenario, undefined, c(bin, action, s.extra), { prepare: s.prepare ? c(bin, s.prepare) : undefined, runs: 20 });
      if (s.after) once(c(bin, s.after));
      return r.ours;
    };
    const upstream = m(UP);
    const ours = m(OURS);
    const row: Row = { agent: "IPaddr2", action, scenario, upstream, ours, ratio: Math.round((ours.median_ms / upstream.median_ms) * 1000) / 1000, goal };
    console.log(`IPaddr2 ${action} [${scenario}]: ${upstream.median_ms} -> ${ours.median_ms} ms, ratio ${row.ratio}`);
    rows.push(row);
  };

  rows.push(compare("IPaddr2", "meta-data", "", { argv: [UP, "meta-data"], env: ocfEnv("IPaddr2", {}) }, { argv: [OURS, "meta-data"], env: ocfEnv("IPaddr2", {}) }, { goal: 1 }));
  both("validate-all", "nic/netmask discovery");
  both("monitor", "probe, address absent", {}, 0.3);
  both("monitor", "recurring, address absent", rec, 0.3);
  sided("monitor", "recurring, address present", 0.3, { before: "start", after: "stop", extra: rec });
  sided("start", "discovery, 1 ARP", 0.5, { prepare: "stop", after: "stop" });
  sided("stop", "address present", 0.5, { prepare: "start" });
  save("ipaddr2", rows, ["In network namespace tsvbench (veth, 10.245.0.0/24); arp_count=1; hyperfine runs inside the namespace."]);
} finally {
  ip("netns", "del", NS);
  rmSync(rsc, { recursive: true, force: true });
}
