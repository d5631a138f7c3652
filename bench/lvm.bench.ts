// Cluster LVM: heartbeat lvmlockd / LVM-activate vs ocf:tsstor:clvm / LVM-activate on the same
// fake stack (test/fakes/lvm.ts) inside one private namespace (test/lvm/world.ts), so both pay
// the same fake-tool and nsenter costs. monitor/start/stop of each, hyperfine medians, peak RSS,
// processes per action (env, nsenter and the agent itself not counted).
//
// Run: npm run bench -- bench/lvm.bench.ts

import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TMP, ocfEnv, peakRss, save, time, type Cmd, type Measure, type Row } from "./lib.js";
import { World } from "../test/lvm/world.js";
import { BUILD } from "../test/lib/harness.js";

const HB = "/usr/lib/ocf/resource.d/heartbeat";

/**
 * Programs one action executes. Like bench/lib.ts processes(), but strace is ended after `ms`:
 * a start leaves the lock daemon running under strace -f, which would wait for it forever.
 * Not counted: env, nsenter and the agent itself.
 */
function processes(cmd: Cmd, ms = 8000): number | undefined {
  mkdirSync(TMP, { recursive: true });
  const out = join(TMP, `strace-lvm-${process.pid}.txt`);
  const r = spawnSync("timeout", ["-s", "KILL", String(ms / 1000), "strace", "-f", "-qq", "-e", "trace=execve", "-e", "signal=none", "-o", out, "env", "-i", ...Object.entries(cmd.env).map(([k, v]) => `${k}=${v}`), ...cmd.argv]);
  if (r.error) return undefined;
  const lines = readFileSync(out, "utf8").split("\n").filter((l) => /execve\(/.test(l) && !/= -1 /.test(l));
  rmSync(out, { force: true });
  return Math.max(0, lines.length - 3);
}

/** CPU time (user + system, ms, hyperfine mean): less disturbed than wall time on a busy host. */
function cpuMs(cmd: Cmd, opts: Parameters<typeof time>[1]): number | undefined {
  mkdirSync(TMP, { recursive: true });
  const json = join(TMP, `hf-cpu-${process.pid}.json`);
  const q = (x: string) => (/^[\w@%+=:,./-]+$/.test(x) ? x : `'${x.replace(/'/g, "'\\''")}'`);
  const wrap = (c: Cmd) => ["env", "-i", ...Object.entries(c.env).map(([k, v]) => `${k}=${v}`), ...c.argv].map(q).join(" ");
  const args = ["-N", "--style", "none", "--export-json", json, "--runs", String(opts?.runs ?? 10), "-i"];
  if (opts?.prepare) args.push("--prepare", wrap(opts.prepare));
  const r = spawnSync("hyperfine", [...args, wrap(cmd)], { encoding: "utf8" });
  if (r.status !== 0) return undefined;
  const res = JSON.parse(readFileSync(json, "utf8")).results[0];
  rmSync(json, { force: true });
  return Math.round((res.user + res.system) * 1e5) / 100;
}

function measure(cmd: Cmd, opts: Parameters<typeof time>[1]): Measure {
  const run = (c?: Cmd) => c && spawnSync("env", ["-i", ...Object.entries(c.env).map(([k, v]) => `${k}=${v}`), ...c.argv]);
  const m = time(cmd, opts) as Measure & { cpu_ms?: number };
  m.cpu_ms = cpuMs(cmd, opts);
  run(opts?.prepare);
  m.peak_rss_kb = peakRss(cmd);
  run(opts?.prepare);
  m.processes = processes(cmd);
  return m;
}

function compare(agent: string, action: string, scenario: string, upstream: Cmd, ours: Cmd, opts: Parameters<typeof time>[1] & { goal?: number } = {}): Row {
  const u = measure(upstream, opts);
  const o = measure(ours, opts);
  const row: Row = { agent, action, scenario, upstream: u, ours: o, goal: opts.goal, ratio: Math.round((o.median_ms / u.median_ms) * 1000) / 1000 };
  const f = (m: Measure & { cpu_ms?: number }) => `${m.median_ms.toFixed(2)} ms, cpu ${m.cpu_ms ?? "?"} ms (rc ${m.exit_code}, ${m.processes ?? "?"} procs, ${m.peak_rss_kb ?? "?"} kB)`;
  console.log(`${agent} ${action} [${scenario}]: upstream ${f(u)} | ours ${f(o)} | ratio ${row.ratio}`);
  return row;
}
const w = await new World("bench").start();
const rows: Row[] = [];
try {
  w.addVg("vg1", "dlm", ["lv1"]);
  w.daemon("dlm_controld");
  const env = (type: string, params: Record<string, string>): Record<string, string> => ({ ...ocfEnv(type, params), ...w.env, OCF_RESKEY_CRM_meta_timeout: "60000" });
  const ns = (bin: string, action: string, type: string, params: Record<string, string>): Cmd => ({
    argv: ["/usr/bin/nsenter", "-t", String(w.holder), "-m", "--", bin, action],
    env: env(type, params),
  });
  /** A directory with a /bin/sh script named like the tool that prints what the fake prints now. */
  const nativeTools = (argv: string[]): string => {
    const dir = join(w.dir, `native-${argv[0]}`);
    mkdirSync(dir, { recursive: true });
    const r = w.sh(argv[0]!, argv.slice(1));
    writeFileSync(join(dir, argv[0]!), `#!/bin/sh\ncat <<'TSL_EOF'\n${r.stdout}TSL_EOF\nexit ${r.code}\n`, { mode: 0o755 });
    return dir;
  };
  const monEnv = (c: Cmd): Cmd => ({ ...c, env: { ...c.env, OCF_RESKEY_CRM_meta_interval: "30000" } });
  const fix = (r: Row) => r;

  // ---- lock manager: heartbeat lvmlockd vs ocf:tsstor:clvm (lock_type=dlm, one VG lockspace) ----
  const hbL = (a: string) => ns(`${HB}/lvmlockd`, a, "lvmlockd", {});
  const ourL = (a: string) => ns(`${BUILD}/agents/clvm`, a, "clvm", { activate_vgs: "vg1" });
  // heartbeat lvmlockd does not lock-start VGs; ours does (one more vgchange per start)
  w.run(`${BUILD}/agents/clvm`, "start", { params: { activate_vgs: "vg1" } });
  rows.push(fix(compare("lvmlockd", "monitor", "running, dlm", monEnv(hbL("monitor")), monEnv(ourL("monitor")), { runs: 30, goal: 0.3 })));
  // The same with a /bin/sh stand-in printing lvmlockctl's recorded answer: what a monitor costs
  // with the real (C) lvmlockctl rather than a Bun-compiled fake.
  const native = nativeTools(["lvmlockctl", "--info"]);
  const nat = (c: Cmd): Cmd => ({ ...c, env: { ...c.env, PATH: `${native}:${c.env.PATH}` } });
  rows.push(fix(compare("lvmlockd", "monitor", "running, dlm, sh stand-in for lvmlockctl", nat(monEnv(hbL("monitor"))), nat(monEnv(ourL("monitor"))), { runs: 30, goal: 0.3 })));
  w.run(`${BUILD}/agents/clvm`, "stop", {});
  rows.push(fix(compare("lvmlockd", "monitor", "not running (probe)", hbL("monitor"), ourL("monitor"), { runs: 30 })));
  rows.push(fix(compare("lvmlockd", "start", "dlm, daemon spawn", hbL("start"), ourL("start"), { runs: 10, warmup: 1, prepare: ourL("stop") })));
  rows.push(fix(compare("lvmlockd", "stop", "dlm, no LV active", hbL("stop"), ourL("stop"), { runs: 10, warmup: 1, prepare: ourL("start") })));

  // ---- LVM-activate, exclusive LV in a dlm VG ----
  w.run(`${BUILD}/agents/clvm`, "start", {});
  const p = { vgname: "vg1", lvname: "lv1", vg_access_mode: "lvmlockd", activation_mode: "exclusive" };
  const hbA = (a: string) => ns(`${HB}/LVM-activate`, a, "LVM-activate", p);
  const ourA = (a: string) => ns(`${BUILD}/agents/LVM-activate`, a, "LVM-activate", p);
  w.run(`${BUILD}/agents/LVM-activate`, "start", { params: p });
  rows.push(fix(compare("LVM-activate", "monitor", "active", monEnv(hbA("monitor")), monEnv(ourA("monitor")), { runs: 30, goal: 0.3 })));
  const nativeDm = nativeTools(["dmsetup", "info", "--noheadings", "--noflush", "-c", "-S", "vg_name=vg1 && lv_name=lv1"]);
  const natA = (c: Cmd): Cmd => ({ ...c, env: { ...c.env, PATH: `${nativeDm}:${c.env.PATH}` } });
  rows.push(fix(compare("LVM-activate", "monitor", "active, sh stand-in for dmsetup", natA(monEnv(hbA("monitor"))), natA(monEnv(ourA("monitor"))), { runs: 30, goal: 0.3 })));
  rows.push(fix(compare("LVM-activate", "stop", "active -> inactive, lockstop", hbA("stop"), ourA("stop"), { runs: 10, warmup: 1, prepare: ourA("start") })));
  rows.push(fix(compare("LVM-activate", "start", "lockstart + lvchange -aey", hbA("start"), ourA("start"), { runs: 10, warmup: 1, prepare: ourA("stop") })));
  w.run(`${BUILD}/agents/LVM-activate`, "stop", { params: p });
  rows.push(fix(compare("LVM-activate", "monitor", "inactive (probe)", hbA("monitor"), ourA("monitor"), { runs: 30 })));
  rows.push(compare("LVM-activate", "meta-data", "", ns(`${HB}/LVM-activate`, "meta-data", "LVM-activate", {}), ns(`${BUILD}/agents/LVM-activate`, "meta-data", "LVM-activate", {}), { runs: 30 }));
  w.run(`${BUILD}/agents/clvm`, "stop", {});
  // what one fake tool costs (the real lvmlockctl/lvchange are small C programs: ~1-2 ms)
  const fake = time({ argv: ["/usr/bin/nsenter", "-t", String(w.holder), "-m", "--", `${w.bin}/dmsetup`, "info", "-c"], env: env("x", {}) }, { runs: 20 });
  console.log(`one fake tool call: ${fake.median_ms} ms median`);
  save("lvm", rows, [
    `One call of a fake tool (Bun-compiled) costs ${fake.median_ms} ms median here; the real LVM tools are small C programs. Ours calls 0-1 of them per monitor, heartbeat's 0-3 plus shell utilities.`,
    "cpu_ms: user+system CPU time (hyperfine mean), less sensitive to a busy host than wall time.",
    "Both agents run inside one private mount namespace through nsenter on the fake LVM/lvmlockd/dlm tools (Bun-compiled, ~4 ms each): absolute times include nsenter and the fakes, ratios compare like with like.",
    "processes: programs executed per action (env, nsenter and the agent not counted; strace ended after 8 s so a started daemon does not hold it).",
    "heartbeat lvmlockd start/stop do not lock-start/stop VG lockspaces; ours start vg1's (activate_vgs=vg1) and stop it per VG.",
  ]);
} finally {
  w.stop();
}
