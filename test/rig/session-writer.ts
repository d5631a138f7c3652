// What one persistent iSCSI session sees across a failover, for bench/session-stall.bench.ts:
//
// - StallWriter: ONE qemu-io process (libiscsi, userspace initiator) logged in through the VIP,
//   fed commands on stdin, issuing one small durable write every ~50 ms (each to its own block,
//   with its own pattern byte) and recording per write its send time, completion time and
//   outcome. An application with one outstanding write: the next write waits for the previous.
// - PacketTrace: tcpdump in the client namespace (port 3260 and ARP): when the client
//   retransmitted, when the new owner of the VIP announced it, when the first segment reached
//   the survivor (its RST), when the new TCP connection (a new iSCSI session) was made.
// - SocketSampler: `ss -tino` snapshots of the client's connection (rto, backoff, retrans).
// - VipWatch: which node holds the VIP, from the host (ip -n NS addr; no traffic on the rig).
//
// Client-side semantics, chosen explicitly (see the bench's notes):
// - libiscsi command timeout: `timeoutS` (qemu's `timeout=` option). 0 (default) = none, as
//   open-iscsi's I/O path, which queues commands for replacement_timeout (120 s) while it
//   reconnects. qemu's iSCSI driver still sends a NOP-Out every 5 s and reconnects after 3
//   unanswered ones; with a timeout, qemu does not fail the command either: it reconnects and
//   retries it (up to 7 times), so `timeout=5` works like open-iscsi's NOP-Out timeout (5+5 s).
// - a write counts as an I/O error when qemu-io reports it failed, or when it gets no answer
//   within `answerMs` (default 120 s, open-iscsi's replacement_timeout): then the process is
//   replaced (a new session, counted).
// - durable write: `write -f` (FUA). qemu-io's `flush` command ignores blk_flush()'s result
//   (qemu 7.2 qemu-io-cmds.c flush_f returns 0), so a failed flush would be invisible; with
//   -f the block layer sends the write with FUA, or (target without DPOFUA) the write then a
//   flush, and reports either's error as "write failed".
import type { ChildProcess } from "node:child_process";
import { exec, killPid, sleep } from "./exec.js";
import { imageOpts } from "./iscsi.js";
import type { Rig } from "./rig.js";

export const SMALL_BLOCK = 4096;

/** Pattern byte of block b (never 0: an unwritten block reads as zeros; neighbours differ). */
export const blockPattern = (b: number): number => (b % 255) + 1;

export interface WriteRecord {
  /** block index (offset = block * blockSize), unique for the writer's lifetime */
  block: number;
  pattern: number;
  /** Date.now() when the write was sent, and when its answer came (or the writer gave up) */
  sentAt: number;
  doneAt: number;
  ok: boolean;
  /** qemu-io's message, or why there was none */
  error?: string;
  /** qemu-io process (1 = the first) that carried it */
  process: number;
}

export interface StallWriterOptions {
  /** first block to write (the writer counts up from there) */
  firstBlock: number;
  /** libiscsi command timeout, s (qemu's timeout=); 0 = none */
  timeoutS?: number;
  /** no answer to one write within this: an I/O error, and the process is replaced */
  answerMs?: number;
  intervalMs?: number;
  blockSize?: number;
  client?: number;
}

const PROMPT = "qemu-io> ";

/** One persistent qemu-io session through the VIP writing timestamped blocks until stopped. */
export class StallWriter {
  readonly records: WriteRecord[] = [];
  /** qemu-io's stderr lines (qemu's iSCSI messages: NOP timeout, retries, reconnects) */
  readonly messages: Array<{ at: number; line: string }> = [];
  /** qemu-io processes started, and those that logged in (printed a prompt) */
  processes = 0;
  loggedIn = 0;
  private child: ChildProcess | undefined;
  private out = "";
  private errTail = "";
  private wake: (() => void) | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private next: number;
  readonly blockSize: number;

  constructor(
    readonly rig: Rig,
    readonly vip: string,
    readonly lun: number,
    readonly o: StallWriterOptions,
  ) {
    this.next = o.firstBlock;
    this.blockSize = o.blockSize ?? SMALL_BLOCK;
  }

  /** qemu's block options: no CHAP; timeout only when asked for */
  imageOpts(): string {
    return imageOpts(this.vip, this.lun, { timeoutS: this.o.timeoutS });
  }

  private spawn(): ChildProcess {
    this.processes++;
    this.out = "";
    // stdbuf: stdout is a pipe, and the prompt (no newline) would sit in qemu-io's buffer
    const c = this.rig.spawnClient(this.o.client ?? 0, "stdbuf", ["-o0", "-e0", "qemu-io", "--image-opts", this.imageOpts()], { stdin: true });
    c.stdout!.on("data", (d: Buffer) => {
      this.out += d.toString();
      this.wake?.();
    });
    c.stderr!.on("data", (d: Buffer) => {
      const s = this.errTail + d.toString();
      const lines = s.split("\n");
      this.errTail = lines.pop()!;
      for (const l of lines) if (l.trim()) this.messages.push({ at: Date.now(), line: l.trim() });
      this.wake?.();
    });
    c.on("exit", () => {
      if (this.child === c) this.child = undefined;
      this.wake?.();
    });
    c.stdin!.on("error", () => {});
    this.child = c;
    return c;
  }

  /** Wait for the next prompt from offset `from`; the text before it, or undefined (gone / late). */
  private async prompt(c: ChildProcess, from: number, end: number): Promise<string | undefined> {
    for (;;) {
      const i = this.out.indexOf(PROMPT, from);
      if (i >= 0) {
        const text = this.out.slice(from, i);
        this.out = this.out.slice(i + PROMPT.length);
        return text;
      }
      if (this.child !== c || Date.now() >= end) return undefined;
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, Math.min(250, end - Date.now())));
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
      this.wake = undefined;
    }
  }

  /** One command; qemu-io's output, or an error string when it gave none. */
  private async command(cmd: string, end: number): Promise<{ out?: string; error?: string }> {
    let c = this.child;
    if (!c) {
      c = this.spawn();
      // the first prompt comes once qemu-io has logged in (a failed login exits instead)
      if ((await this.prompt(c, 0, end)) === undefined) {
        const why = this.child === c ? "no login before the deadline" : `qemu-io exited at login: ${this.messages.slice(-1)[0]?.line ?? "?"}`;
        this.close();
        return { error: why };
      }
      this.loggedIn++;
    }
    c.stdin!.write(`${cmd}\n`);
    const out = await this.prompt(c, 0, end);
    if (out === undefined) {
      const why = this.child === c ? `no answer in ${this.o.answerMs ?? 120_000} ms` : `qemu-io exited: ${this.messages.slice(-1)[0]?.line ?? "?"}`;
      this.close();
      return { error: why };
    }
    return { out };
  }

  /** Start writing every intervalMs (the next write waits for the previous one's answer). */
  start(): void {
    const every = this.o.intervalMs ?? 50;
    this.loop = (async () => {
      let due = Date.now();
      while (!this.stopped) {
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait);
        const block = this.next++;
        const pattern = blockPattern(block);
        const sentAt = Date.now();
        due = sentAt + every;
        const r = await this.command(`write -f -P ${pattern} ${block * this.blockSize} ${this.blockSize}`, sentAt + (this.o.answerMs ?? 120_000));
        const ok = r.out !== undefined && /^wrote /m.test(r.out) && !/failed/i.test(r.out);
        const error = ok ? undefined : (r.error ?? r.out?.trim().split("\n").find((l) => /failed|error/i.test(l)) ?? r.out?.trim() ?? "?");
        this.records.push({ block, pattern, sentAt, doneAt: Date.now(), ok, process: this.processes, ...(error ? { error } : {}) });
      }
    })();
  }

  /** Acknowledged writes completed after t. */
  ackedAfter(t: number): number {
    return this.records.filter((r) => r.ok && r.doneAt > t).length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    this.close();
  }

  close(): void {
    const c = this.child;
    this.child = undefined;
    if (c?.pid) killPid(c.pid);
  }
}

export interface Gap {
  ms: number;
  /** the acknowledged write before the gap, and the first one after it */
  from: number;
  to: number;
}

/** Longest time between two acknowledged writes (completion to completion). */
export function longestGap(records: WriteRecord[]): Gap {
  const acks = records.filter((r) => r.ok).map((r) => r.doneAt);
  let g: Gap = { ms: 0, from: acks[0] ?? 0, to: acks[0] ?? 0 };
  for (let i = 1; i < acks.length; i++) if (acks[i]! - acks[i - 1]! > g.ms) g = { ms: acks[i]! - acks[i - 1]!, from: acks[i - 1]!, to: acks[i]! };
  return g;
}

/**
 * Read back acknowledged blocks through the VIP (new logins, 300 reads per qemu-io call);
 * returns the blocks whose pattern did not verify (or that could not be read).
 */
export async function verifyBlocks(rig: Rig, vip: string, lun: number, blocks: Array<{ block: number; pattern: number }>, blockSize = SMALL_BLOCK, client = 0): Promise<{ bad: number[]; out: string }> {
  const bad: number[] = [];
  let out = "";
  const opts = imageOpts(vip, lun);
  for (let i = 0; i < blocks.length; i += 300) {
    const chunk = blocks.slice(i, i + 300);
    const cmds = chunk.flatMap((b) => ["-c", `read -P ${b.pattern} ${b.block * blockSize} ${blockSize}`]);
    const r = await rig.client(client).run("qemu-io", ["--image-opts", opts, ...cmds], { timeoutMs: 120_000 });
    const failed = new Set([...r.out.matchAll(/Pattern verification failed at offset (\d+)/g)].map((m) => Math.floor(Number(m[1]) / blockSize)));
    const reads = (r.stdout.match(/^read /gm) ?? []).length;
    if (r.code !== 0 || reads !== chunk.length) {
      // could not read them all: every block of the chunk not positively read counts
      out += r.out.slice(-500);
      if (reads !== chunk.length) for (const b of chunk) failed.add(b.block);
    }
    bad.push(...chunk.filter((b) => failed.has(b.block)).map((b) => b.block));
  }
  return { bad, out };
}

// ---- the wire, seen from the client namespace ----

export interface Packet {
  at: number;
  srcMac: string;
  /** "tcp" or "arp" */
  kind: "tcp" | "arp";
  src: string;
  dst: string;
  flags: string;
  /** seq range "a:b" of a segment carrying data (absolute, tcpdump -S) */
  seq?: string;
  len: number;
  line: string;
}

const TCP_RE = /^(\d+\.\d+) ([0-9a-f:]{17}) > ([0-9a-f:]{17}), ethertype IPv4 \(0x0800\), length \d+: ([\d.]+) > ([\d.]+): Flags \[([^\]]*)\](?:, seq (\d+(?::\d+)?))?.*?, length (\d+)/;
const ARP_RE = /^(\d+\.\d+) ([0-9a-f:]{17}) > ([0-9a-f:]{17}), ethertype ARP \(0x0806\), length \d+: (.*)$/;

/** tcpdump on the client's eth0 (iSCSI port and ARP), until stop(). */
export class PacketTrace {
  readonly packets: Packet[] = [];
  private proc: ChildProcess;
  private tail = "";
  private exited: Promise<void>;

  constructor(rig: Rig, client = 0) {
    this.proc = rig.spawnClient(client, "tcpdump", ["-i", "eth0", "-nn", "-tt", "-e", "-S", "-l", "-Z", "root", "(tcp port 3260) or arp"]);
    this.exited = new Promise((r) => this.proc.on("exit", () => r()));
    this.proc.stdout!.on("data", (d: Buffer) => {
      const lines = (this.tail + d.toString()).split("\n");
      this.tail = lines.pop()!;
      for (const l of lines) this.parse(l);
    });
    this.proc.stderr!.on("data", () => {});
  }

  /** resolves once tcpdump is capturing (it says "listening on" on stderr) */
  async ready(): Promise<void> {
    await new Promise<void>((res) => {
      const t = setTimeout(res, 3000);
      this.proc.stderr!.on("data", (d: Buffer) => {
        if (/listening on/.test(d.toString())) {
          clearTimeout(t);
          res();
        }
      });
    });
  }

  private parse(l: string): void {
    let m = TCP_RE.exec(l);
    if (m) {
      this.packets.push({ at: Math.round(Number(m[1]) * 1000), srcMac: m[2]!, kind: "tcp", src: m[4]!, dst: m[5]!, flags: m[6]!, ...(m[7]?.includes(":") ? { seq: m[7] } : {}), len: Number(m[8]), line: l });
      return;
    }
    m = ARP_RE.exec(l);
    if (m) this.packets.push({ at: Math.round(Number(m[1]) * 1000), srcMac: m[2]!, kind: "arp", src: "", dst: "", flags: "", len: 0, line: m[4]! });
  }

  async stop(): Promise<void> {
    await sleep(200); // the last packets through tcpdump
    if (this.proc.pid) killPid(this.proc.pid, "SIGTERM");
    await Promise.race([this.exited, sleep(2000)]);
    if (this.proc.exitCode === null && this.proc.pid) killPid(this.proc.pid);
  }
}

export interface WireSummary {
  /** TCP connections the client opened to the portal that were answered (SYN-ACK) */
  newConnections: number;
  /** client's data segments sent again after the fault (same sequence range) */
  retransmits: number;
  /** client -> VIP data segments after the fault, ms after it (the backoff shows in the spacing) */
  sends: number[];
  /** first ARP for the VIP from the new owner's MAC, ms after the fault */
  announceMs?: number;
  /** first segment from the VIP:3260 carrying RST after the fault, ms after it */
  rstMs?: number;
  /** first SYN-ACK from the VIP:3260 after the fault (new session's connection), ms after it */
  synAckMs?: number;
  /** first RST or SYN-ACK from the new owner's MAC on port 3260, ms after the fault */
  newOwnerMs?: number;
}

/** What the wire says about one fault at t0 (newMac: the VIP's new owner, when it moved). */
export function summarizeWire(packets: Packet[], vip: string, t0: number, newMac?: string): WireSummary {
  const seen = new Set<string>();
  let retransmits = 0;
  const sends: number[] = [];
  const rel = (p?: Packet) => (p ? p.at - t0 : undefined);
  for (const p of packets) {
    if (p.kind !== "tcp" || !p.dst.startsWith(`${vip}.3260`) || !p.seq || p.len === 0) continue;
    const key = `${p.src} ${p.seq}`;
    if (p.at >= t0) {
      sends.push(p.at - t0);
      if (seen.has(key)) retransmits++;
    }
    seen.add(key);
  }
  const after = packets.filter((p) => p.at >= t0);
  const fromVip = (p: Packet) => p.kind === "tcp" && p.src.startsWith(`${vip}.3260`);
  return {
    newConnections: packets.filter((p) => fromVip(p) && p.flags.includes("S") && p.flags.includes(".")).length,
    retransmits,
    sends,
    announceMs: rel(newMac ? after.find((p) => p.kind === "arp" && p.srcMac === newMac && p.line.includes(vip)) : undefined),
    rstMs: rel(after.find((p) => fromVip(p) && p.flags.includes("R"))),
    synAckMs: rel(after.find((p) => fromVip(p) && p.flags.includes("S") && p.flags.includes("."))),
    // its answer to the client's retransmission (RST) or to a new connection (SYN-ACK); not
    // whatever it says on a stale connection
    newOwnerMs: rel(newMac ? after.find((p) => fromVip(p) && p.srcMac === newMac && /[RS]/.test(p.flags)) : undefined),
  };
}

/** `ss -tino` of the client's connections to the portal, every everyMs, until stop(). */
export class SocketSampler {
  readonly samples: Array<{ at: number; text: string }> = [];
  private stopped = false;
  private loop: Promise<void>;

  constructor(rig: Rig, vip: string, everyMs = 100, client = 0) {
    this.loop = (async () => {
      while (!this.stopped) {
        const at = Date.now();
        const r = await rig.client(client).run("ss", ["-Htino", "state", "all", "dst", `${vip}:3260`], { timeoutMs: 5_000 });
        // one socket = a line at column 0 and its indented info line(s); TIME-WAIT leftovers of
        // earlier logins are skipped
        const socks = r.stdout.split(/\n(?=\S)/).map((x) => x.replace(/\s+/g, " ").trim()).filter((x) => x && !x.startsWith("TIME-WAIT"));
        this.samples.push({ at, text: socks.join(" | ") });
        const wait = at + everyMs - Date.now();
        if (wait > 0) await sleep(wait);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** Condensed: one line per change of (state, timer kind, backoff, retrans, rto). */
  condensed(t0: number): string[] {
    const lines: string[] = [];
    let last = "";
    for (const s of this.samples) {
      const f = socketFields(s.text);
      const key = `${f.state} ${f.timer} backoff:${f.backoff} rto:${f.rto} retrans:${f.retrans} port:${f.port}`;
      if (key === last) continue;
      last = key;
      lines.push(`${String(s.at - t0).padStart(6)} ms  ${s.text ? `${f.state} :${f.port} timer:(${f.timerFull}) rto:${f.rto} backoff:${f.backoff} retrans:${f.retrans} unacked:${f.unacked} lastsnd:${f.lastsnd} lastack:${f.lastack}` : "(no connection)"}`);
    }
    return lines;
  }
}

/** The fields of one `ss -tino` line (first socket) that tell a retransmit backoff. */
export function socketFields(text: string): { state: string; port: string; timer: string; timerFull: string; rto: string; backoff: string; retrans: string; unacked: string; lastsnd: string; lastack: string } {
  const g = (re: RegExp) => re.exec(text)?.[1] ?? "-";
  return {
    state: g(/^(\S+)/),
    port: g(/^\S+ \d+ \d+ [\d.]+:(\d+)/),
    timer: g(/timer:\((\w+)/),
    timerFull: g(/timer:\(([^)]*)\)/),
    rto: g(/\brto:([\d.]+)/),
    backoff: g(/\bbackoff:(\d+)/) === "-" ? "0" : g(/\bbackoff:(\d+)/),
    retrans: g(/\bretrans:([\d/]+)/),
    unacked: g(/\bunacked:(\d+)/),
    lastsnd: g(/\blastsnd:(\d+)/),
    lastack: g(/\blastack:(\d+)/),
  };
}

/** Which up nodes hold the VIP on eth1, polled from the host every everyMs; the changes, timed. */
export class VipWatch {
  readonly changes: Array<{ at: number; holders: string[] }> = [];
  private stopped = false;
  private loop: Promise<void>;

  constructor(
    readonly rig: Rig,
    readonly vip: string,
    everyMs = 50,
  ) {
    this.loop = (async () => {
      let last = "?";
      while (!this.stopped) {
        const at = Date.now();
        const holders: string[] = [];
        await Promise.all(
          rig.nodes.map(async (n) => {
            if (!n.up) return;
            const r = await exec("ip", ["-n", n.ns, "-o", "-4", "addr", "show", "dev", "eth1"], { timeoutMs: 5_000 });
            if (n.up && r.stdout.includes(` ${vip}/`)) holders.push(n.name);
          }),
        );
        holders.sort();
        const key = holders.join(",");
        if (key !== last) {
          this.changes.push({ at, holders });
          last = key;
        }
        const wait = at + everyMs - Date.now();
        if (wait > 0) await sleep(wait);
      }
    })();
  }

  /** First time after t0 that `node` alone holds the VIP. */
  heldBy(node: string, t0: number): number | undefined {
    return this.changes.find((c) => c.at >= t0 && c.holders.length === 1 && c.holders[0] === node)?.at;
  }

  /** First time after t0 that nobody holds it. */
  gone(t0: number): number | undefined {
    return this.changes.find((c) => c.at >= t0 && !c.holders.length)?.at;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}
