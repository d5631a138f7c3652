// Stack files (`tsstor stack apply FILE`, cli/stack/) on the live rig, for stackfile.test.ts: a
// DRBD simulator holding several DRBD resources (rigDrbd in drbd.ts makes one), a `kind: failover`
// stack file fenced by the rig's own fence agent, the built `tsstor` run inside a node (so pcs
// talks to that node's cluster), and a wait for the whole stack on one node.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUILD } from "../lib/harness.js";
import type { ExecResult } from "./exec.js";
import type { RigDrbd } from "./drbd.js";
import { where, type CrmStatus, type Rig } from "./rig.js";

/** What the rig uses of test/drbd/sim.ts's Sim (as in drbd.ts). */
interface SimLike {
  dir: string;
  bin: string;
  conf: string;
  ctl(...args: string[]): string;
}

// loaded by path, as drbd.ts does, so this file builds without the simulator
const SIM = "../drbd/sim.js";

/**
 * One simulated DRBD "kernel" per node holding every resource in `resources`, each a DRBD 9
 * resource on every node (a full mesh: no connection sections) with one volume, UpToDate
 * everywhere, and fencing as a stack with node fencing wants it (`fencing resource-and-stonith`
 * and the crm-fence-peer.9 handlers: the stack checks this; the simulator does not run handlers).
 * Minors from 36 up, clear of rigDrbd's 33 and the DRBD helper's tests.
 */
export async function rigDrbdResources(nodes: string[], resources: string[]): Promise<RigDrbd & { resources: string[] }> {
  const { makeSim } = (await import(SIM)) as { makeSim: (o: Record<string, unknown>) => SimLike };
  const sim = makeSim({ nodes, res: resources[0], minor: 36, shims: false, prefix: "rig-stackfile" });
  const conf = resources
    .map((res, r) => {
      const ons = nodes.map((n, i) => `  on ${n} { node-id ${i}; address 10.232.0.${i + 1}:${7789 + r}; }`).join("\n");
      return `resource ${res} {
  net { protocol C; fencing resource-and-stonith; }
  handlers { fence-peer "/usr/lib/drbd/crm-fence-peer.9.sh"; unfence-peer "/usr/lib/drbd/crm-unfence-peer.9.sh"; }
  volume 0 {
    device "${join(sim.dir, "dev", `drbd${36 + r}`)}" minor ${36 + r};
    disk "/dev/fake-backing";
    meta-disk internal;
  }
${ons}
}
`;
    })
    .join("");
  writeFileSync(sim.conf, `# written by test/rig/stackfile.ts\n${conf}`);
  for (const res of resources.slice(1)) for (const n of nodes) sim.ctl("md", n, res, "0", "UpToDate", "1");
  return {
    sim,
    res: resources[0]!,
    resources,
    env: (n) => ({ PATH: `${sim.bin}:/usr/sbin:/usr/bin:/sbin:/bin`, TSSTOR_DRBD_SIM_DIR: sim.dir, TSSTOR_PROC_ROOT: join(sim.dir, "proc", n) }),
    crash: (n) => {
      sim.ctl("crash", n);
    },
    boot: (n) => {
      sim.ctl("load", n);
    },
  };
}

/** DRBD roles as the simulated kernels have them: the nodes where `res` is Primary. */
export function simPrimaries(drbd: RigDrbd, res: string): string[] {
  const s = JSON.parse(drbd.sim.ctl("dump")) as { nodes: Record<string, { resources: Record<string, { role: string }> }> };
  return Object.entries(s.nodes)
    .filter(([, n]) => n.resources[res]?.role === "Primary")
    .map(([name]) => name)
    .sort();
}

export interface StackFileOptions {
  name: string;
  nodes: string[];
  /** the rig's power switch socket (rig.power.path) */
  socket: string;
  drbdconf: string;
  drbd: string[];
  cloneMax?: number;
  fs: { device: string; directory: string };
  iqn: string;
  initiator: string;
  luns: Array<{ lun: number; path: string }>;
  vip: string;
}

/**
 * A `kind: failover` stack file: the DRBD resources, ext4, one tgt target with its LUNs and the
 * VIP as one group, fenced by the rig's fence agent (fence_tsstor_rig, a power switch for the
 * namespaces) as one device for every node (fence-host-map; the plug is the node's name). A fenced
 * node stays off (pcmk_reboot_action=off, as the rig's own device); pcmk_delay_max is 1 s instead
 * of the stack's 15 s for two nodes (the race it prevents is a link cut; this test kills nodes).
 */
export function stackYaml(o: StackFileOptions): string {
  const list = (xs: string[]) => `[${xs.join(", ")}]`;
  return `# ${o.name}: written by test/rig/stackfile.ts for the live rig
kind: failover
name: ${o.name}
fencing:
  method: agent
  fence-agent: fence_tsstor_rig
  fence-param: ${list([`socket=${o.socket}`, "pcmk_reboot_action=off", "pcmk_delay_max=1s"])}
  fence-host-map: ${list(o.nodes.map((n) => `${n}:${n}`))}
drbd:
${o.drbd.map((r) => `  - resource: ${r}\n    drbdconf: ${o.drbdconf}${o.cloneMax ? `\n    clone-max: ${o.cloneMax}` : ""}`).join("\n")}
filesystems:
  - device: ${o.fs.device}        # stands in for DRBD ${o.drbd[0]}'s device: the simulator has no I/O
    directory: ${o.fs.directory}
    fstype: ext4
targets:
  - iqn: ${o.iqn}
    implementation: tgt
    tid: 1
    initiators: [${o.initiator}]
    luns:
${o.luns.map((l) => `      - lun: ${l.lun}\n        path: ${l.path}`).join("\n")}
ips:
  - address: ${o.vip}/24
    nic: eth1
`;
}

/** The resource ids the failover stack makes from a stack file as stackYaml writes it. */
export function stackIds(name: string, drbd: string[], directory: string, iqn: string, vip: string) {
  const tail = /:([^:]+)$/.exec(iqn)?.[1] ?? iqn;
  const target = `${name}-target-${tail}`;
  return {
    group: `${name}-group`,
    clones: drbd.map((r) => `${name}-drbd-${r}-clone`),
    fs: `${name}-fs-${directory.replace(/\/+$/, "").split("/").pop()}`,
    target,
    lun: (n: number) => `${target}-lun${n}`,
    ip: `${name}-ip-${vip}`,
    /** the stack's fence device (one for every node: fence-host-map) */
    fence: "fence-tsstor_rig",
    tag: `tsstor-${name}`,
  };
}

/** The built `tsstor` inside a node: pcs and crm_* talk to that node's cluster. `log` gets its duration. */
export async function tsstor(rig: Rig, node: string, args: string[], log: (m: string) => void = () => {}): Promise<ExecResult> {
  const t0 = Date.now();
  const r = await rig.node(node).run(join(BUILD, "tsstor"), args, { timeoutMs: 180_000 });
  log(`tsstor ${args.slice(0, 2).join(" ")} on ${node}: exit ${r.code} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return r;
}

export const tsstorBuilt = (): boolean => existsSync(join(BUILD, "tsstor"));

/**
 * The node where every DRBD clone is Promoted and every group member runs, with the clones
 * Unpromoted on `unpromoted` other nodes; undefined while it is not so.
 */
export function stackNode(s: CrmStatus, clones: string[], members: string[], unpromoted: number): string | undefined {
  const p = where(s, clones[0]!, "Promoted");
  if (p.length !== 1) return undefined;
  for (const c of clones) if (where(s, c, "Promoted").join() !== p[0] || where(s, c, "Unpromoted").length !== unpromoted) return undefined;
  return members.every((m) => where(s, m).join() === p[0]) ? p[0] : undefined;
}

/**
 * Wait until the stack runs on one node (status seen from `on`) and the VIP answers ARP from that
 * node's MAC; returns the node.
 */
export async function waitStack(rig: Rig, o: { clones: string[]; members: string[]; unpromoted: number; vip: string; on?: string; timeoutMs?: number }): Promise<string> {
  const end = Date.now() + (o.timeoutMs ?? 120_000);
  for (;;) {
    const node = await rig.waitFor("the stack on one node", (s) => stackNode(s, o.clones, o.members, o.unpromoted), { on: o.on, timeoutMs: Math.max(1_000, end - Date.now()) });
    if ((await rig.waitArp(o.vip, rig.mac(node), { timeoutMs: 3_000 })) !== undefined) return node;
    if (Date.now() > end) throw new Error(`the status says the stack runs on ${node} but ${o.vip} does not answer from it`);
  }
}
