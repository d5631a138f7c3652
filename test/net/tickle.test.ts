// TCP tickle ACKs (lib/net/tickle.ts): the /proc/net/tcp* parser on real lines, the state-file
// format and its refusal of hostile input, the datagram bytes against resource-agents' tickle_tcp,
// and the takeover for real: a client namespace and two server namespaces A and B on a bridge,
// a connection to the VIP on A, A's link cut, the VIP moved to B; without a tickle the client
// stays in retransmit backoff, with one from B it is reset within a round trip.
// Everything using bun:ffi runs in a Bun subprocess (test/net/tickle-helper.ts) inside the
// namespaces this file creates; nothing touches the host's interfaces.
import t, { type Test } from "tap";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { REPO } from "../lib/xml.js";
import { scratchDir } from "../lib/harness.js";
import {
  TCP_ESTABLISHED,
  TICKLE_WINDOW,
  established,
  formatConns,
  internetChecksum,
  parseConns,
  parseProcNetTcp,
  tickle,
  tickleDatagram,
  type Conn,
} from "../../lib/net/tickle.js";

const BUN = join(REPO, "node_modules/@oven/bun-linux-x64-baseline/bin/bun");
const HELPER = join(REPO, "test/net/tickle-helper.ts");
const TICKLE_TCP = "/usr/libexec/heartbeat/tickle_tcp";
const ID = `tk${process.pid % 100000}`;

// ---- fixtures: real lines (a namespace with servers on 10.244.7.100:3260, [::]:3261 and
// [fd44:7::100]:3262, one local client each), plus a remote client, a TIME_WAIT and another
// address added by hand. x86-64: each 32-bit word printed little-endian.

const PROC_TCP = String.raw`  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 6407F40A:0CBC 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2486269 1 00000000d43a7478 100 0 0 10 0
   1: 6407F40A:A664 6407F40A:0CBD 01 00000000:00000000 00:00000000 00000000     0        0 2486635 2 0000000043f29d01 20 0 0 13 -1
   2: 6407F40A:E900 6407F40A:0CBC 01 00000000:00000000 00:00000000 00000000     0        0 2487313 2 00000000f8a9e8b9 20 0 0 13 -1
   3: 6407F40A:0CBC 6407F40A:E900 01 00000000:00000000 00:00000000 00000000     0        0 2487316 1 0000000033d47910 20 4 26 10 -1
   4: 6407F40A:0CBC 0107F40A:D11C 01 00000000:00000000 01:00000014 00000000     0        0 2487400 1 0000000033d47911 20 4 26 10 -1
   5: 6407F40A:0CBC 0207F40A:C000 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
   6: 6507F40A:0CBC 0107F40A:D11D 01 00000000:00000000 00:00000000 00000000     0        0 2487401 1 0000000033d47912 20 4 26 10 -1
`;
const PROC_TCP6 = String.raw`  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0CBD 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2486267 1 00000000d58083f5 100 0 0 10 0
   1: 070044FD000000000000000000010000:0CBE 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2486553 1 00000000f81ad73f 100 0 0 10 0
   2: 0000000000000000FFFF00006407F40A:0CBD 0000000000000000FFFF00006407F40A:A664 01 00000000:00000000 00:00000000 00000000     0        0 2486636 1 000000004c0fabdd 20 4 26 10 -1
   3: 070044FD000000000000000000010000:0CBE 070044FD000000000000000000010000:85EA 01 00000000:00000000 00:00000000 00000000     0        0 2487314 1 00000000fbb5e097 20 4 26 10 -1
   4: 070044FD000000000000000000010000:85EA 070044FD000000000000000000010000:0CBE 01 00000000:00000000 00:00000000 00000000     0        0 2487312 2 00000000547a5ede 20 0 0 13 -1
   5: 070044FD000000000000000000010000:0CBC 070044FD000000000000000001000000:D11E 01 00000000:00000000 00:00000000 00000000     0        0 2487402 1 00000000fbb5e098 20 4 26 10 -1
`;

const ep = (ip: string, port: number) => ({ ip, port });
const conn = (l: string, lp: number, r: string, rp: number): Conn => ({ local: ep(l, lp), remote: ep(r, rp) });

t.test("/proc/net/tcp and tcp6 parsing", async (t) => {
  const all = parseProcNetTcp(PROC_TCP + PROC_TCP6);
  t.equal(all.length, 13, "every socket line, headers skipped");
  t.same(all[0], { local: ep("10.244.7.100", 3260), remote: ep("0.0.0.0", 0), state: 0x0a }, "little-endian IPv4 word, port in plain hex");
  t.same(all[8], { ...conn("fd44:7::100", 3262, "::", 0), state: 0x0a }, "IPv6: four little-endian words, canonical text");
  t.same(all[9], { ...conn("10.244.7.100", 3261, "10.244.7.100", 42596), state: TCP_ESTABLISHED }, "IPv4-mapped IPv6 of a dual-stack listener reported as IPv4");
  t.same(all[12], { ...conn("fd44:7::100", 3260, "fd44:7::1", 53534), state: TCP_ESTABLISHED }, "bytes reversed within each word, not across words");

  const text = PROC_TCP + PROC_TCP6;
  t.same(established("10.244.7.100", 3260, text), [conn("10.244.7.100", 3260, "10.244.7.100", 59648), conn("10.244.7.100", 3260, "10.244.7.1", 53532)], "ESTABLISHED only (no LISTEN, no TIME_WAIT), local end only, other addresses ignored");
  t.same(established("10.244.7.100", 3261, text), [conn("10.244.7.100", 3261, "10.244.7.100", 42596)], "dual-stack connection found from tcp6");
  t.same(established("::ffff:10.244.7.100", 3261, text), established("10.244.7.100", 3261, text), "the address may be given IPv4-mapped");
  t.same(established("FD44:7:0::100", 3262, text), [conn("fd44:7::100", 3262, "fd44:7::100", 34282)], "IPv6, address in any spelling");
  t.same(
    established("10.244.7.100", 0, text).map((c) => `${c.local.port}>${c.remote.port}`),
    ["42596>3261", "59648>3260", "3260>59648", "3260>53532", "3261>42596"],
    "port 0: every port of the address, as portblock records",
  );
  t.same(established("10.244.7.200", 3260, text), [], "nothing for another address");
  t.same(established("10.244.7.100", 3260, "garbage\n\n  0: zz\n"), [], "garbage lines skipped");
  t.throws(() => established("10.244.7.300", 3260, text), /not an IP address/);
  t.throws(() => established("10.244.7.100", 70000, text), /not a port/);
  t.ok(Array.isArray(established("127.0.0.1", 1)), "reads this namespace's /proc/net/tcp* without throwing");
});

t.test("state-file format: round trip, comments, blank lines, tabs", async (t) => {
  const conns = [conn("10.244.7.100", 3260, "10.244.7.1", 53532), conn("fd44:7::100", 3260, "fd44:7::1", 40000)];
  const text = formatConns(conns);
  t.equal(text, "10.244.7.100:3260 10.244.7.1:53532\n[fd44:7::100]:3260 [fd44:7::1]:40000\n");
  t.same(parseConns(text), conns);
  t.equal(formatConns([]), "");
  t.same(parseConns(""), []);
  t.same(parseConns("# written by monitor\n\n  10.244.7.100:3260\t10.244.7.1:53532  # the initiator\r\n\n"), [conn("10.244.7.100", 3260, "10.244.7.1", 53532)], "comments, tabs, CRLF");
  t.same(parseConns("[FD44:7:0::100]:3260 [fd44:7::0001]:1\n"), [conn("fd44:7::100", 3260, "fd44:7::1", 1)], "IPv6 canonicalised");
  t.same(parseConns("[::ffff:10.1.2.3]:3260 10.1.2.4:99"), [conn("10.1.2.3", 3260, "10.1.2.4", 99)], "IPv4-mapped as IPv4");
});

t.test("parseConns refuses hostile and malformed input, naming the line", async (t) => {
  const bad: Array<[string, RegExp]> = [
    ["10.0.0.1:3260 10.0.0.2:4000; rm -rf /", /line 1: expected "LOCALIP:PORT REMOTEIP:PORT"/],
    ["10.0.0.1:3260 $(reboot)", /line 1: not IP:PORT: "\$\(reboot\)"/],
    ["10.0.0.1:3260 `id`:1", /not IP:PORT/],
    ["10.0.0.1:3260 10.0.0.2:4000|sh", /not IP:PORT/],
    ["10.0.0.1:3260 10.0.0.2:4000&&x", /not IP:PORT/],
    ["10.0.0.1:3260 10.0.0.2:4000>/etc/passwd", /not IP:PORT/],
    ["10.0.0.1:3260 10.0.0.2:4000\0", /not IP:PORT/],
    ["10.0.0.1:3260 10.0.0.2:65536", /port out of range/],
    ["10.0.0.1:0 10.0.0.2:4000", /port out of range/],
    ["10.0.0.1:99999 10.0.0.2:4000", /port out of range/],
    ["10.0.0.1:123456 10.0.0.2:4000", /not IP:PORT/],
    ["10.0.0.1:-1 10.0.0.2:4000", /not IP:PORT/],
    ["10.0.0.1:+80 10.0.0.2:4000", /not IP:PORT/],
    ["10.0.0.1:0x50 10.0.0.2:4000", /not IP:PORT/],
    ["10.0.0.1: 10.0.0.2:4000", /not IP:PORT/],
    ["10.0.0.1 10.0.0.2:4000", /not IP:PORT/],
    ["10.0.0.256:3260 10.0.0.2:4000", /not an IPv4 address: "10.0.0.256"/],
    ["10.0.0:3260 10.0.0.2:4000", /not an IPv4 address/],
    ["010.0.0.1:3260 10.0.0.2:4000", /not an IPv4 address/],
    ["host.example:3260 10.0.0.2:4000", /not IP:PORT/],
    ["fd00::1:3260 fd00::2:4000", /an IPv6 address needs brackets/],
    ["[10.0.0.1]:3260 10.0.0.2:4000", /not an IPv6 address/],
    ["[fd00::1::2]:3260 [fd00::2]:4000", /not an IPv6 address/],
    ["[fe80::1%eth0]:3260 [fe80::2]:4000", /not IP:PORT/],
    ["[fd00::1]:3260 10.0.0.2:4000", /different families/],
    ["0.0.0.0:3260 10.0.0.2:4000", /not a unicast address/],
    ["10.0.0.1:3260 255.255.255.255:4000", /not a unicast address/],
    ["10.0.0.1:3260 224.0.0.1:4000", /not a unicast address/],
    ["[::]:3260 [fd00::2]:4000", /not a unicast address/],
    ["[fd00::1]:3260 [ff02::1]:4000", /not a unicast address/],
    ["10.0.0.1:3260", /expected "LOCALIP:PORT REMOTEIP:PORT"/],
    ["10.0.0.1:3260 10.0.0.2:4000 10.0.0.3:1", /expected/],
    ["１０.0.0.1:3260 10.0.0.2:4000", /not IP:PORT/],
  ];
  for (const [input, re] of bad) t.throws(() => parseConns(input), re, JSON.stringify(input));
  t.throws(() => parseConns("10.0.0.1:3260 10.0.0.2:4000\n\n# ok\n10.0.0.1:3260 nonsense\n"), { message: /^line 4: / }, "the line number counts blank and comment lines");
  try {
    parseConns("x ".repeat(10000));
    t.fail("accepted");
  } catch (e) {
    t.ok((e as Error).message.length < 400, "the quoted garbage is truncated");
  }
});

/** Independent RFC 1071 check: the one's-complement sum over a checksummed region is 0xffff. */
function sumsToOnes(...parts: Uint8Array[]): boolean {
  const all = Buffer.concat(parts);
  let s = 0;
  for (let i = 0; i < all.length; i += 2) s += (all[i]! << 8) | (all[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s === 0xffff;
}

function pseudo(pkt: Uint8Array): Uint8Array {
  const v6 = pkt[0]! >> 4 === 6;
  const tcpLen = pkt.length - (v6 ? 40 : 20);
  return v6
    ? Buffer.concat([pkt.subarray(8, 40), Buffer.from([0, 0, tcpLen >> 8, tcpLen & 0xff, 0, 0, 0, 6])])
    : Buffer.concat([pkt.subarray(12, 20), Buffer.from([0, 6, tcpLen >> 8, tcpLen & 0xff])]);
}

t.test("the tickle datagram: ACK only, seq 0, ack 0, nonzero window, correct checksums", async (t) => {
  const p4 = tickleDatagram(conn("10.244.7.100", 3260, "10.244.7.1", 53532));
  t.equal(p4.length, 40);
  t.same([...p4.subarray(0, 1)], [0x45], "IPv4, 20-byte header");
  t.equal(p4[9], 6, "protocol TCP");
  t.same([...p4.subarray(12, 20)], [10, 244, 7, 100, 10, 244, 7, 1], "from the VIP to the client");
  t.ok(sumsToOnes(p4.subarray(0, 20)), "IPv4 header checksum");
  const tcp4 = Buffer.from(p4.subarray(20));
  t.equal(tcp4.readUInt16BE(0), 3260);
  t.equal(tcp4.readUInt16BE(2), 53532);
  t.equal(tcp4.readUInt32BE(4), 0, "seq 0");
  t.equal(tcp4.readUInt32BE(8), 0, "ack 0");
  t.equal(tcp4[12], 0x50, "data offset 5");
  t.equal(tcp4[13], 0x10, "ACK only");
  t.equal(tcp4.readUInt16BE(14), TICKLE_WINDOW);
  t.ok(TICKLE_WINDOW > 0);
  t.ok(sumsToOnes(pseudo(p4), tcp4), "TCP checksum over the IPv4 pseudo-header");

  const p6 = tickleDatagram(conn("fd44:7::100", 3260, "fd44:7::1", 40000));
  t.equal(p6.length, 60);
  t.equal(p6[0]! >> 4, 6);
  t.equal(Buffer.from(p6).readUInt16BE(4), 20, "payload length");
  t.equal(p6[6], 6, "next header TCP");
  const tcp6 = Buffer.from(p6.subarray(40));
  t.equal(tcp6[13], 0x10);
  t.ok(sumsToOnes(pseudo(p6), tcp6), "TCP checksum over the IPv6 pseudo-header");

  t.equal(internetChecksum(Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7])), 0x220d, "RFC 1071 section 3 example (sum ddf2)");
  t.throws(() => tickleDatagram(conn("10.0.0.1", 1, "fd00::1", 2)), /families differ/);
});

t.test("tickle() under Node: no FFI, errors collected, nothing thrown", async (t) => {
  const r = tickle([conn("10.244.7.100", 3260, "10.244.7.1", 53532), conn("10.0.0.1", 1, "nonsense", 2)]);
  t.equal(r.sent, 0);
  t.match(r.errors.join("\n"), /nonsense.*not an IP address/);
  t.match(r.errors.join("\n"), /need the compiled agent \(bun:ffi\)/);
  t.same(tickle([]), { sent: 0, errors: [] });
});

// ---- namespaces and processes ---------------------------------------------------------------

const namespaces = new Set<string>();
const procs = new Set<Proc>();
const scratch = scratchDir("tickle");
t.teardown(() => {
  for (const p of procs) p.kill();
  for (const ns of namespaces) removeNs(ns);
  rmSync(scratch, { recursive: true, force: true });
});

function sh(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", input, timeout: 30000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

function addNs(name: string): string {
  removeNs(name);
  namespaces.add(name);
  sh("ip", ["netns", "add", name]);
  sh("ip", ["-n", name, "link", "set", "lo", "up"]);
  return name;
}

/** Kill what still runs inside (by PID: only processes this test started live there) and delete it. */
function removeNs(name: string): void {
  const pids = spawnSync("ip", ["netns", "pids", name], { encoding: "utf8" }).stdout?.split(/\s+/).filter(Boolean) ?? [];
  for (const pid of pids) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      /* gone */
    }
  }
  spawnSync("ip", ["netns", "del", name]);
  namespaces.delete(name);
}

interface Ev {
  ev: string;
  t: number;
  [k: string]: unknown;
}

/** A helper process in a namespace, its JSON events collected as they come. */
class Proc {
  readonly events: Ev[] = [];
  stderr = "";
  private exited = false;
  private readonly wake = new Set<() => void>();
  constructor(readonly child: ChildProcess) {
    procs.add(this);
    if (child.stdout) {
      createInterface({ input: child.stdout }).on("line", (l) => {
        try {
          this.events.push(JSON.parse(l) as Ev);
        } catch {
          this.stderr += `(stdout) ${l}\n`;
        }
        for (const w of this.wake) w();
      });
    }
    child.stderr?.on("data", (d) => (this.stderr += d));
    child.on("exit", () => {
      this.exited = true;
      procs.delete(this);
      for (const w of this.wake) w();
    });
  }
  /** The first `ev` event, waiting up to `ms`; undefined on timeout or exit without it. */
  async waitFor(ev: string, ms: number): Promise<Ev | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const e = this.events.find((x) => x.ev === ev);
      if (e || this.exited || Date.now() >= deadline) return e;
      await new Promise<void>((resolve) => {
        const w = () => {
          clearTimeout(timer);
          this.wake.delete(w);
          resolve();
        };
        const timer = setTimeout(w, deadline - Date.now());
        this.wake.add(w);
      });
    }
  }
  kill(): void {
    if (!this.exited && this.child.pid) {
      try {
        process.kill(this.child.pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
  }
}

/** `ip netns exec NS bun tickle-helper.ts ...` (ip execs into bun: the child's pid is bun's). */
function helper(ns: string, args: string[], input?: string): Proc {
  const child = spawn("ip", ["netns", "exec", ns, BUN, HELPER, ...args], { stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
  if (input !== undefined) child.stdin!.end(input);
  return new Proc(child);
}

/** Run a helper to its end; its events. */
async function helperRun(ns: string, args: string[], input?: string): Promise<{ events: Ev[]; stdout: string; stderr: string }> {
  const r = spawnSync("ip", ["netns", "exec", ns, BUN, HELPER, ...args], { encoding: "utf8", input, timeout: 30000 });
  if (r.status !== 0) throw new Error(`helper ${args.join(" ")}: ${r.stderr}`);
  const events = r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Ev);
  return { events, stdout: r.stdout, stderr: r.stderr };
}

function macOf(ns: string, dev: string): string {
  return (JSON.parse(sh("ip", ["-n", ns, "-j", "link", "show", dev])) as Array<{ address: string }>)[0]!.address;
}

/** ss's timer text (iproute2 print_ms_timer: "188ms", "3.188ms" for 3.188 s, "3sec", "1min5sec") in ms. */
function timerMs(s: string): number | undefined {
  const m = /^(?:(\d+)min)?(?:(\d+)(?:sec|\.))?(?:(\d+)ms)?$/.exec(s);
  if (!m || s === "") return undefined;
  return Number(m[1] ?? 0) * 60000 + Number(m[2] ?? 0) * 1000 + Number(m[3] ?? 0);
}

t.test("ss timer text", async (t) => {
  t.equal(timerMs("188ms"), 188);
  t.equal(timerMs("3.188ms"), 3188);
  t.equal(timerMs("3sec"), 3000);
  t.equal(timerMs("1min5sec"), 65000);
});

// ---- pcap --------------------------------------------------------------------------------

interface Seg {
  family: 4 | 6;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  win: number;
  /** the TCP checksum verified over the pseudo-header (independently of lib/net/tickle.ts) */
  csumOk: boolean;
  ip: Buffer;
}

/** TCP segments of an Ethernet pcap file (tcpdump -w, host byte order, micro- or nanoseconds). */
function pcapTcp(file: string): Seg[] {
  const b = readFileSync(file);
  if (b.length < 24) return [];
  const le = b.readUInt32LE(0) === 0xa1b2c3d4 || b.readUInt32LE(0) === 0xa1b23c4d;
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const out: Seg[] = [];
  for (let o = 24; o + 16 <= b.length; ) {
    const len = u32(o + 8);
    const frame = b.subarray(o + 16, o + 16 + len);
    o += 16 + len;
    const type = frame.readUInt16BE(12);
    const ip = frame.subarray(14);
    let family: 4 | 6;
    let tcp: Buffer;
    let src: string;
    let dst: string;
    if (type === 0x0800 && ip[9] === 6) {
      family = 4;
      tcp = ip.subarray((ip[0]! & 0xf) * 4, ip.readUInt16BE(2));
      src = [...ip.subarray(12, 16)].join(".");
      dst = [...ip.subarray(16, 20)].join(".");
    } else if (type === 0x86dd && ip[6] === 6) {
      family = 6;
      tcp = ip.subarray(40, 40 + ip.readUInt16BE(4));
      const hex = (x: Buffer) => x.toString("hex").match(/.{4}/g)!.map((g) => g.replace(/^0+(?=.)/, "")).join(":");
      src = hex(ip.subarray(8, 24));
      dst = hex(ip.subarray(24, 40));
    } else continue;
    const ipOnly = ip.subarray(0, family === 4 ? ip.readUInt16BE(2) : 40 + ip.readUInt16BE(4));
    out.push({
      family,
      src,
      dst,
      sport: tcp.readUInt16BE(0),
      dport: tcp.readUInt16BE(2),
      seq: tcp.readUInt32BE(4),
      ack: tcp.readUInt32BE(8),
      flags: tcp[13]!,
      win: tcp.readUInt16BE(14),
      csumOk: sumsToOnes(pseudo(ipOnly), tcp),
      ip: Buffer.from(ipOnly),
    });
  }
  return out;
}

async function capture(ns: string, dev: string, filter: string[]): Promise<{ stop: () => Promise<Seg[]> }> {
  const file = join(scratch, `${ns}-${dev}-${Date.now()}.pcap`);
  const child = spawn("ip", ["netns", "exec", ns, "tcpdump", "--immediate-mode", "-U", "-n", "-i", dev, "-w", file, ...filter], { stdio: ["ignore", "ignore", "pipe"] });
  const p = new Proc(child);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5000);
    child.stderr!.on("data", () => {
      if (/listening on/.test(p.stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    stop: async () => {
      await new Promise((r) => setTimeout(r, 300));
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGINT");
      await exited;
      return pcapTcp(file);
    },
  };
}

const F = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 };

// ---- live: established() in a namespace ------------------------------------------------------

t.test("established() live: IPv4, IPv6 and a dual-stack listener, read inside the namespace", async (t) => {
  const ns = addNs(`${ID}-l`);
  t.teardown(() => removeNs(ns));
  sh("ip", ["-n", ns, "addr", "add", "10.244.9.1/32", "dev", "lo"]);
  sh("ip", ["-n", ns, "addr", "add", "fd44:9::1/128", "dev", "lo", "nodad"]);
  const servers = [helper(ns, ["server", "10.244.9.1", "3260"]), helper(ns, ["server", "::", "3261"]), helper(ns, ["server", "fd44:9::1", "3262"])];
  for (const s of servers) t.ok(await s.waitFor("listening", 10000), `server listening ${s.stderr}`);
  const c1 = helper(ns, ["client", "10.244.9.1", "3260"]);
  const c2 = helper(ns, ["client", "10.244.9.1", "3261"]);
  const c3 = helper(ns, ["client", "fd44:9::1", "3262"]);
  const [e1, e2, e3] = await Promise.all([c1.waitFor("connected", 10000), c2.waitFor("connected", 10000), c3.waitFor("connected", 10000)]);
  t.ok(e1 && e2 && e3, "three clients connected");
  const seen = async (ip: string, port: number) => parseConns((await helperRun(ns, ["established", ip, String(port)])).stdout);
  t.same(await seen("10.244.9.1", 3260), [conn("10.244.9.1", 3260, "10.244.9.1", e1!.localPort as number)]);
  t.same(await seen("10.244.9.1", 3261), [conn("10.244.9.1", 3261, "10.244.9.1", e2!.localPort as number)], "dual-stack listener: from tcp6, as IPv4");
  t.same(await seen("fd44:9::1", 3262), [conn("fd44:9::1", 3262, "fd44:9::1", e3!.localPort as number)]);
  t.equal((await seen("10.244.9.1", 0)).length, 4, "port 0: both server ends and both client ends of the IPv4 address");
  t.same(await seen("10.244.9.2", 3260), []);
  t.same(established("10.244.9.1", 3260), [], "not visible from the test's own namespace");
});

// ---- live: the datagram against resource-agents' tickle_tcp, and errors --------------------

t.test("same TCP header as tickle_tcp; unreachable clients are collected errors", async (t) => {
  const x = addNs(`${ID}-x`);
  const y = addNs(`${ID}-y`);
  t.teardown(() => {
    removeNs(x);
    removeNs(y);
  });
  sh("ip", ["link", "add", `${ID}x`, "netns", x, "type", "veth", "peer", "name", `${ID}y`, "netns", y]);
  sh("ip", ["-n", x, "link", "set", `${ID}x`, "up"]);
  sh("ip", ["-n", y, "link", "set", `${ID}y`, "up"]);
  sh("ip", ["-n", x, "addr", "add", "10.244.8.1/24", "dev", `${ID}x`]);
  sh("ip", ["-n", y, "addr", "add", "10.244.8.2/24", "dev", `${ID}y`]);
  sh("ip", ["-n", x, "addr", "add", "fd44:8::1/64", "dev", `${ID}x`, "nodad"]);
  sh("ip", ["-n", y, "addr", "add", "fd44:8::2/64", "dev", `${ID}y`, "nodad"]);

  const cap = await capture(y, `${ID}y`, ["tcp", "and", "port", "3260"]);
  const ours = await helperRun(x, ["tickle", "1"], "10.244.8.1:3260 10.244.8.2:40000\n[fd44:8::1]:3260 [fd44:8::2]:40001\n");
  const r = ours.events.find((e) => e.ev === "tickled")!;
  t.same([r.sent, r.errors], [2, []], "one datagram per connection with repeat 1");
  const theirs = existsSync(TICKLE_TCP);
  if (theirs) sh("ip", ["netns", "exec", x, TICKLE_TCP], "10.244.8.1:3260 10.244.8.2:40002\nfd44:8::1:3260 fd44:8::2:40003\n");
  const segs = (await cap.stop()).filter((s) => s.sport === 3260);
  const by = (dport: number) => segs.find((s) => s.dport === dport);
  for (const [dport, family] of [[40000, 4], [40001, 6]] as const) {
    const s = by(dport);
    if (!t.ok(s, `our IPv${family} tickle arrived`)) continue;
    t.same([s!.flags, s!.seq, s!.ack, s!.win, s!.csumOk], [F.ACK, 0, 0, TICKLE_WINDOW, true], `IPv${family}: ACK, seq 0, ack 0, window ${TICKLE_WINDOW}, checksum correct`);
  }
  if (!theirs) t.comment(`${TICKLE_TCP} not installed: no comparison`);
  else {
    // tickle_tcp's datagrams to ports 40002/40003, ours for the same 4-tuple built here: same TCP header bytes
    for (const [dport, src, dst, family] of [[40002, "10.244.8.1", "10.244.8.2", 4], [40003, "fd44:8::1", "fd44:8::2", 6]] as const) {
      const s = by(dport);
      if (!t.ok(s, `tickle_tcp's IPv${family} datagram captured`)) continue;
      const mine = Buffer.from(tickleDatagram(conn(src, 3260, dst, dport))).subarray(family === 4 ? 20 : 40);
      const their = s!.ip.subarray(family === 4 ? 20 : 40);
      const noSum = (b: Buffer) => Buffer.concat([b.subarray(0, 16), b.subarray(18)]).toString("hex");
      t.equal(noSum(mine), noSum(their), `IPv${family}: TCP header as tickle_tcp's (ports, seq, ack, offset, flags, window)`);
      if (s!.csumOk) t.equal(mine.readUInt16BE(16), their.readUInt16BE(16), `IPv${family}: and the same checksum`);
      else {
        // resource-agents 4.12's tickle_tcp (Debian 12) sends IPv6 tickles with a checksum
        // missing the pseudo-header's length and next header: the client's kernel drops them
        t.comment(`tickle_tcp's IPv${family} checksum 0x${their.readUInt16BE(16).toString(16)} is wrong (ours 0x${mine.readUInt16BE(16).toString(16)} verifies)`);
      }
    }
  }

  const bad = await helperRun(x, ["tickle"], "10.244.8.1:3260 10.99.0.1:40000\n10.244.8.1:3260 10.244.8.2:40004\n[fd44:8::1]:3260 [fd44:99::1]:1\n[fe80::1]:3260 [fe80::2]:1\n");
  const b = bad.events.find((e) => e.ev === "tickled")!;
  t.equal(b.sent, 3, "the reachable connection still got its 3 datagrams");
  const errs = (b.errors as string[]).join("\n");
  t.match(errs, /10\.99\.0\.1:40000: sendto: ENETUNREACH/, "no route: ENETUNREACH collected, not thrown");
  t.match(errs, /\[fd44:99::1\]:1: sendto: ENETUNREACH/);
  t.match(errs, /fe80::2.*link-local/);
  t.equal((b.errors as string[]).length, 3, `one error per failed connection, not per repeat: ${errs}`);
});

// ---- live: the takeover --------------------------------------------------------------------

const NET = {
  4: { prefix: 24, client: "10.244.7.1", a: "10.244.7.2", b: "10.244.7.3", vip: "10.244.7.100" },
  6: { prefix: 64, client: "fd44:7::1", a: "fd44:7::2", b: "fd44:7::3", vip: "fd44:7::100" },
} as const;
const PORT = "3260";

/**
 * client namespace with bridge br0 (the client's address on it), namespaces A and B each with a
 * veth port on the bridge; the VIP on A with a server; a client connected to it sending a byte
 * every 100 ms; the connections as A's monitor would record them (established() in A).
 */
async function takeoverWorld(t: Test, tag: string, family: 4 | 6) {
  const n = NET[family];
  const c = addNs(`${ID}-${tag}c`);
  const a = addNs(`${ID}-${tag}a`);
  const b = addNs(`${ID}-${tag}b`);
  t.teardown(() => [c, a, b].forEach(removeNs));
  const devA = `${ID}${tag}a`.slice(0, 15);
  const devB = `${ID}${tag}b`.slice(0, 15);
  sh("ip", ["-n", c, "link", "add", "br0", "type", "bridge"]);
  sh("ip", ["link", "add", devA, "netns", a, "type", "veth", "peer", "name", "pa", "netns", c]);
  sh("ip", ["link", "add", devB, "netns", b, "type", "veth", "peer", "name", "pb", "netns", c]);
  for (const dev of ["br0", "pa", "pb"]) sh("ip", ["-n", c, "link", "set", dev, ...(dev === "br0" ? [] : ["master", "br0"]), "up"]);
  sh("ip", ["-n", a, "link", "set", devA, "up"]);
  sh("ip", ["-n", b, "link", "set", devB, "up"]);
  const add = (ns: string, ip: string, dev: string) => sh("ip", ["-n", ns, "addr", "add", `${ip}/${n.prefix}`, "dev", dev, ...(family === 6 ? ["nodad"] : [])]);
  add(c, n.client, "br0");
  add(a, n.a, devA);
  add(a, n.vip, devA);
  add(b, n.b, devB);
  const server = helper(a, ["server", n.vip, PORT]);
  t.ok(await server.waitFor("listening", 10000), `server on the VIP in A ${server.stderr}`);
  const client = helper(c, ["client", n.vip, PORT]);
  const up = await client.waitFor("connected", 10000);
  t.ok(up, `client connected ${client.stderr}`);
  await new Promise((r) => setTimeout(r, 300)); // a few bytes acknowledged
  const recorded = (await helperRun(a, ["established", n.vip, PORT])).stdout;
  t.same(parseConns(recorded), [conn(n.vip, 3260, n.client, up!.localPort as number)], "A's established() sees exactly the client's connection");

  /** Cut A off, then wait until the client's retransmit timer has >= 1.5 s to go (backoff). */
  const killA = async () => {
    sh("ip", ["-n", a, "link", "set", devA, "down"]);
    const t0 = Date.now();
    while (Date.now() - t0 < 15000) {
      const line = sh("ip", ["netns", "exec", c, "ss", "-tnoH", "state", "established", "dport", "=", `:${PORT}`]);
      const at = performance.timeOrigin + performance.now();
      const m = /timer:\(on,([^,]+),(\d+)\)/.exec(line);
      const left = m ? timerMs(m[1]!) : undefined;
      // the wall-clock time of the next retransmission: `at` (after ss ran) + what ss said is left
      if (left !== undefined && left >= 1500) return { timerLeftMs: left, backoff: Number(m![2]), sinceKillMs: Date.now() - t0, nextRetransmit: at + left };
      await new Promise((r) => setTimeout(r, 40));
    }
    throw new Error("the client never went into retransmit backoff");
  };
  /** The VIP up on B and the client's neighbour entry pointing at B (what a gratuitous ARP/NA does). */
  const moveVip = () => {
    add(b, n.vip, devB);
    sh("ip", ["-n", c, `-${family}`, "neigh", "replace", n.vip, "lladdr", macOf(b, devB), "dev", "br0", "nud", "permanent"]);
    return performance.timeOrigin + performance.now();
  };
  return { c, a, b, client, recorded, killA, moveVip, n };
}

for (const family of [4, 6] as const) {
  t.test(`IPv${family} takeover without tickle: the client waits for its next retransmission`, async (t) => {
    const w = await takeoverWorld(t, `n${family}`, family);
    const bo = await w.killA();
    t.comment(`A cut off; after ${bo.sinceKillMs} ms the client is at backoff ${bo.backoff}, next retransmission in ${bo.timerLeftMs} ms`);
    const moved = w.moveVip();
    const early = await w.client.waitFor("error", 1000);
    t.notOk(early, "not reset within 1 s of the VIP moving to B");
    const late = await w.client.waitFor("error", 15000);
    t.equal(late?.code, "ECONNRESET", "reset only when its retransmission reached B");
    const ms = late ? late.t - moved : NaN;
    t.ok(ms >= 1000, `reset ${ms.toFixed(0)} ms after the VIP moved`);
    t.comment(`IPv${family} without tickle: ECONNRESET ${ms.toFixed(0)} ms after the VIP moved to B (${late ? (late.t - bo.nextRetransmit).toFixed(0) : "?"} ms from the retransmission ss announced)`);
  });

  t.test(`IPv${family} takeover with tickle ACKs from B: the client is reset within a round trip`, async (t) => {
    const w = await takeoverWorld(t, `t${family}`, family);
    const cap = await capture(w.c, "br0", ["tcp", "and", "port", PORT]);
    const bo = await w.killA();
    t.comment(`A cut off; after ${bo.sinceKillMs} ms the client is at backoff ${bo.backoff}, next retransmission in ${bo.timerLeftMs} ms`);
    const moved = w.moveVip();
    // the state file recorded on A, read back by B
    const run = await helperRun(w.b, ["tickle"], w.recorded);
    const done = run.events.find((e) => e.ev === "tickled")!;
    t.same([done.sent, done.errors], [3, []], "3 datagrams (repeat 3) for the one connection, no error");
    const err = await w.client.waitFor("error", 5000);
    const segs = await cap.stop();
    t.equal(err?.code, "ECONNRESET", "client reset");
    const ms = err ? err.t - (done.start as number) : NaN;
    t.ok(ms < 500, `reset ${ms.toFixed(1)} ms after the tickle started (limit 500 ms)`);
    t.ok(err && err.t < bo.nextRetransmit - 300, "well before the client's next retransmission");
    t.comment(`IPv${family} with tickle: ECONNRESET ${ms.toFixed(1)} ms after tickle() started, ${(err!.t - moved).toFixed(0)} ms after the VIP moved (Bun startup included); tickle() took ${(done.t - (done.start as number)).toFixed(1)} ms`);

    // on the wire: our ACK, the client's ACK with its real numbers, B's RST
    const cport = Number(parseConns(w.recorded)[0]!.remote.port);
    const i = segs.findIndex((s) => s.sport === 3260 && s.dport === cport && s.flags === F.ACK && s.seq === 0 && s.ack === 0);
    t.ok(i >= 0, "the tickle ACK (seq 0, ack 0) reached the client");
    if (i >= 0) {
      t.ok(segs[i]!.csumOk, "with a correct TCP checksum");
      t.equal(segs[i]!.win, TICKLE_WINDOW);
      const rest = segs.slice(i + 1);
      const reply = rest.findIndex((s) => s.sport === cport && s.flags === F.ACK && s.seq !== 0);
      t.ok(reply >= 0, "the client answered with an ACK carrying its real sequence numbers");
      const rst = rest.slice(reply + 1).find((s) => s.sport === 3260 && s.dport === cport && s.flags & F.RST);
      t.ok(rst, "and B's kernel answered that with a RST");
      if (reply >= 0 && rst) t.equal(rst.seq, rest[reply]!.ack, "the RST's seq is the client's ack: in window");
    }
    t.ok(segs.length > 0 && segs.every((s) => s.family === family), `IPv${family} only`);
  });
}
