// Side-by-side measurement of an upstream agent and ours, on the same system state, in one run.
// Run with the bundled Bun (`npm run bench` runs every bench/*.bench.ts). Never used by tests.
//
// Per case: hyperfine -N (no shell) medians/min/max, peak RSS from GNU time (%M), and processes
// spawned per action counted from `strace -f -e trace=execve` (execve calls in other processes than the agent's).

import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync, existsSync, rmSync, realpathSync } from "node:fs";
import { join, dirname } from "node:path";
import { cpus, totalmem } from "node:os";

export const ROOT = join(dirname(new URL(import.meta.url).pathname), "..");
export const RESULTS = join(ROOT, "bench", "results");
export const TMP = join(ROOT, "bench", "tmp");

export interface Cmd {
  argv: string[];
  env: Record<string, string>;
  /** run inside this network namespace (hyperfine itself runs there, so no wrapper is timed) */
  netns?: string;
}

function inNs(c: Cmd, argv: string[]): string[] {
  return c.netns ? ["ip", "netns", "exec", c.netns, ...argv] : argv;
}

export interface Measure {
  median_ms: number;
  mean_ms: number;
  min_ms: number;
  max_ms: number;
  runs: number;
  /** CPU per run (hyperfine's user and system means), ms */
  user_ms?: number;
  sys_ms?: number;
  peak_rss_kb?: number;
  processes?: number;
  exit_code?: number;
}

export interface Row {
  agent: string;
  action: string;
  scenario: string;
  upstream?: Measure;
  ours: Measure;
  /** ours / upstream, on medians */
  ratio?: number;
  goal?: number;
}

export interface Suite {
  suite: string;
  date: string;
  machine: { cpus: string; cores: number; mem_gb: number; kernel: string; upstream?: Record<string, string> };
  rows: Row[];
  notes?: string[];
}

/** Median, mean, min and max of timings in ms (runs: 0 and NaN when there are none). */
export function stats(ms: number[]): Measure {
  const s = [...ms].sort((a, b) => a - b);
  if (!s.length) return { median_ms: NaN, mean_ms: NaN, min_ms: NaN, max_ms: NaN, runs: 0 };
  const mid = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { median_ms: mid, mean_ms: s.reduce((a, b) => a + b, 0) / s.length, min_ms: s[0]!, max_ms: s[s.length - 1]!, runs: s.length };
}

export function machine(): Suite["machine"] {
  const c = cpus();
  return {
    cpus: c[0]?.model ?? "?",
    cores: c.length,
    mem_gb: Math.round(totalmem() / 2 ** 30),
    kernel: spawnSync("uname", ["-r"], { encoding: "utf8" }).stdout.trim(),
    upstream: upstreamPackages(),
  };
}

/** The packages the upstream agents of a run come from, with their versions (dpkg). */
export function upstreamPackages(): Record<string, string> {
  const r = spawnSync("dpkg-query", ["-W", "-f", "${Package} ${Version}\n", "resource-agents", "drbd-utils"], { encoding: "utf8" });
  return Object.fromEntries(r.stdout.split("\n").filter(Boolean).map((l) => l.split(" ") as [string, string]));
}

/** OCF environment for a bench run (as the harness in test/ builds it). */
export function ocfEnv(type: string, params: Record<string, string>, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    OCF_ROOT: "/usr/lib/ocf",
    OCF_RA_VERSION_MAJOR: "1",
    OCF_RA_VERSION_MINOR: "1",
    OCF_RESOURCE_INSTANCE: "bench",
    OCF_RESOURCE_TYPE: type,
    LC_ALL: "C",
    PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
    OCF_RESKEY_CRM_meta_timeout: "20000",
  };
  for (const [k, v] of Object.entries(params)) env[`OCF_RESKEY_${k}`] = v;
  return { ...env, ...extra };
}

function shq(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** hyperfine -N over one command; `prepare` runs before every timing run (e.g. stop before start). */
export function time(cmd: Cmd, opts: { runs?: number; warmup?: number; prepare?: Cmd } = {}): Measure {
  mkdirSync(TMP, { recursive: true });
  const json = join(TMP, `hf-${process.pid}.json`);
  const wrap = (c: Cmd) => ["env", "-i", ...Object.entries(c.env).map(([k, v]) => `${k}=${v}`), ...c.argv].map(shq).join(" ");
  const args = ["-N", "--style", "none", "--export-json", json, "--runs", String(opts.runs ?? 30), "--warmup", String(opts.warmup ?? 3), "-i"];
  // hyperfine runs --prepare through a shell; the command itself runs without one (-N)
  if (opts.prepare) args.push("--prepare", wrap(opts.prepare));
  args.push(wrap(cmd));
  const [h, ...rest] = inNs(cmd, ["hyperfine", ...args]);
  const r = spawnSync(h!, rest, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`hyperfine failed: ${r.stderr}`);
  const res = JSON.parse(readFileSync(json, "utf8")).results[0];
  rmSync(json, { force: true });
  const ms = (x: number) => Math.round(x * 1e5) / 100;
  return {
    median_ms: ms(res.median),
    mean_ms: ms(res.mean),
    min_ms: ms(res.min),
    max_ms: ms(res.max),
    runs: res.times.length,
    user_ms: ms(res.user),
    sys_ms: ms(res.system),
    exit_code: res.exit_codes?.[0],
  };
}

/** Peak RSS (kB) of the agent process tree's largest member, via GNU time. */
export function peakRss(cmd: Cmd): number | undefined {
  if (!existsSync("/usr/bin/time")) return undefined;
  uncache(cmd.argv[0]!);
  const [h, ...rest] = inNs(cmd, ["/usr/bin/time", "-f", "%M", "env", "-i", ...Object.entries(cmd.env).map(([k, v]) => `${k}=${v}`), ...cmd.argv]);
  const r = spawnSync(h!, rest, { encoding: "utf8" });
  const last = r.stderr.trim().split("\n").pop() ?? "";
  const n = Number(last);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Drop an executable from the page cache. A file just written (a fresh build) is wholly cached,
 * and the kernel's fault-around then maps far more of it into each process than when it is read
 * from disk as on an installed node: the same agent measured 38 MB peak RSS right after the build
 * and 32 MB once uncached (every later run stays at 32). Upstream's scripts get the same.
 */
function uncache(file: string): void {
  let real: string;
  try {
    real = realpathSync(file.includes("/") ? file : spawnSync("sh", ["-c", 'command -v "$1"', "sh", file], { encoding: "utf8" }).stdout.trim());
  } catch {
    return;
  }
  spawnSync("sync", [real]); // dirty pages (the build just wrote them) cannot be dropped
  spawnSync("dd", [`if=${real}`, "iflag=nocache", "count=0", "status=none"]);
  // our agents' sh front (packaging/front.sh): the executable it execs is what gets mapped
  // (only its first bytes read: reading a whole executable would cache it again)
  let head = "";
  try {
    if (statSync(real).size > 65536) return; // an executable, not a front
    const fd = openSync(real, "r");
    const buf = Buffer.alloc(512);
    head = buf.subarray(0, readSync(fd, buf, 0, 512, 0)).toString("latin1");
    closeSync(fd);
  } catch {
    return;
  }
  const exe = /^#!\/bin\/sh\n(?:#.*\n)*if .*\n {2}exec (\/\S+) /.exec(head)?.[1];
  if (exe) uncache(exe);
}

/** Programs executed by one action, not counting the agent itself (and its interpreter). */
export function processes(cmd: Cmd): number | undefined {
  mkdirSync(TMP, { recursive: true });
  const out = join(TMP, `strace-${process.pid}.txt`);
  const [h, ...rest] = inNs(cmd, ["strace", "-f", "-qq", "-e", "trace=execve", "-e", "signal=none", "-o", out, "env", "-i", ...Object.entries(cmd.env).map(([k, v]) => `${k}=${v}`), ...cmd.argv]);
  const r = spawnSync(h!, rest, { encoding: "utf8" });
  if (r.error) return undefined;
  const lines = readFileSync(out, "utf8").split("\n").filter((l) => /execve\(/.test(l) && !/= -1 /.test(l));
  rmSync(out, { force: true });
  // env, the agent and whatever the agent execs in its own process (our sh front execs the
  // executable) share the first pid: every program run under another pid was spawned
  const own = lines[0]?.split(" ")[0];
  return lines.filter((l) => l.split(" ")[0] !== own).length;
}

/** Run a command once (e.g. the prepare step) outside hyperfine. */
export function once(c: Cmd): number {
  const [h, ...rest] = inNs(c, ["env", "-i", ...Object.entries(c.env).map(([k, v]) => `${k}=${v}`), ...c.argv]);
  return spawnSync(h!, rest).status ?? 128;
}

export function measure(cmd: Cmd, opts: Parameters<typeof time>[1] = {}): Measure {
  const m = time(cmd, opts);
  if (opts.prepare) once(opts.prepare);
  m.peak_rss_kb = peakRss(cmd);
  if (opts.prepare) once(opts.prepare);
  m.processes = processes(cmd);
  return m;
}

export function compare(agent: string, action: string, scenario: string, upstream: Cmd | undefined, ours: Cmd, opts: Parameters<typeof time>[1] & { goal?: number } = {}): Row {
  const u = upstream ? measure(upstream, opts) : undefined;
  const o = measure(ours, opts);
  const row: Row = { agent, action, scenario, upstream: u, ours: o, goal: opts.goal };
  if (u) row.ratio = Math.round((o.median_ms / u.median_ms) * 1000) / 1000;
  const fmt = (m?: Measure) => (m ? `${m.median_ms.toFixed(2)} ms (rc ${m.exit_code}, ${m.processes ?? "?"} procs, ${m.peak_rss_kb ?? "?"} kB)` : "-");
  console.log(`${agent} ${action} [${scenario}]: upstream ${fmt(u)} | ours ${fmt(o)}${row.ratio !== undefined ? ` | ratio ${row.ratio}` : ""}`);
  return row;
}

export function save(suite: string, rows: Row[], notes: string[] = []): string {
  mkdirSync(RESULTS, { recursive: true });
  const s: Suite = { suite, date: new Date().toISOString(), machine: machine(), rows, notes };
  const f = join(RESULTS, `${suite}.json`);
  writeFileSync(f, `${JSON.stringify(s, null, 2)}\n`);
  console.log(`wrote ${f}`);
  return f;
}
