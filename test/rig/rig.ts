// A real N-node Pacemaker + Corosync cluster on one machine, for tests and the demo.
//
//   const rig = await startRig({ nodes: 2, clients: 1 });
//   t.teardown(() => rig.stop());
//   await rig.pcs(["resource", "create", "d1", "ocf:pacemaker:Dummy"]);
//   await rig.waitResource("d1", { role: "Started" });
//   await rig.hardKill(rig.where(await rig.status(), "d1")[0]!);
//
// Every node is `ip netns exec PREFIX-nK unshare --mount --uts --pid --fork --mount-proc
// --kill-child`: its own network, hostname, mounts (private tmpfs /run and /dev/shm, per-node
// /etc/corosync, /var/lib/pacemaker, /var/lib/corosync, /var/log/{pacemaker,corosync}) and PID
// namespace. The rest of the host filesystem is shared, so agents linked into
// /usr/lib/ocf/resource.d/tsstor/ on the host are seen by every node. Killing the node's unshare
// makes the kernel SIGKILL its whole PID namespace: a power cut for corosync, pacemakerd, every
// Pacemaker child, every agent and every daemon an agent started (tgtd, ...), with no TERM first.
//
// Networks (all in namespaces the rig creates; the host's links are never touched):
//   cluster 10.233.0.0/24  node K = 10.233.0.K on eth0 (the corosync ring)
//   service 10.233.1.0/24  node K = 10.233.1.K on eth1, client J = 10.233.1.(100+J) on eth0,
//                          virtual IPs from 10.233.1.200 (rig.vip(0), rig.vip(1), ...)
// Teardown is guaranteed: rig.stop() (call it from t.teardown), plus process exit and SIGINT/
// SIGTERM/SIGHUP handlers, plus `cleanup.ts` for rigs whose owner process died (SIGKILL).
import { mkdirSync, writeFileSync, chmodSync, chownSync, rmSync, existsSync, readFileSync, copyFileSync, mkdtempSync } from "node:fs";
import { spawn, type ChildProcess } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exec, execSync, must, sleep, killPid, pidAlive, BASE_ENV, type ExecResult, type ExecOpts } from "./exec.js";
import { destroyNetns, ip, netnsList, writeClaim, removeClaim, readClaims, tryClaim, type Claim } from "./net.js";
import { parseCrmMon, where, summarize, type CrmStatus, type Role } from "./crm-mon.js";
import { PowerSwitch } from "./power.js";
import { installFenceAgent, RA_DIR } from "../lib/install.js";
import { REPO } from "../lib/xml.js";
import { platformRoot, rigPlatform, PLATFORMS, type Platform } from "./platform.js";
import { inRootArgv } from "../lib/debroot.js";

export { parseCrmMon, where, summarize, instances } from "./crm-mon.js";
export type { CrmStatus, ResourceInstance, NodeStatus, Role } from "./crm-mon.js";

export interface RigOptions {
  /** node count (names n1..nN) or explicit node names; default 2 */
  nodes?: number | string[];
  /** client namespaces on the service network; default 0 */
  clients?: number;
  /** extra cluster properties seeded in the CIB (stonith-enabled=false, dc-deadtime=2s always) */
  properties?: Record<string, string>;
  /** corosync totem token in ms; default 1000 */
  token?: number;
  /** progress lines (the demo prints them; tests may pass t.comment) */
  log?: (msg: string) => void;
  /** keep the state directory (logs, CIBs) after stop; also TSSTOR_RIG_KEEP=1 */
  keep?: boolean;
  /** ms to wait for all nodes online with a DC; default 60000 */
  startTimeoutMs?: number;
  /**
   * Extra environment of a node's daemons (so of every agent Pacemaker runs there) and of
   * node.run(): e.g. a PATH with simulated tools first, a simulator's state directory.
   */
  env?: (node: string) => Record<string, string>;
  /** Services started at every boot of a node before the cluster stack, e.g. [["tgtd", "-f"]]. */
  boot?: string[][];
  /**
   * Fence the nodes through the rig's power switch (power.ts) with the fence agent
   * fence_tsstor_rig: stonith-enabled=true and one stonith device "rig-fence" for every node.
   * A fenced node stays off (pcmk_reboot_action=off) unless `reboot` is set, then it boots again.
   * onPowerOff/onPowerOn: what else dies and boots with the node (e.g. its simulated DRBD kernel).
   */
  fencing?: boolean | { reboot?: boolean; delayMax?: string; onPowerOff?: (node: string) => void; onPowerOn?: (node: string) => void };
  /** the Debian release the nodes run their cluster stack from (platform.ts); default TSSTOR_RIG_PLATFORM, else debian12 */
  platform?: Platform;
}

export type Net = "cluster" | "service";

const CLUSTER_NET = "10.233.0";
const SERVICE_NET = "10.233.1";

/** The script every node runs as PID 1 of its namespaces (written to the state directory). */
const NODE_INIT = `#!/bin/bash
# PID 1 of one rig node (see test/rig/rig.ts). Arguments: NODE_NAME STATE_DIR [ROOT BIND...].
set -eu
name=$1 dir=$2
if [ -n "\${3:-}" ]; then
  # The node runs its cluster stack from ROOT (another Debian release): an overlay of it whose
  # writes stay in the node's directory, mounted in this node's private mount namespace (on a
  # tmpfs over /mnt, so nothing is created on the host), with /proc, /sys, /dev, /tmp and the
  # BIND paths (this checkout, the agent links) at the same paths; then this script again, inside.
  root=$3; shift 3
  mount -t tmpfs -o mode=0755 tsr-mnt /mnt
  r=/mnt/root
  mkdir -p "$r" "$dir/root-rw/upper" "$dir/root-rw/work"
  mount -t overlay tsr-root -o "lowerdir=$root,upperdir=$dir/root-rw/upper,workdir=$dir/root-rw/work" "$r"
  mount -t proc proc "$r/proc"
  mount --rbind /sys "$r/sys"
  mount --rbind /dev "$r/dev"
  mount --rbind /tmp "$r/tmp"
  for p in "$@"; do
    if [ -d "$p" ]; then mkdir -p "$r$p"; mount --rbind "$p" "$r$p"
    elif [ -L "$p" ]; then mkdir -p "$r\${p%/*}"; cp -P "$p" "$r$p"
    fi
  done
  exec chroot "$r" /bin/bash "$0" "$name" "$dir"
fi
mount -t tmpfs -o mode=0755 tsr-run /run
mount -t tmpfs -o mode=1777 tsr-shm /dev/shm
mount --bind "$dir/etc-corosync" /etc/corosync
mount --bind "$dir/lib-pacemaker" /var/lib/pacemaker
mount --bind "$dir/lib-corosync" /var/lib/corosync
mount --bind "$dir/log-pacemaker" /var/log/pacemaker
mount --bind "$dir/log-corosync" /var/log/corosync
hostname "$name"
mkdir -p /run/lock /run/crm /run/resource-agents
# services enabled at boot (as systemd would start them), e.g. tgtd
[ -f "$dir/boot.sh" ] && . "$dir/boot.sh"
corosync -f >>"$dir/corosync.out" 2>&1 &
# pacemakerd retries a missing corosync only slowly (1 s, 2 s, 3 s...): wait for it first
for _ in $(seq 200); do corosync-cfgtool -s >/dev/null 2>&1 && break; sleep 0.05; done
pacemakerd >>"$dir/pacemakerd.out" 2>&1 &
echo up >"$dir/ready"
# PID 1 reaps every orphan (agents daemonize children); bash's wait does that.
while :; do wait || true; sleep 1; done
`;

function corosyncConf(names: string[], token: number): string {
  const nodes = names
    .map((n, i) => `  node {\n    ring0_addr: ${CLUSTER_NET}.${i + 1}\n    name: ${n}\n    nodeid: ${i + 1}\n  }`)
    .join("\n");
  const quorum = names.length === 2 ? "  provider: corosync_votequorum\n  two_node: 1" : "  provider: corosync_votequorum";
  return `totem {
  version: 2
  cluster_name: tsr
  transport: knet
  crypto_cipher: aes256
  crypto_hash: sha256
  token: ${token}
}
nodelist {
${nodes}
}
quorum {
${quorum}
}
logging {
  to_logfile: yes
  logfile: /var/log/corosync/corosync.log
  to_stderr: no
  to_syslog: no
  timestamp: on
}
`;
}

// ---- every live rig, so exit/signal handlers can tear them down synchronously ----
const live = new Set<Rig>();
let handlersInstalled = false;
function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", () => {
    for (const r of live) r.destroySync();
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      for (const r of live) r.destroySync();
      process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const)[sig]);
    });
  }
}

/**
 * Claim the first free prefix tsr, tsr2, tsr3...: the claim file is created exclusively (O_EXCL)
 * before any namespace exists, so a concurrent cleanup never mistakes a starting rig for a
 * leftover; a claim whose owner died is cleaned and taken over.
 */
function claimPrefix(): string {
  for (let i = 1; i < 50; i++) {
    const prefix = i === 1 ? "tsr" : `tsr${i}`;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (tryClaim({ prefix, owner: process.pid, dir: "", namespaces: [], pids: [] })) {
        for (const ns of netnsList()) if (ns.startsWith(`${prefix}-`)) destroyNetns(ns); // unclaimed leftovers
        must("ip", ["netns", "add", `${prefix}-sw`]);
        return prefix;
      }
      const c = readClaims().find((x) => x.prefix === prefix);
      if (c && pidAlive(c.owner)) break; // in use: next prefix
      if (c) cleanupClaim(c); // owner died without teardown
    }
  }
  throw new Error("rig: no free tsr prefix (run the rig cleanup command)");
}

/** Kill and delete everything a claim names: PIDs, namespaces, state directory, claim. */
export function cleanupClaim(c: Claim): void {
  for (const p of c.pids) killPid(p);
  for (const ns of c.namespaces) destroyNetns(ns);
  for (const ns of netnsList()) if (ns.startsWith(`${c.prefix}-`)) destroyNetns(ns);
  if (c.dir && c.dir.includes("tsstor-rig-") && !process.env.TSSTOR_RIG_KEEP) rmSync(c.dir, { recursive: true, force: true });
  removeClaim(c.prefix);
}

export class RigNode {
  /** host PID of the node's unshare (killing it kills the node) */
  unsharePid = 0;
  /** host PID of the node's PID 1 (target for nsenter) */
  initPid = 0;
  proc: ChildProcess | undefined;
  up = false;
  /** boots so far (the power switch tells a rebooted node from the one that asked) */
  boots = 0;
  constructor(
    readonly rig: Rig,
    readonly name: string,
    readonly index: number,
  ) {}
  get ns(): string {
    return `${this.rig.prefix}-${this.name}`;
  }
  get dir(): string {
    return join(this.rig.dir, this.name);
  }
  addr(net: Net = "service"): string {
    return `${net === "cluster" ? CLUSTER_NET : SERVICE_NET}.${this.index + 1}`;
  }
  /** The command line prefix that runs a program inside this node (e.g. a terminal's). */
  get enter(): string[] {
    return this.rig.enter(this.initPid);
  }
  /** Run a command inside the node (all its namespaces). */
  run(cmd: string, args: string[] = [], o: ExecOpts = {}): Promise<ExecResult> {
    if (!this.up) return Promise.resolve({ code: 255, stdout: "", stderr: `node ${this.name} is down`, out: `node ${this.name} is down` });
    const [nsenter, ...pre] = this.enter;
    return exec(nsenter!, [...pre, cmd, ...args], { ...o, env: { ...this.rig.opts.env?.(this.name), ...o.env } });
  }
  runSync(cmd: string, args: string[] = [], o: ExecOpts = {}): ExecResult {
    if (!this.up) return { code: 255, stdout: "", stderr: `node ${this.name} is down`, out: `node ${this.name} is down` };
    const [nsenter, ...pre] = this.enter;
    return execSync(nsenter!, [...pre, cmd, ...args], { ...o, env: { ...this.rig.opts.env?.(this.name), ...o.env } });
  }
}

export class RigClient {
  readonly procs = new Set<ChildProcess>();
  constructor(
    readonly rig: Rig,
    readonly name: string,
    readonly index: number,
  ) {}
  get ns(): string {
    return `${this.rig.prefix}-${this.name}`;
  }
  get addr(): string {
    return `${SERVICE_NET}.${100 + this.index + 1}`;
  }
  /** Run a command in the client's network namespace (host filesystem). */
  run(cmd: string, args: string[] = [], o: ExecOpts = {}): Promise<ExecResult> {
    return exec("ip", ["netns", "exec", this.ns, cmd, ...args], o);
  }
  runSync(cmd: string, args: string[] = [], o: ExecOpts = {}): ExecResult {
    return execSync("ip", ["netns", "exec", this.ns, cmd, ...args], o);
  }
}

export class Rig {
  readonly nodes: RigNode[] = [];
  readonly clients: RigClient[] = [];
  readonly dir: string;
  private destroyed = false;
  private readonly log: (m: string) => void;
  /** the current partition, for heal() and restarts */
  private partitioned = false;
  /** the power switch the fence agent talks to (RigOptions.fencing) */
  power: PowerSwitch | undefined;
  readonly platform: Platform;
  /** the root file system the nodes run from; undefined: this machine's own */
  readonly root: string | undefined;

  constructor(
    readonly prefix: string,
    readonly opts: RigOptions,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), "tsstor-rig-"));
    chmodSync(this.dir, 0o755);
    this.log = opts.log ?? (() => {});
    this.platform = rigPlatform(opts.platform);
    this.root = platformRoot(this.platform);
  }

  /**
   * The command line prefix that runs a program inside a node: all its namespaces, and its root
   * and working directory (its /) when it has a root: a working directory outside the root reads
   * as deleted, and some programs refuse to run then (a compiled Bun executable does).
   */
  enter(initPid: number): string[] {
    return ["nsenter", "-t", String(initPid), "-a", ...(this.root ? ["-r", "-w"] : []), "--"];
  }

  /**
   * A cluster tool of the nodes' platform run outside any node (seeding the CIB, keys): this
   * machine's, or the root's, in a throw-away overlay of it with /tmp bound in.
   */
  tool(cmd: string, args: string[], o: ExecOpts = {}): string {
    if (!this.root) return must(cmd, args, o);
    const [unshare, ...pre] = inRootArgv(this.root, ["/tmp"]);
    return must(unshare!, [...pre, cmd, ...args], o);
  }

  get switchNs(): string {
    return `${this.prefix}-sw`;
  }
  node(name: string): RigNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`rig: no node ${name}`);
    return n;
  }
  client(i = 0): RigClient {
    const c = this.clients[i];
    if (!c) throw new Error(`rig: no client ${i}`);
    return c;
  }
  /** The K-th virtual IP address on the service network (10.233.1.200 + K). */
  vip(k = 0): string {
    return `${SERVICE_NET}.${200 + k}`;
  }
  readonly serviceCidr = 24;
  /** First node that is up (where cluster-wide commands run by default). */
  anyUp(): RigNode {
    const n = this.nodes.find((x) => x.up);
    if (!n) throw new Error("rig: no node is up");
    return n;
  }

  private claim(): void {
    writeClaim({
      prefix: this.prefix,
      owner: process.pid,
      dir: this.dir,
      namespaces: [this.switchNs, ...this.nodes.map((n) => n.ns), ...this.clients.map((c) => c.ns)],
      pids: this.nodes.map((n) => n.unsharePid).filter(Boolean),
    });
  }

  // ---- setup ----

  /** Bridges in the switch namespace: brc (cluster), brs (service). */
  setupSwitch(): void {
    ip(this.switchNs, "link", "set", "lo", "up");
    for (const br of ["brc", "brs"]) {
      ip(this.switchNs, "link", "add", "name", br, "type", "bridge");
      ip(this.switchNs, "link", "set", br, "up");
    }
  }

  /** veth SWITCHPORT <-> IFNAME inside ns, port on bridge. */
  private plug(ns: string, port: string, ifname: string, bridge: string, addr: string): void {
    ip(this.switchNs, "link", "add", "name", port, "type", "veth", "peer", "name", ifname, "netns", ns);
    ip(this.switchNs, "link", "set", port, "master", bridge);
    ip(this.switchNs, "link", "set", port, "up");
    ip(ns, "addr", "add", `${addr}/24`, "dev", ifname);
    ip(ns, "link", "set", ifname, "up");
  }

  setupNodeDirs(names: string[], authkey: string, cib: string): void {
    // the hacluster account of the platform the daemons run from (Debian 13's root has its own)
    const hac = this.tool("id", ["-u", "hacluster"]).trim();
    const hag = this.tool("id", ["-g", "hacluster"]).trim();
    const conf = corosyncConf(names, this.opts.token ?? 1000);
    writeFileSync(join(this.dir, "node-init.sh"), NODE_INIT, { mode: 0o755 });
    for (const n of this.nodes) {
      const d = n.dir;
      for (const sub of ["etc-corosync", "lib-pacemaker/cib", "lib-pacemaker/pengine", "lib-pacemaker/blackbox", "lib-pacemaker/cores", "lib-corosync", "log-pacemaker", "log-corosync"]) {
        mkdirSync(join(d, sub), { recursive: true });
      }
      writeFileSync(join(d, "etc-corosync/corosync.conf"), conf);
      copyFileSync(authkey, join(d, "etc-corosync/authkey"));
      chmodSync(join(d, "etc-corosync/authkey"), 0o400);
      copyFileSync(cib, join(d, "lib-pacemaker/cib/cib.xml"));
      chmodSync(join(d, "lib-pacemaker/cib/cib.xml"), 0o600);
      for (const p of ["lib-pacemaker", "lib-pacemaker/cib", "lib-pacemaker/pengine", "lib-pacemaker/blackbox", "lib-pacemaker/cores", "lib-pacemaker/cib/cib.xml", "log-pacemaker"]) {
        chownSync(join(d, p), Number(hac), Number(hag));
      }
      chmodSync(join(d, "log-pacemaker"), 0o770);
      if (this.opts.boot?.length) {
        const q = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;
        writeFileSync(join(d, "boot.sh"), this.opts.boot.map((c) => `${c.map(q).join(" ")} >>"$dir/boot.out" 2>&1 &\n`).join(""));
      }
    }
  }

  /** Launch the node's namespaces and daemons; resolves once pacemakerd was started. */
  async launch(n: RigNode): Promise<void> {
    rmSync(join(n.dir, "ready"), { force: true });
    const child = spawn(
      "ip",
      ["netns", "exec", n.ns, "unshare", "--mount", "--uts", "--pid", "--fork", "--mount-proc", "--propagation", "private", "--kill-child", join(this.dir, "node-init.sh"), n.name, n.dir, ...(this.root ? [this.root, REPO, RA_DIR, "/usr/sbin/fence_tsstor_rig"] : [])],
      { stdio: ["ignore", "ignore", "ignore"], env: { ...BASE_ENV, ...this.opts.env?.(n.name) } },
    );
    n.proc = child;
    n.unsharePid = child.pid!;
    n.up = true;
    n.boots++;
    this.claim();
    child.on("exit", () => {
      if (n.proc === child) n.up = false;
    });
    const t0 = Date.now();
    while (!existsSync(join(n.dir, "ready"))) {
      if (!pidAlive(n.unsharePid) || Date.now() - t0 > 20_000) throw new Error(`rig: node ${n.name} did not start (${this.tail(n.name, "corosync.out")})`);
      await sleep(20);
    }
    const kids = readFileSync(`/proc/${n.unsharePid}/task/${n.unsharePid}/children`, "utf8").trim().split(/\s+/);
    n.initPid = Number(kids[0]);
  }

  // ---- queries ----

  /** crm_mon --output-as=xml on a node (default: the first one up), parsed. */
  async status(on?: string): Promise<CrmStatus> {
    const n = on ? this.node(on) : this.anyUp();
    const r = await n.run("crm_mon", ["--output-as=xml"], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`crm_mon on ${n.name} failed (${r.code}): ${r.out.trim()}`);
    return parseCrmMon(r.stdout);
  }

  /** Poll status until `fn` returns a truthy value; returns it (or throws with the last state). */
  async waitFor<T>(what: string, fn: (s: CrmStatus) => T | undefined | false, o: { timeoutMs?: number; on?: string; intervalMs?: number } = {}): Promise<T> {
    const t0 = Date.now();
    let last = "";
    for (;;) {
      try {
        const s = await this.status(o.on);
        const v = fn(s);
        if (v) return v;
        last = summarize(s);
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() - t0 > (o.timeoutMs ?? 60_000)) throw new Error(`rig: timed out waiting for ${what}; last: ${last}`);
      await sleep(o.intervalMs ?? 250);
    }
  }

  /**
   * Wait until resource (or clone/group) `id` is active in `role` on exactly `count` nodes
   * (default 1), optionally on a given node; returns the nodes.
   */
  waitResource(id: string, o: { role?: Role; node?: string; count?: number; timeoutMs?: number; on?: string } = {}): Promise<string[]> {
    const role = o.role ?? "Started";
    const desc = `${id} ${role}${o.node ? ` on ${o.node}` : ""}${o.count ? ` x${o.count}` : ""}`;
    return this.waitFor(
      desc,
      (s) => {
        const at = where(s, id, role);
        if (at.length !== (o.count ?? 1)) return undefined;
        if (o.node && !at.includes(o.node)) return undefined;
        return at;
      },
      o,
    );
  }

  /** Wait until every listed node (default: all up) is online and a DC is elected. */
  waitOnline(names = this.nodes.filter((n) => n.up).map((n) => n.name), o: { timeoutMs?: number; on?: string } = {}): Promise<CrmStatus> {
    return this.waitFor(
      `nodes ${names.join(",")} online`,
      (s) => (s.dc && names.every((nm) => s.nodes.find((x) => x.name === nm)?.online) ? s : undefined),
      { on: o.on ?? names[0], timeoutMs: o.timeoutMs },
    );
  }

  // ---- commands ----

  /** pcs inside a node (default: the first one up). */
  pcs(args: string[], o: ExecOpts & { on?: string } = {}): Promise<ExecResult> {
    const n = o.on ? this.node(o.on) : this.anyUp();
    return n.run("pcs", args, { timeoutMs: 120_000, ...o });
  }

  /** pcs that throws on failure; returns stdout. */
  async pcsOk(args: string[], o: ExecOpts & { on?: string } = {}): Promise<string> {
    const r = await this.pcs(args, o);
    if (r.code !== 0) throw new Error(`pcs ${args.join(" ")} failed (${r.code}): ${r.out.trim()}`);
    return r.stdout;
  }

  /**
   * Apply pcs commands atomically, as the stack scripts do: `pcs cluster cib` into a file in the
   * node's private /run, every command with `pcs -f`, then one `cib-push diff-against=`.
   * Each command is an argv without the leading "pcs".
   */
  async applyPcs(cmds: string[][], o: { on?: string } = {}): Promise<void> {
    const n = o.on ? this.node(o.on) : this.anyUp();
    const orig = `/run/tsr-cib-${process.pid}-orig.xml`;
    const work = `/run/tsr-cib-${process.pid}.xml`;
    const ok = async (args: string[]) => {
      const r = await n.run("pcs", args, { timeoutMs: 120_000 });
      if (r.code !== 0) throw new Error(`pcs ${args.join(" ")} failed (${r.code}): ${r.out.trim()}`);
    };
    await ok(["cluster", "cib", orig]);
    await n.run("cp", [orig, work]);
    for (const c of cmds) await ok(["-f", work, ...c]);
    await ok(["cluster", "cib-push", work, `diff-against=${orig}`]);
    await n.run("rm", ["-f", orig, work]);
  }

  /**
   * A promotable Stateful clone "st-clone" and a virtual IP "vip" (rig.vip()) that follows its
   * Promoted instance; returns the Promoted node once the VIP runs there.
   */
  async statefulWithVip(): Promise<string> {
    await this.applyPcs([
      ["resource", "create", "st", "ocf:pacemaker:Stateful", "op", "monitor", "interval=5s", "role=Promoted", "op", "monitor", "interval=6s", "role=Unpromoted", "promotable", "promoted-max=1", "promoted-node-max=1", "clone-max=2", "clone-node-max=1", "notify=true"],
      ["resource", "create", "vip", "ocf:heartbeat:IPaddr2", `ip=${this.vip()}`, "cidr_netmask=24", "nic=eth1", "op", "monitor", "interval=5s"],
      ["constraint", "colocation", "add", "vip", "with", "Promoted", "st-clone", "INFINITY"],
      ["constraint", "order", "promote", "st-clone", "then", "start", "vip"],
    ]);
    const [p] = await this.waitResource("st-clone", { role: "Promoted" });
    await this.waitResource("vip", { node: p });
    return p!;
  }

  /** MAC address of a node's interface (to tell who answers ARP for a virtual IP). */
  mac(node: string, ifname = "eth1"): string {
    return must("ip", ["-n", this.node(node).ns, "-br", "link", "show", ifname]).trim().split(/\s+/)[2]!.toLowerCase();
  }

  /** MACs answering ARP for `addr` on the service network, seen from client i (empty: none). */
  async arpOwners(addr: string, i = 0, count = 3): Promise<string[]> {
    const r = await this.client(i).run("arping", ["-b", "-c", String(count), "-w", String(count + 1), "-I", "eth0", addr], { timeoutMs: 15_000 });
    return [...new Set([...r.stdout.matchAll(/reply from [0-9.]+ \[([0-9A-Fa-f:]+)\]/g)].map((m) => m[1]!.toLowerCase()))].sort();
  }

  /**
   * Wait until `mac` answers ARP for `addr`, seen from client i: a one-request arping (1 s wait)
   * is launched every `everyMs` (overlapping; arping here takes whole seconds as interval), so
   * the answer is seen within ~everyMs of the address appearing. Returns Date.now() of the
   * answer, or undefined after timeoutMs.
   */
  async waitArp(addr: string, mac: string, o: { client?: number; everyMs?: number; timeoutMs?: number } = {}): Promise<number | undefined> {
    const end = Date.now() + (o.timeoutMs ?? 60_000);
    let seen: number | undefined;
    const inflight = new Set<Promise<void>>();
    while (seen === undefined && Date.now() < end) {
      const p: Promise<void> = this.client(o.client ?? 0)
        .run("arping", ["-b", "-c", "1", "-w", "1", "-I", "eth0", addr], { timeoutMs: 5_000 })
        .then((r) => {
          const m = /reply from [0-9.]+ \[([0-9A-Fa-f:]+)\]/.exec(r.stdout)?.[1]?.toLowerCase();
          if (m === mac && seen === undefined) seen = Date.now();
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
      await sleep(o.everyMs ?? 100);
    }
    await Promise.all(inflight);
    return seen;
  }

  /** Tail of a node's log file: pacemaker.log, corosync.log, pacemakerd.out, corosync.out. */
  tail(node: string, file = "pacemaker.log", lines = 40): string {
    const rel = file === "pacemaker.log" ? "log-pacemaker/pacemaker.log" : file === "corosync.log" ? "log-corosync/corosync.log" : file;
    const p = join(this.dir, node, rel);
    if (!existsSync(p)) return `(no ${p})`;
    return readFileSync(p, "utf8").split("\n").slice(-lines).join("\n");
  }

  // ---- failures ----

  /**
   * Power cut: SIGKILL the node's whole PID namespace (corosync, pacemakerd, its children,
   * agents and their daemons, no TERM first) and unplug its cables, so its addresses (virtual
   * IPs included) vanish from the networks as on a dead machine. Returns the kill time (ms).
   */
  async hardKill(name: string): Promise<number> {
    const n = this.node(name);
    for (const net of ["c", "s"]) execSync("ip", ["-n", this.switchNs, "link", "set", `${net}-${n.name}`, "down"]);
    const t = Date.now();
    killPid(n.unsharePid);
    n.up = false;
    this.log(`hard-killed ${name}`);
    for (let i = 0; i < 100 && pidAlive(n.initPid) && !isZombie(n.initPid); i++) await sleep(20);
    return t;
  }

  /** Orderly stop: pacemakerd --shutdown (resources stop or move), then corosync, then the namespace. */
  async stopNode(name: string, timeoutMs = 60_000): Promise<void> {
    const n = this.node(name);
    if (!n.up) return;
    const end = Date.now() + timeoutMs;
    await n.run("pacemakerd", ["--shutdown"], { timeoutMs });
    // the request returns early: wait for pacemakerd to finish stopping resources and exit
    while (Date.now() < end && (await n.run("pidof", ["pacemakerd"])).code === 0) await sleep(100);
    await n.run("corosync-cfgtool", ["-H", "--force"], { timeoutMs: 10_000 });
    killPid(n.unsharePid);
    n.up = false;
    for (const net of ["c", "s"]) execSync("ip", ["-n", this.switchNs, "link", "set", `${net}-${n.name}`, "down"]);
    this.log(`stopped ${name}`);
  }

  /**
   * Boot a node again after hardKill/stopNode: its CIB and logs persist (disk), /run and every
   * address added at run time are gone (memory), cables are plugged back in.
   */
  async restart(name: string, o: { wait?: boolean } = {}): Promise<void> {
    const n = this.node(name);
    if (n.up) await this.hardKill(name);
    for (const [ifn, net] of [["eth0", "cluster"], ["eth1", "service"]] as const) {
      ip(n.ns, "addr", "flush", "dev", ifn);
      ip(n.ns, "addr", "add", `${n.addr(net)}/24`, "dev", ifn);
    }
    for (const net of ["c", "s"]) ip(this.switchNs, "link", "set", `${net}-${n.name}`, "up");
    await this.launch(n);
    this.log(`restarted ${name}`);
    if (o.wait !== false) await this.waitOnline(this.nodes.filter((x) => x.up).map((x) => x.name), { on: name });
  }

  /**
   * Partition a network: each group of node names gets its own segment (clients stay with the
   * first group on the service network). Default network: cluster only, so both sides still
   * serve clients: without fencing, the split brain the docs warn about.
   */
  partition(groups: string[][], net: Net = "cluster"): void {
    const br = net === "cluster" ? "brc" : "brs";
    const p = net === "cluster" ? "c" : "s";
    groups.forEach((g, i) => {
      if (i === 0) return;
      const seg = `${br}${i}`;
      if (execSync("ip", ["-n", this.switchNs, "link", "show", seg]).code !== 0) {
        ip(this.switchNs, "link", "add", "name", seg, "type", "bridge");
        ip(this.switchNs, "link", "set", seg, "up");
      }
      for (const name of g) ip(this.switchNs, "link", "set", `${p}-${this.node(name).name}`, "master", seg);
    });
    this.partitioned = true;
    this.log(`partitioned ${net}: ${groups.map((g) => g.join("+")).join(" | ")}`);
  }

  /** Cut the cluster link between the two halves of a 2-node rig (or isolate `name`). */
  cut(name = this.nodes[0]!.name, net: Net = "cluster"): void {
    this.partition([this.nodes.filter((n) => n.name !== name).map((n) => n.name), [name]], net);
  }

  /** Put every port back on its network's main bridge. */
  heal(): void {
    for (const n of this.nodes) {
      ip(this.switchNs, "link", "set", `c-${n.name}`, "master", "brc");
      ip(this.switchNs, "link", "set", `s-${n.name}`, "master", "brs");
    }
    this.partitioned = false;
    this.log("healed the networks");
  }

  // ---- fencing (RigOptions.fencing) ----

  /** The power switch on <state dir>/power.sock: off is hardKill, on is restart. */
  async startPowerSwitch(): Promise<void> {
    installFenceAgent();
    const f = typeof this.opts.fencing === "object" ? this.opts.fencing : {};
    this.power = new PowerSwitch(
      join(this.dir, "power.sock"),
      {
        names: () => this.nodes.map((n) => n.name),
        isOn: (name) => this.node(name).up,
        generation: (name) => this.node(name).boots,
        powerOff: async (name) => {
          if (!this.node(name).up) return;
          // the hook runs before the first await: once the node reads as down, a restart may
          // begin, and what dies with the node must not die after its next boot
          const killed = this.hardKill(name);
          f.onPowerOff?.(name);
          await killed;
        },
        powerOn: async (name) => {
          if (this.node(name).up) return;
          f.onPowerOn?.(name);
          await this.restart(name, { wait: false });
        },
      },
      this.log,
    );
    await this.power.start();
  }

  /** One stonith device for every node, then wait until it runs. */
  async addFenceDevice(): Promise<void> {
    const f = typeof this.opts.fencing === "object" ? this.opts.fencing : {};
    await this.applyPcs([
      [
        "stonith", "create", "rig-fence", "fence_tsstor_rig", `socket=${this.power!.path}`, `pcmk_host_list=${this.nodes.map((n) => n.name).join(" ")}`,
        ...(f.reboot ? [] : ["pcmk_reboot_action=off"]), ...(f.delayMax ? [`pcmk_delay_max=${f.delayMax}`] : []), "op", "monitor", "interval=60s",
      ],
    ]);
    await this.waitResource("rig-fence", { timeoutMs: 30_000 });
  }

  /** Completed power actions (fencing) so far. */
  fenceEvents(): ReturnType<PowerSwitch["fencings"]> {
    return this.power?.fencings() ?? [];
  }

  // ---- client helpers ----

  /** Start a long-running command in a client namespace; killed at teardown. */
  spawnClient(i: number, cmd: string, args: string[], o: { stdin?: boolean } = {}): ChildProcess {
    const c = this.client(i);
    const child = spawn("ip", ["netns", "exec", c.ns, cmd, ...args], { stdio: [o.stdin ? "pipe" : "ignore", "pipe", "pipe"], env: BASE_ENV });
    c.procs.add(child);
    child.on("exit", () => c.procs.delete(child));
    return child;
  }

  // ---- teardown ----

  /** Synchronous, idempotent teardown: kill every node namespace, client process and namespace. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    this.power?.close();
    for (const c of this.clients) for (const p of c.procs) if (p.pid) killPid(p.pid);
    for (const n of this.nodes) {
      if (n.unsharePid) killPid(n.unsharePid);
      n.up = false;
    }
    for (const ns of [...this.nodes.map((n) => n.ns), ...this.clients.map((c) => c.ns), this.switchNs]) destroyNetns(ns);
    if (!(this.opts.keep || process.env.TSSTOR_RIG_KEEP)) rmSync(this.dir, { recursive: true, force: true });
    removeClaim(this.prefix);
  }

  /** Tear down (from t.teardown). Returns the state directory when kept, for logs. */
  async stop(): Promise<void> {
    const pids = this.nodes.map((n) => n.initPid).filter(Boolean);
    this.destroySync();
    // let the PID namespaces die before the caller detaches loop devices or removes files
    for (let i = 0; i < 100 && pids.some((p) => pidAlive(p) && !isZombie(p)); i++) await sleep(20);
    this.log(`rig ${this.prefix} torn down`);
  }
}

/** A PID that is gone or only a zombie waiting for its reaper. */
export function isZombie(pid: number): boolean {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

/** Start a cluster: namespaces, links, corosync keys and config, seeded CIB, daemons; waits for a DC. */
export async function startRig(opts: RigOptions = {}): Promise<Rig> {
  installHandlers();
  const names = typeof opts.nodes === "object" ? opts.nodes : Array.from({ length: opts.nodes ?? 2 }, (_, i) => `n${i + 1}`);
  for (const n of names) if (!/^[a-z][a-z0-9]{0,7}$/.test(n)) throw new Error(`rig: bad node name ${n} (a-z0-9, at most 8)`);
  const prefix = claimPrefix();
  const rig = new Rig(prefix, opts);
  live.add(rig);
  const log = opts.log ?? (() => {});
  names.forEach((n, i) => rig.nodes.push(new RigNode(rig, n, i)));
  for (let j = 0; j < (opts.clients ?? 0); j++) rig.clients.push(new RigClient(rig, `c${j + 1}`, j));
  try {
    const t0 = Date.now();
    rig["claim"]();
    rig.setupSwitch();
    for (const n of rig.nodes) {
      must("ip", ["netns", "add", n.ns]);
      ip(n.ns, "link", "set", "lo", "up");
      rig["plug"](n.ns, `c-${n.name}`, "eth0", "brc", n.addr("cluster"));
      rig["plug"](n.ns, `s-${n.name}`, "eth1", "brs", n.addr("service"));
    }
    for (const c of rig.clients) {
      must("ip", ["netns", "add", c.ns]);
      ip(c.ns, "link", "set", "lo", "up");
      rig["plug"](c.ns, `s-${c.name}`, "eth0", "brs", c.addr);
    }
    rig["claim"]();
    // one corosync key and one seeded CIB for every node
    const authkey = join(rig.dir, "authkey");
    rig.tool("corosync-keygen", ["-l", "-k", authkey]);
    const cib = join(rig.dir, "seed-cib.xml");
    writeFileSync(cib, rig.tool("cibadmin", ["--empty"]));
    const props = { "stonith-enabled": opts.fencing ? "true" : "false", "dc-deadtime": "2s", ...opts.properties };
    for (const [k, v] of Object.entries(props)) rig.tool("crm_attribute", ["-t", "crm_config", "-n", k, "-v", v], { env: { CIB_file: cib } });
    rig.setupNodeDirs(names, authkey, cib);
    log(`starting ${names.length} nodes (${rig.nodes.map((n) => n.ns).join(", ")}) on ${PLATFORMS[rig.platform]}${rig.root ? ` (${rig.root})` : ""}`);
    if (opts.fencing) await rig.startPowerSwitch();
    await Promise.all(rig.nodes.map((n) => rig.launch(n)));
    await rig.waitOnline(names, { timeoutMs: opts.startTimeoutMs ?? 60_000 });
    if (opts.fencing) await rig.addFenceDevice();
    log(`cluster up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return rig;
  } catch (e) {
    const logs = rig.nodes.map((n) => `--- ${n.name} pacemaker.log\n${rig.tail(n.name)}\n--- corosync.out\n${rig.tail(n.name, "corosync.out", 10)}`).join("\n");
    rig.destroySync();
    throw new Error(`${(e as Error).message}\n${logs}`);
  }
}
