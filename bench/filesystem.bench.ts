// Filesystem vs ocf:heartbeat:Filesystem on a real loop-device ext4, side by side in one run:
// monitor depth 0/10/20 (goal <= 0.3x upstream) and stop with a busy process holding the mount.
// Run as root: `npm run bench -- bench/filesystem.bench.ts`.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compare, ocfEnv, ROOT, save, type Cmd, type Row } from "./lib.js";

const UPSTREAM = "/usr/lib/ocf/resource.d/heartbeat/Filesystem";
const OURS = join(ROOT, "build", "agents", "Filesystem");

function must(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

const tmp = mkdtempSync("/tmp/tsstor-tsf-bench-");
const img = join(tmp, "fs.img");
must("truncate", ["-s", "128M", img]);
const dev = must("losetup", ["-f", "--show", img]).trim();
const rows: Row[] = [];
const notes: string[] = [];

/**
 * CPU time (user + system, children included) per run: on this shared 2-core VM wall-clock
 * medians swing with other load, CPU time much less. Reported beside compare()'s wall times.
 */
function cpuMs(c: Cmd, runs = 20): number {
  const json = join(tmp, "cpu.json");
  const line = ["env", "-i", ...Object.entries(c.env).map(([k, v]) => `${k}=${v}`), ...c.argv].join(" ");
  must("hyperfine", ["-N", "--style", "none", "--runs", String(runs), "--warmup", "3", "-i", "--export-json", json, line]);
  const r = JSON.parse(readFileSync(json, "utf8")).results[0];
  return Math.round((r.user + r.system) * 1e5) / 100;
}
function cpuNote(label: string, up: Cmd, ours: Cmd): void {
  const u = cpuMs(up);
  const o = cpuMs(ours);
  const line = `CPU per action, ${label}: upstream ${u} ms, ours ${o} ms, ratio ${Math.round((o / u) * 1000) / 1000}`;
  console.log(line);
  notes.push(line);
}
try {
  must("mkfs.ext4", ["-q", "-F", dev]);
  const dir = join(tmp, "mnt");
  mkdirSync(dir);
  mkdirSync(join(tmp, "rsctmp"));
  const params = { device: dev, directory: dir, fstype: "ext4" };
  const cmd = (bin: string, action: string, extra: Record<string, string> = {}): Cmd => ({
    argv: [bin, action],
    env: ocfEnv("Filesystem", params, { HA_RSCTMP: join(tmp, "rsctmp"), OCF_RESKEY_CRM_meta_interval: "20000", ...extra }),
  });

  // Monitors: the filesystem stays mounted; both agents see the same mount.
  must("mount", [dev, dir]);
  for (const depth of [0, 10, 20]) {
    const extra = { OCF_CHECK_LEVEL: String(depth) };
    rows.push(compare("Filesystem", "monitor", `depth ${depth}, ext4 on loop, mounted`, cmd(UPSTREAM, "monitor", extra), cmd(OURS, "monitor", extra), { runs: 40, warmup: 5, goal: 0.3 }));
    cpuNote(`monitor depth ${depth}`, cmd(UPSTREAM, "monitor", extra), cmd(OURS, "monitor", extra));
  }
  must("umount", [dir]);
  rows.push(
    compare("Filesystem", "monitor", "probe, not mounted", cmd(UPSTREAM, "monitor", { OCF_RESKEY_CRM_meta_interval: "0" }), cmd(OURS, "monitor", { OCF_RESKEY_CRM_meta_interval: "0" }), {
      runs: 30,
      warmup: 3,
      goal: 0.3,
    }),
  );

  // Stop with a busy process: before every run, mount and leave a sleep with its cwd inside.
  const prep = join(tmp, "prepare.sh");
  writeFileSync(
    prep,
    `#!/bin/sh\nmountpoint -q '${dir}' || mount '${dev}' '${dir}'\ncd '${dir}' && setsid sleep 600 </dev/null >/dev/null 2>&1 &\nsleep 0.05\n`,
  );
  chmodSync(prep, 0o755);
  const prepare: Cmd = { argv: ["/bin/sh", prep], env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } };
  rows.push(compare("Filesystem", "stop", "one process holding its cwd on the mount", cmd(UPSTREAM, "stop"), cmd(OURS, "stop"), { runs: 10, warmup: 1, prepare }));
  // Start (mkdir exists, mount): for completeness, not a goal.
  const unmount: Cmd = { argv: ["/bin/sh", "-c", `umount '${dir}' 2>/dev/null; true`], env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } };
  rows.push(compare("Filesystem", "start", "ext4 on loop", cmd(UPSTREAM, "start"), cmd(OURS, "start"), { runs: 15, warmup: 2, prepare: unmount }));
  save("filesystem", rows, [
    ...notes,
    "ext4 on a loop device (128 MiB); both agents run against the same mount.",
    "stop: a `sleep` holds its cwd on the mount; upstream waits a fixed 1 s after TERM, ours retries as soon as the signalled processes have exited (signal_delay is an upper bound).",
  ]);
} finally {
  spawnSync("sh", ["-c", `umount '${join(tmp, "mnt")}' 2>/dev/null; true`]);
  spawnSync("losetup", ["-d", dev]);
  rmSync(tmp, { recursive: true, force: true });
}
