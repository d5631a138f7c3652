// The nemesis: a bounded, seeded sequence of faults against a stack on the live rig, while a
// client writes through the VIP over iSCSI and records every acknowledged write. Two stacks:
// - iscsi: DRBD promotable -> target -> LUN (the block device) -> VIP (`tsstor stack iscsi`);
// - drbd-fs: DRBD promotable -> ext4 -> VIP -> service (`tsstor stack drbd-fs`), the service
//   being an iSCSI target whose LUN is a file on that filesystem (one LU added to the group).
// Checked all the time: never two DRBD Primaries, never two nodes answering ARP for the VIP, and
// for drbd-fs never the filesystem mounted on two nodes (a split brain: two writers); at the end
// of every cycle: the stack converges (one Promoted, the rest started with it, every node back)
// within a bound; at the end: every acknowledged write reads back.
//
// Faults: cluster-link partition, replication-link partition (DRBD's link, in the simulator),
// client-link partition, hard kill, SIGSTOP of corosync past the token timeout, SIGKILL of
// pacemaker-execd, orderly restart and rejoin. With fencing (the rig's power switch) a fenced
// node stays off until the cycle's heal powers it on; without fencing (the control) a cluster
// partition must show the split brain.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { drbdFsStack, iscsiStack, type Plan } from "../../cli/stacks.js";
import { BLOCK, backingFile, INITIATOR, IQN, IscsiClient, IscsiSession, rigIscsiOptions, waitDeployed, type Deployed } from "../rig/iscsi.js";
import { rigDrbd, type RigDrbd } from "../rig/drbd.js";
import { startRig, where, type CrmStatus, type Rig } from "../rig/rig.js";
import { must, sleep } from "../rig/exec.js";
import { installAgents } from "../lib/install.js";
import { planAgents } from "../stack/agents.js";

export const FAULTS = ["cluster-partition", "replication-partition", "client-partition", "hard-kill", "corosync-stop", "execd-kill", "restart"] as const;
export type Fault = (typeof FAULTS)[number];

export interface FaultStats {
  cycles: number;
  /** cycles after which the Promoted node changed */
  failovers: number;
  fencings: number;
  /** longest gap between acknowledged writes that began in a cycle of this kind (ms) */
  longestStallMs: number;
  violations: number;
}

export interface NemesisResult {
  cycles: number;
  splitBrains: number;
  lostWrites: number;
  acked: number;
  /** the read-back, asked for a pattern the block does not hold, reports it (the check works) */
  verifierBites?: boolean;
  /** iSCSI sessions the writer used: 1 when libiscsi's own re-logins carried it through every fault */
  sessions: number;
  perFault: Record<Fault, FaultStats>;
  /** what was seen, one line each (violations, convergence times) */
  log: string[];
  /** the longest convergence after a heal (ms) */
  maxConvergeMs: number;
}

export type NemesisStack = "iscsi" | "drbd-fs";

export interface NemesisOptions {
  /** the stack under test (default iscsi) */
  stack?: NemesisStack;
  cycles: number;
  seed: number;
  fencing: boolean;
  /** faults to draw from (default all) */
  faults?: readonly Fault[];
  /** bound on convergence after a heal (ms) */
  convergeMs?: number;
  log?: (m: string) => void;
  /** a directory for the LUN's backing file (readable by every node) */
  dir: string;
}

/** mulberry32: small, seeded, reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** distinct blocks written before the writer wraps around (1 GiB sparse backing file) */
const BLOCKS = 16384;

/** What the checks look at, per stack: the promotable clone, what runs with it, the target. */
interface UnderTest {
  promoted: string;
  services: string[];
  target: string;
  /** drbd-fs: the mount point (mounted on two nodes = two writers) and its loop device */
  mount?: { dir: string; loop: string };
}
const UNDER_TEST: Record<NemesisStack, UnderTest> = {
  iscsi: { promoted: "iscsi-drbd-clone", services: ["iscsi-target", "iscsi-lun1", "iscsi-ip1"], target: "iscsi-target" },
  "drbd-fs": { promoted: "data-drbd-clone", services: ["data-fs", "data-ip", "data-service", "data-lun1"], target: "data-service" },
};

export class Nemesis {
  readonly res: NemesisResult;
  private readonly rand: () => number;
  private rig!: Rig;
  private drbd!: RigDrbd;
  private d!: Deployed;
  private client!: IscsiClient;
  private session!: IscsiSession;
  private stopWriter = false;
  private writer: Promise<void> | undefined;
  private lastAck = 0;
  private current: Fault | undefined;
  private splitSeen = false;
  private watching = false;
  private watcher: Promise<void> | undefined;
  private readonly log: (m: string) => void;
  private ut: UnderTest;

  constructor(readonly o: NemesisOptions) {
    this.rand = rng(o.seed);
    this.log = o.log ?? (() => {});
    this.ut = { ...UNDER_TEST[o.stack ?? "iscsi"] };
    const perFault = Object.fromEntries(FAULTS.map((f) => [f, { cycles: 0, failovers: 0, fencings: 0, longestStallMs: 0, violations: 0 }])) as Record<Fault, FaultStats>;
    this.res = { cycles: 0, splitBrains: 0, lostWrites: 0, acked: 0, sessions: 0, perFault, log: [], maxConvergeMs: 0 };
  }

  private note(m: string): void {
    this.res.log.push(m);
    this.log(m);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)]!;
  }

  async setup(): Promise<void> {
    const drbdFs = this.o.stack === "drbd-fs";
    const backing = drbdFs ? this.drbdFsDisk() : backingFile(this.o.dir, (BLOCKS * BLOCK) >> 20);
    this.drbd = await rigDrbd();
    const drbd = this.drbd;
    this.rig = await startRig({
      nodes: 2,
      clients: 1,
      boot: [["tgtd", "-f"]],
      env: drbd.env,
      fencing: this.o.fencing ? { onPowerOff: (n) => drbd.crash(n), onPowerOn: (n) => drbd.boot(n) } : false,
      log: (m) => this.log(m),
    });
    // fencing is the rig's (its fence device, set up before the stack): the stack keeps it as it is
    const plan = drbdFs ? this.drbdFsPlan(backing) : iscsiStack(rigIscsiOptions(this.rig, { backing, drbdResource: drbd.res, drbdconf: drbd.sim.conf }), { method: "none" });
    installAgents(planAgents(plan));
    await this.rig.applyPcs(plan.commands);
    this.d = await waitDeployed(this.rig, plan, 90_000, drbdFs ? { ip: "data-ip", lun: "data-lun1" } : undefined);
    this.client = new IscsiClient(this.rig, this.d.vip, this.d.lun);
    this.session = new IscsiSession(this.rig, this.d.vip, this.d.lun);
  }

  /**
   * drbd-fs: ext4 on a loop device (what the DRBD device holds on both nodes, as in the live
   * drbd-fs test) with the LUN's file made on it before the cluster mounts it; returns that file's
   * path under the mount point.
   */
  private drbdFsDisk(): string {
    const img = join(this.o.dir, "fs.img");
    const mk = join(this.o.dir, "mk");
    const dir = join(this.o.dir, "mnt");
    mkdirSync(mk, { recursive: true });
    mkdirSync(dir, { recursive: true });
    must("truncate", ["-s", `${((BLOCKS * BLOCK) >> 20) + 256}M`, img]);
    must("mkfs.ext4", ["-q", "-F", img]);
    const loop = must("losetup", ["-f", "--show", img]).trim();
    this.ut.mount = { dir, loop };
    must("mount", [loop, mk]);
    try {
      must("truncate", ["-s", `${(BLOCKS * BLOCK) >> 20}M`, join(mk, "lun1.img")]);
    } finally {
      must("umount", [mk]);
    }
    return join(dir, "lun1.img");
  }

  /** `tsstor stack drbd-fs` with an iSCSI target as its service, and the LU the operator adds to its group. */
  private drbdFsPlan(lunFile: string): Plan {
    const m = this.ut.mount!;
    const plan = drbdFsStack(
      {
        prefix: "data", drbdResource: this.drbd.res, drbdconf: this.drbd.sim.conf, device: m.loop, directory: m.dir, fstype: "ext4",
        ip: `${this.rig.vip()}/${this.rig.serviceCidr}`, service: "ocf:tsstor:iSCSITarget",
        serviceParams: [`iqn=${IQN}`, "implementation=tgt", "tid=1", `allowed_initiators=${INITIATOR}`],
      },
      { method: "none" },
    );
    const lu = ["resource", "create", "data-lun1", "ocf:tsstor:iSCSILogicalUnit", `target_iqn=${IQN}`, "lun=1", `path=${lunFile}`, `allowed_initiators=${INITIATOR}`, "implementation=tgt", "op", "monitor", "interval=20s", "--group", "data-group"];
    return { ...plan, commands: [...plan.commands, lu], resources: [...plan.resources, "data-lun1"] };
  }

  /** drbd-fs: the nodes (up) whose mount namespace has the filesystem mounted. */
  private mountedOn(): string[] {
    const m = this.ut.mount;
    if (!m) return [];
    return this.rig.nodes
      .filter((n) => n.up && n.initPid)
      .filter((n) => {
        try {
          return readFileSync(`/proc/${n.initPid}/mounts`, "utf8").includes(` ${m.dir} `);
        } catch {
          return false; // the node died meanwhile
        }
      })
      .map((n) => n.name);
  }

  async teardown(): Promise<void> {
    this.stopWriter = true;
    this.watching = false;
    await this.writer;
    await this.watcher;
    this.session?.close();
    await this.rig?.stop(); // the nodes' mount namespaces die with them, releasing the mount
    if (this.ut.mount) spawnSync("losetup", ["-d", this.ut.mount.loop]);
  }

  // ---- the client and the watcher ----

  /** each block's last acknowledged pattern */
  private last = new Map<number, number>();
  /** a block whose last write was not acknowledged when the writer stopped: it may hold either pattern */
  private unsure: number | undefined;
  private startWriter(): void {
    let n = 0;
    this.lastAck = Date.now();
    this.writer = (async () => {
      while (!this.stopWriter) {
        const b = n % BLOCKS;
        const p = IscsiClient.pattern(b, Math.floor(n / BLOCKS));
        const t0 = Date.now();
        // one session for the whole run, as an application holds it (a command stuck 20 s replaces
        // it); a write not acknowledged is retried as it was, so a block never holds a pattern
        // other than its last acknowledged one or the one being retried
        if (await this.session.write(b, p, 20_000)) {
          const gap = Date.now() - this.lastAck;
          if (this.current) {
            const st = this.res.perFault[this.current];
            st.longestStallMs = Math.max(st.longestStallMs, gap);
          }
          this.lastAck = Date.now();
          this.last.set(b, p);
          this.res.acked++;
          this.unsure = undefined;
          n++;
        } else {
          this.unsure = b;
          if (Date.now() - t0 < 500) await sleep(200);
        }
      }
    })();
  }

  /** DRBD roles as the simulated kernels have them: the nodes that are Primary. */
  private primaries(): string[] {
    const s = JSON.parse(this.drbd.sim.ctl("dump")) as { nodes: Record<string, { resources: Record<string, { role: string }> }> };
    return Object.entries(s.nodes)
      .filter(([, n]) => n.resources[this.drbd.res]?.role === "Primary")
      .map(([name]) => name);
  }

  private startWatcher(): void {
    this.watching = true;
    this.watcher = (async () => {
      while (this.watching) {
        const p = this.primaries().filter((n) => this.rig.node(n).up);
        const owners = await this.rig.arpOwners(this.d.vip, 0, 1);
        const mounted = this.mountedOn();
        if (p.length > 1 || owners.length > 1 || mounted.length > 1) {
          if (!this.splitSeen) {
            this.splitSeen = true;
            this.note(`split brain during ${this.current}: Primary on ${p.join(",") || "-"}, ${owners.length} nodes answer ARP for ${this.d.vip}${this.ut.mount ? `, mounted on ${mounted.join(",") || "-"}` : ""}`);
          }
        }
        await sleep(200);
      }
    })();
  }

  // ---- faults ----

  private promoted(): Promise<string | undefined> {
    return this.rig.status().then(
      (s) => where(s, this.ut.promoted, "Promoted")[0],
      () => undefined,
    );
  }

  private async inject(f: Fault, active: string, other: string): Promise<void> {
    const r = this.rig;
    const hold = 2000 + Math.floor(this.rand() * 4000);
    switch (f) {
      case "cluster-partition": {
        // the back-end network: corosync's ring and DRBD's link (as on most two-node clusters)
        r.cut(this.pick([active, other]));
        this.drbd.sim.ctl("cut", active, other);
        await sleep(hold + 4000);
        r.heal();
        this.drbd.sim.ctl("heal", active, other);
        break;
      }
      case "replication-partition":
        this.drbd.sim.ctl("cut", active, other);
        await sleep(hold);
        this.drbd.sim.ctl("heal", active, other);
        break;
      case "client-partition":
        r.partition([[other], [active]], "service");
        await sleep(hold);
        r.heal();
        break;
      case "hard-kill": {
        const v = this.pick([active, other]);
        if (!r.node(v).up) break; // fenced meanwhile: already off
        const killed = r.hardKill(v);
        this.drbd.crash(v); // before the first await (see Rig.startPowerSwitch)
        await killed;
        await sleep(hold);
        break;
      }
      case "corosync-stop": {
        const v = this.pick([active, other]);
        await r.node(v).run("sh", ["-c", "kill -STOP $(pidof corosync)"]);
        await sleep(3500 + hold); // token 1000 ms + consensus 1200 ms, and then some
        if (r.node(v).up) await r.node(v).run("sh", ["-c", "kill -CONT $(pidof corosync)"]);
        break;
      }
      case "execd-kill": {
        const v = this.pick([active, other]);
        // mid-action: a monitor or a start is what execd is usually running; ask for a probe too
        void r.node(v).run("crm_resource", ["--refresh", "--resource", this.ut.target, "--node", v], { timeoutMs: 30_000 });
        await sleep(Math.floor(this.rand() * 300));
        await r.node(v).run("sh", ["-c", "kill -KILL $(pidof pacemaker-execd)"]);
        await sleep(hold);
        break;
      }
      case "restart": {
        const v = this.pick([active, other]);
        await r.stopNode(v);
        await sleep(hold / 2);
        break;
      }
    }
  }

  /** Every node back on, online, and the stack running once: the time it took (ms). */
  private async converge(): Promise<number> {
    const t0 = Date.now();
    const bound = this.o.convergeMs ?? 120_000;
    const running = (s: CrmStatus) => {
      const p = where(s, this.ut.promoted, "Promoted");
      const u = where(s, this.ut.promoted, "Unpromoted");
      if (p.length !== 1 || u.length !== this.rig.nodes.length - 1) return undefined;
      return this.ut.services.every((id) => where(s, id).length === 1 && where(s, id)[0] === p[0]) ? p[0] : undefined;
    };
    // converged = every node on and online, the stack running, and still so 3 s later. The waits
    // are sliced: a fencing the cycle set off can land after the heal powered its victim on again
    // (the fence device powers it off anew, as a real one would); a wait on the whole bound would
    // then watch a node that is off until the bound runs out. Each slice powers on what is off.
    const restarted = new Set<string>();
    let last = "";
    for (let settled = false; !settled; ) {
      if (Date.now() - t0 > bound) throw new Error(`not settled within ${bound} ms; last: ${last}`);
      for (const n of this.rig.nodes) {
        if (n.up) continue;
        if (restarted.has(n.name)) this.note(`${n.name} is off again after its power-on (a fencing that was still under way)`);
        restarted.add(n.name);
        this.drbd.boot(n.name);
        await this.rig.restart(n.name, { wait: false }).catch((e: Error) => this.note(`restart of ${n.name} failed, trying again: ${e.message.split("\n")[0]}`));
      }
      if (this.rig.nodes.some((n) => !n.up)) continue;
      const slice = () => Math.max(1000, Math.min(10_000, bound - (Date.now() - t0)));
      let p: string;
      try {
        await this.rig.waitOnline(this.rig.nodes.map((n) => n.name), { timeoutMs: slice() });
        p = await this.rig.waitFor("the stack converged", running, { timeoutMs: slice() });
      } catch (e) {
        last = (e as Error).message.split("\n")[0]!;
        continue;
      }
      await sleep(3000);
      const again = this.rig.nodes.every((n) => n.up) ? await this.rig.status().catch(() => undefined) : undefined;
      settled = again !== undefined && running(again) === p && this.rig.nodes.every((n) => again.nodes.find((x) => x.name === n.name)?.online);
    }
    return Date.now() - t0;
  }

  async run(): Promise<NemesisResult> {
    await this.setup();
    this.startWriter();
    this.startWatcher();
    const faults = this.o.faults ?? FAULTS;
    for (let c = 0; c < this.o.cycles; c++) {
      const f = this.pick(faults);
      const active = (await this.promoted()) ?? this.rig.nodes[0]!.name;
      const other = this.rig.nodes.find((n) => n.name !== active)!.name;
      const fencedBefore = this.rig.fenceEvents().filter((e) => e.ok && e.action !== "on").length;
      this.current = f;
      this.splitSeen = false;
      this.note(`cycle ${c + 1}/${this.o.cycles}: ${f} (Promoted: ${active})`);
      await this.inject(f, active, other);
      let ms: number;
      try {
        ms = await this.converge();
      } catch (e) {
        this.note(`cycle ${c + 1}: did not converge: ${(e as Error).message.split("\n")[0]}`);
        // what an operator would look at first: the failed actions (the reason for a stuck resource)
        const failures = (await this.rig.status().catch(() => undefined))?.failures ?? [];
        if (failures.length) this.note(`cycle ${c + 1}: failed actions: ${failures.map((x) => `${x.opKey} on ${x.node}: ${x.exitStatus}${x.exitReason ? ` (${x.exitReason})` : ""}`).join("; ")}`);
        this.res.perFault[f].violations++;
        ms = this.o.convergeMs ?? 120_000;
        // as an operator would: clear the failures so the next cycles start from a running stack
        await this.rig.anyUp().run("crm_resource", ["--cleanup"], { timeoutMs: 60_000 });
        await this.converge().catch((e2: Error) => this.note(`after cleanup, still not converged: ${e2.message.split("\n")[0]}`));
      }
      this.res.maxConvergeMs = Math.max(this.res.maxConvergeMs, ms);
      const st = this.res.perFault[f];
      st.cycles++;
      st.fencings += this.rig.fenceEvents().filter((e) => e.ok && e.action !== "on").length - fencedBefore;
      if ((await this.promoted()) !== active) st.failovers++;
      if (this.splitSeen) {
        st.violations++;
        this.res.splitBrains++;
      }
      this.res.cycles++;
      this.current = undefined;
    }
    this.stopWriter = true;
    await this.writer;
    this.session.close();
    this.res.sessions = this.session.sessions;
    this.watching = false;
    await this.watcher;
    // every acknowledged write reads back (the last acknowledged pattern of each block)
    const blocks = [...this.last.keys()].filter((b) => b !== this.unsure);
    const v = await this.client.verify(blocks, 300_000, (b) => this.last.get(b)!);
    this.res.lostWrites = v.ok ? 0 : Math.max(1, v.failed.length);
    if (!v.ok) this.note(`read-back failed: blocks ${v.failed.join(",")}\n${v.out.slice(-500)}`);
    // the check has teeth: a block read against the byte before its last one (a lost rewrite) fails
    const probe = blocks[blocks.length - 1];
    if (probe !== undefined) {
      const wrong = await this.client.verify([probe], 60_000, (b) => (this.last.get(b)! % 255) + 1);
      this.res.verifierBites = !wrong.ok && wrong.failed.includes(probe);
    }
    return this.res;
  }
}

/** `nemesis: N cycles, S split brains, L lost writes` and a table per fault kind. */
export function report(r: NemesisResult): string {
  const rows = FAULTS.filter((f) => r.perFault[f].cycles).map((f) => {
    const s = r.perFault[f];
    return `| ${f} | ${s.cycles} | ${s.failovers} | ${s.fencings} | ${(s.longestStallMs / 1000).toFixed(1)} s | ${s.violations} |`;
  });
  return [
    `nemesis: ${r.cycles} cycles, ${r.splitBrains} split brains, ${r.lostWrites} lost writes`,
    `(${r.acked} acknowledged writes in ${r.sessions} iSCSI session${r.sessions === 1 ? "" : "s"}; longest convergence after a heal ${(r.maxConvergeMs / 1000).toFixed(1)} s)`,
    "| fault | cycles | failovers | fencing events | longest stall | violations |",
    "|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}
