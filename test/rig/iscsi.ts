// The iSCSI failover scenario on a rig, shared by the live test, the failover bench and the
// demo: deploy the `tsstor stack iscsi` configuration, then a client namespace writes and reads
// checksummed blocks through the virtual IP with qemu-io (libiscsi, userspace), the active node
// is hard-killed, and the client resumes on the survivor.
//
// Storage model on one machine: the LUN's backing store is one file on the host filesystem that
// both nodes open: exactly a shared SAN LUN (`--no-drbd`), and for the DRBD variant the data a
// protocol C (synchronous) DRBD device holds on both nodes. A power cut here cannot lose the
// host's page cache, so the check is the cluster and iSCSI path (failover, same LU identity,
// re-login, every acknowledged write readable), not the disk's own durability.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { iscsiStack, type IscsiOptions, type Plan } from "../../cli/stacks.js";
import type { ChildProcess } from "node:child_process";
import { exec, killPid, sleep } from "./exec.js";
import type { Rig } from "./rig.js";

export const IQN = "iqn.2003-01.org.example.tsstor:storage";
export const INITIATOR = "iqn.2024-01.org.example.tsstor:client";
export const BLOCK = 64 * 1024;

/** qemu's --image-opts for the rig's target through `vip` (no `timeoutS`: libiscsi's commands never time out). */
export function imageOpts(vip: string, lun: number, o: { initiator?: string; timeoutS?: number } = {}): string {
  return `driver=iscsi,transport=tcp,portal=${vip}:3260,target=${IQN},lun=${lun},initiator-name=${o.initiator ?? INITIATOR}${o.timeoutS ? `,timeout=${o.timeoutS}` : ""}`;
}

export interface Deployed {
  plan: Plan;
  vip: string;
  lun: number;
  /** node running the target */
  active: string;
  /** how the scenario's client logs in (default: INITIATOR, no CHAP) */
  login?: ClientLogin;
}

/**
 * How a client logs in: its initiator name and, for CHAP, its user and a file holding exactly the
 * secret (no newline: qemu reads a secret file whole, unlike the agent, which takes its first line).
 */
export interface ClientLogin {
  initiator?: string;
  chap?: { user: string; secretFile: string };
}

/** Stack options for the rig: tgt implementation (no configfs here), one LUN, one VIP. */
export function rigIscsiOptions(rig: Rig, o: { backing: string; drbdResource?: string; drbdconf?: string; lun?: number; chap?: IscsiOptions["chap"]; mutualChap?: IscsiOptions["mutualChap"] }): IscsiOptions {
  return {
    prefix: "iscsi",
    ...(o.drbdResource ? { drbdResource: o.drbdResource, drbdconf: o.drbdconf } : { san: true }),
    iqn: IQN,
    luns: [`${o.lun ?? 1}:${o.backing}`],
    ips: [`${rig.vip()}/${rig.serviceCidr}`],
    initiators: [INITIATOR],
    ...(o.chap ? { chap: o.chap } : {}),
    ...(o.mutualChap ? { mutualChap: o.mutualChap } : {}),
    implementation: "tgt",
    tid: 1,
  };
}

/** Create a sparse backing file both nodes can open. */
export function backingFile(dir: string, mb = 64): string {
  const f = join(dir, "lun1.img");
  spawnSync("truncate", ["-s", `${mb}M`, f]);
  return f;
}

/** The plan deployed: its VIP answers from the node the status names. `ids`: the VIP's and the
 * LU's resources when they are not the iSCSI stack's (last resource, the one named -lunN). */
export async function waitDeployed(rig: Rig, plan: Plan, timeoutMs = 90_000, ids?: { ip: string; lun: string }): Promise<Deployed> {
  const ip = ids?.ip ?? plan.resources[plan.resources.length - 1]!;
  const end = Date.now() + timeoutMs;
  const lun = Number(/lun(\d+)$/.exec(ids?.lun ?? plan.resources.find((r) => /-lun\d+$/.test(r))!)![1]);
  // the status and the wire must agree: a status read while the IP was still moving once named the
  // node it was leaving, and a bench run "failed over" in 187 ms because the killed node held nothing
  for (;;) {
    const [active] = await rig.waitResource(ip, { timeoutMs: Math.max(1_000, end - Date.now()) });
    if ((await rig.waitArp(rig.vip(), rig.mac(active!), { timeoutMs: 3_000 })) !== undefined) {
      const [still] = await rig.waitResource(ip, { timeoutMs: 10_000 });
      if (still === active) return { plan, vip: rig.vip(), lun, active: active! };
    }
    if (Date.now() > end) throw new Error(`${ip}: the status says ${active} but the VIP does not answer from it`);
  }
}

/** The client side: qemu-io through the VIP, one iSCSI login per call. */
export class IscsiClient {
  constructor(
    readonly rig: Rig,
    readonly vip: string,
    readonly lun: number,
    readonly client = 0,
    readonly login: ClientLogin = {},
  ) {}

  /** qemu-io's arguments before the commands: the CHAP secret as a file object, never in argv */
  private args(timeoutS: number): string[] {
    const c = this.login.chap;
    const opts = imageOpts(this.vip, this.lun, { initiator: this.login.initiator, timeoutS });
    return c ? ["--object", `secret,id=chap0,file=${c.secretFile}`, "--image-opts", `${opts},user=${c.user},password-secret=chap0`] : ["--image-opts", opts];
  }

  /** Pattern byte of block i (never 0: an unwritten block reads as zeros). */
  static pattern(i: number, generation = 0): number {
    // a rewrite of the block (the next generation) changes its byte: a lost rewrite shows (101 and
    // 255 are coprime: generations repeat a block's byte only 255 apart)
    return ((i + generation * 101) % 255) + 1;
  }

  /** Write blocks (each filled with its pattern) and flush; true when acknowledged. */
  async write(blocks: number[], timeoutMs = 20_000): Promise<boolean> {
    const cmds = blocks.flatMap((i) => ["-c", `write -P ${IscsiClient.pattern(i)} ${i * BLOCK} ${BLOCK}`]);
    const r = await this.rig.client(this.client).run("qemu-io", [...this.args(5), ...cmds, "-c", "flush"], { timeoutMs });
    return r.code === 0 && (r.stdout.match(/^wrote /gm) ?? []).length === blocks.length;
  }

  /** Read blocks back verifying each pattern; returns the blocks that failed. */
  async verify(blocks: number[], timeoutMs = 60_000, patternOf: (i: number) => number = IscsiClient.pattern): Promise<{ ok: boolean; failed: number[]; out: string }> {
    const cmds = blocks.flatMap((i) => ["-c", `read -P ${patternOf(i)} ${i * BLOCK} ${BLOCK}`]);
    const r = await this.rig.client(this.client).run("qemu-io", [...this.args(5), ...cmds], { timeoutMs });
    const failed = [...r.out.matchAll(/Pattern verification failed at offset (\d+)/g)].map((m) => Math.floor(Number(m[1]) / BLOCK));
    const reads = (r.stdout.match(/^read /gm) ?? []).length;
    return { ok: r.code === 0 && !failed.length && reads === blocks.length, failed: [...new Set(failed)], out: r.out };
  }

  /** One login and a read of the first sector: whether this client gets in (qemu's reason when not). */
  async probe(): Promise<{ ok: boolean; out: string }> {
    const r = await this.rig.client(this.client).run("qemu-io", [...this.args(5), "-c", "read 0 512"], { timeoutMs: 20_000 });
    return { ok: r.code === 0 && /^read /m.test(r.stdout), out: r.out.trim() };
  }

  /** Unit serial number (VPD page 0x80): the LU's identity the initiator keys on. */
  async serial(): Promise<string> {
    // libiscsi's tools take CHAP from the environment (the URL form would put it in argv)
    const c = this.login.chap;
    const env = c ? { LIBISCSI_CHAP_USERNAME: c.user, LIBISCSI_CHAP_PASSWORD: readFileSync(c.secretFile, "utf8") } : undefined;
    const r = await this.rig.client(this.client).run("iscsi-inq", ["-i", this.login.initiator ?? INITIATOR, "-e", "1", "-c", "128", `iscsi://${this.vip}/${IQN}/${this.lun}`], { timeoutMs: 15_000, env });
    // "Unit Serial Number:[                              beaf11]"
    return /Unit Serial Number:\s*\[\s*([^\]]*?)\s*\]/i.exec(r.stdout)?.[1] ?? `(none: ${r.out.trim()})`;
  }
}

/**
 * One long-lived iSCSI session through the VIP, as an application's initiator holds it: one
 * qemu-io process (libiscsi) taking commands on stdin. When the target goes away libiscsi logs in
 * again by itself and the commands in flight fail or wait; only a process that stops answering is
 * replaced (a new session), and those replacements are counted.
 */
export class IscsiSession {
  private child: ChildProcess | undefined;
  private buf = "";
  private waiter: (() => void) | undefined;
  /** sessions started (1 = the first one never had to be replaced) */
  sessions = 0;

  constructor(
    readonly rig: Rig,
    readonly vip: string,
    readonly lun: number,
    readonly client = 0,
  ) {}

  private start(): ChildProcess {
    this.sessions++;
    this.buf = "";
    // timeout=5: a command libiscsi cannot complete in 5 s fails (and the session reconnects)
    const opts = imageOpts(this.vip, this.lun, { timeoutS: 5 });
    // stdbuf: qemu-io's stdout is a pipe here, and its prompt (no newline) would sit in the buffer
    const c = this.rig.spawnClient(this.client, "stdbuf", ["-o0", "-e0", "qemu-io", "--image-opts", opts], { stdin: true });
    const on = (d: Buffer) => {
      this.buf += d.toString();
      this.waiter?.();
    };
    c.stdout!.on("data", on);
    c.stderr!.on("data", on);
    c.on("exit", () => {
      if (this.child === c) this.child = undefined;
      this.waiter?.();
    });
    c.stdin!.on("error", () => {}); // a dead process: noticed by the exit handler
    this.child = c;
    return c;
  }

  /** Wait until buf, from offset `from`, holds a prompt; the text before it, or undefined. */
  private async prompt(c: ChildProcess, from: number, end: number): Promise<string | undefined> {
    for (;;) {
      const i = this.buf.indexOf("qemu-io> ", from);
      if (i >= 0) return this.buf.slice(from, i);
      if (this.child !== c || Date.now() > end) return undefined;
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, Math.min(200, end - Date.now())));
        this.waiter = () => {
          clearTimeout(t);
          r();
        };
      });
      this.waiter = undefined;
    }
  }

  /** Send one command; the output up to the next prompt, or undefined (no answer in time: replaced). */
  private async command(cmd: string, timeoutMs: number): Promise<string | undefined> {
    const end = Date.now() + timeoutMs;
    let c = this.child;
    if (!c) {
      c = this.start();
      // the first prompt comes once qemu-io has logged in (a failed login exits instead)
      if ((await this.prompt(c, 0, end)) === undefined) return void this.close();
      this.buf = "";
    }
    const from = this.buf.length;
    c.stdin!.write(`${cmd}\n`);
    const out = await this.prompt(c, from, end);
    if (out === undefined) this.close();
    else this.buf = this.buf.slice(from + out.length + "qemu-io> ".length); // keep what follows
    return out;
  }

  /** Write block i filled with byte `pattern` and flush; true when both are acknowledged. */
  async write(i: number, pattern: number, timeoutMs = 20_000): Promise<boolean> {
    const w = await this.command(`write -P ${pattern} ${i * BLOCK} ${BLOCK}`, timeoutMs);
    if (!w || !/^wrote /m.test(w)) return false;
    const f = await this.command("flush", timeoutMs);
    return f !== undefined && !/failed/i.test(f);
  }

  close(): void {
    const c = this.child;
    this.child = undefined;
    if (c?.pid) killPid(c.pid);
  }
}

export interface FailoverResult {
  killed: string;
  survivor: string;
  /** hard kill -> first successful, verified read through the VIP */
  failoverMs: number;
  /** blocks acknowledged before and during the failover */
  acked: number[];
  /** writes attempted during the failover that were not acknowledged (may or may not be on disk) */
  unacked: number[];
  verify: { ok: boolean; failed: number[]; out: string };
  serialBefore: string;
  serialAfter: string;
}

/** A writer through the VIP, one block per call, until stopped; every acknowledged block is kept. */
class Writer {
  readonly acked: number[] = [];
  readonly unacked: number[] = [];
  /** acknowledged since mark() */
  sinceMark = 0;
  /** longest time between two acknowledged writes (the client's stall) */
  longestGapMs = 0;
  private marked = false;
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(c: IscsiClient, pre: number[]) {
    this.acked.push(...pre);
    let next = pre.length;
    let last = Date.now();
    this.done = (async () => {
      while (!this.stopped) {
        const b = next++;
        if (await c.write([b], 12_000)) {
          this.acked.push(b);
          this.longestGapMs = Math.max(this.longestGapMs, Date.now() - last);
          last = Date.now();
          if (this.marked) this.sinceMark++;
        } else {
          this.unacked.push(b);
          await sleep(100);
        }
      }
    })();
  }

  mark(): void {
    this.marked = true;
  }

  /** Wait (at most 20 s) for n acknowledged writes after mark(), then stop. */
  async finish(n = 4): Promise<void> {
    for (let i = 0; i < 200 && this.sinceMark < n; i++) await sleep(100);
    await this.stop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

/** Initial blocks, the LU serial, and a writer running through the VIP. */
async function beginEpisode(rig: Rig, d: Deployed, pre: number, log: (m: string) => void): Promise<{ c: IscsiClient; w: Writer; serialBefore: string }> {
  const c = new IscsiClient(rig, d.vip, d.lun, 0, d.login);
  const blocks = Array.from({ length: pre }, (_, i) => i);
  if (!(await c.write(blocks))) throw new Error("initial writes through the VIP failed");
  const serialBefore = await c.serial();
  log(`wrote ${pre} blocks of ${BLOCK / 1024} KiB through ${d.vip} (target on ${d.active}), LU serial ${serialBefore}`);
  const w = new Writer(c, blocks);
  await sleep(500);
  return { c, w, serialBefore };
}

/** Poll until `ready()` and a verified read of block 0 through the VIP; ms since t0. */
async function firstVerifiedRead(c: IscsiClient, w: Writer, d: Deployed, t0: number, ready: () => Promise<boolean>): Promise<number> {
  for (;;) {
    if (Date.now() - t0 > 120_000) {
      await w.stop();
      throw new Error(`no read through ${d.vip} within 120 s of the fault`);
    }
    if (await ready()) {
      const v = await c.verify([0], 10_000);
      if (v.ok) return Date.now() - t0;
    } else await sleep(100);
  }
}

/** Read back every acknowledged block and the serial after the episode. */
async function endEpisode(c: IscsiClient, w: Writer, log: (m: string) => void): Promise<{ verify: FailoverResult["verify"]; serialAfter: string }> {
  const serialAfter = await c.serial();
  const verify = await c.verify(w.acked);
  log(`read back ${w.acked.length} acknowledged blocks: ${verify.ok ? "all correct" : `FAILED ${verify.failed.join(",")}`}`);
  return { verify, serialAfter };
}

/**
 * Write `pre` blocks, keep a writer going, hard-kill the active node, time the first verified
 * read through the VIP, let the writer land a few blocks on the survivor, then read back every
 * acknowledged block.
 */
export async function hardKillFailover(
  rig: Rig,
  d: Deployed,
  o: { pre?: number; log?: (m: string) => void; /** also dies with the node, e.g. the DRBD simulator's node kernel */ onKill?: (node: string) => void } = {},
): Promise<FailoverResult> {
  const log = o.log ?? (() => {});
  const { c, w, serialBefore } = await beginEpisode(rig, d, o.pre ?? 16, log);
  const survivor = rig.nodes.find((n) => n.name !== d.active && n.up)!.name;
  const survivorMac = rig.mac(survivor);
  const t0 = await rig.hardKill(d.active);
  o.onKill?.(d.active);
  // the VIP answering from the survivor, then a verified read of block 0
  const failoverMs = await firstVerifiedRead(c, w, d, t0, async () => (await rig.waitArp(d.vip, survivorMac, { timeoutMs: 10_000 })) !== undefined);
  w.mark();
  log(`first verified read through ${d.vip} from ${survivor}: ${(failoverMs / 1000).toFixed(2)} s after the kill`);
  await w.finish();
  return { killed: d.active, survivor, failoverMs, acked: w.acked, unacked: w.unacked, ...(await endEpisode(c, w, log)), serialBefore };
}

export interface PartitionResult {
  /** the node the cluster fenced, and the one left serving */
  fenced: string;
  survivor: string;
  /** whether the survivor is the node that ran the target before the cut (no failover needed) */
  activeSurvived: boolean;
  /** cut -> the fence device reports the loser off */
  fencedMs: number;
  /** cut -> first verified read through the VIP once the loser is off */
  resolvedMs: number;
  /** longest time the client went without an acknowledged write */
  stallMs: number;
  acked: number[];
  unacked: number[];
  verify: FailoverResult["verify"];
  serialBefore: string;
  serialAfter: string;
}

/**
 * On a fenced rig: cut the active node's cluster link while the client writes, wait until one
 * node has been fenced (powered off), heal the link, time the first verified read through the VIP
 * from the survivor, then read back every acknowledged block. The fenced node stays off.
 */
export async function partitionFailover(rig: Rig, d: Deployed, o: { pre?: number; log?: (m: string) => void; /** also cut with the cluster link, e.g. DRBD's */ onCut?: () => void; onHeal?: () => void } = {}): Promise<PartitionResult> {
  const log = o.log ?? (() => {});
  const before = rig.fenceEvents().length;
  const { c, w, serialBefore } = await beginEpisode(rig, d, o.pre ?? 16, log);
  const t0 = Date.now();
  rig.cut(d.active);
  o.onCut?.();
  let off: ReturnType<Rig["fenceEvents"]>[number] | undefined;
  while (!(off = rig.fenceEvents().slice(before).find((e) => e.ok && (e.action === "off" || e.action === "reboot")))) {
    if (Date.now() - t0 > 120_000) {
      await w.stop();
      throw new Error("no node fenced within 120 s of the cluster-link cut");
    }
    await sleep(50);
  }
  const fencedMs = off.at - t0;
  rig.heal();
  o.onHeal?.();
  const survivor = rig.nodes.find((n) => n.name !== off!.plug)!.name;
  const mac = rig.mac(survivor);
  log(`cut ${d.active}'s cluster link; ${off.plug} fenced by ${off.from} after ${(fencedMs / 1000).toFixed(2)} s`);
  const resolvedMs = await firstVerifiedRead(c, w, d, t0, async () => (await rig.waitArp(d.vip, mac, { timeoutMs: 10_000 })) !== undefined);
  w.mark();
  await w.finish();
  return { fenced: off.plug, survivor, activeSurvived: survivor === d.active, fencedMs, resolvedMs, stallMs: w.longestGapMs, acked: w.acked, unacked: w.unacked, ...(await endEpisode(c, w, log)), serialBefore };
}

/** Is the client tooling there? */
export async function clientToolsMissing(): Promise<string | undefined> {
  for (const [cmd, pkg] of [["qemu-io", "qemu-utils qemu-block-extra"], ["iscsi-inq", "libiscsi-bin"], ["tgtd", "tgt"], ["arping", "iputils-arping"]] as const) {
    const r = await exec("sh", ["-c", `command -v ${cmd}`]);
    if (r.code !== 0) return `${cmd} missing (apt-get install ${pkg})`;
  }
  return undefined;
}
