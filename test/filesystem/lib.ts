// Real loop devices with real filesystems for the Filesystem agent's tests. Each suite makes
// its own scratch dir; every loop device, mount and process made here is undone by identity
// (the loop device we attached, mounts under our scratch dir, pids we spawned) in teardown.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { BUILD, scratchDir } from "../lib/harness.js";

/** Anything with tap's teardown (the root tap object or a subtest). */
type T = { teardown(fn: () => void | Promise<void>): void };

export const FAKES_BIN = join(BUILD, "test", "fakes", "tsstor-fakes");
export const PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

export function sh(cmd: string, args: string[], opts: { input?: string; timeout?: number } = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", input: opts.input, timeout: opts.timeout ?? 120000 });
  return { code: r.status ?? 128, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

export function must(cmd: string, args: string[]): string {
  const r = sh(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export interface Mountinfo {
  id: number;
  mountPoint: string;
  source: string;
  options: string[];
}

export function mountsUnder(dir: string): Mountinfo[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const f = l.split(" ");
      const sep = f.indexOf("-", 6);
      const un = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
      return { id: Number(f[0]), mountPoint: un(f[4]!), source: un(f[sep + 2]!), options: f[5]!.split(",") };
    })
    .filter((m) => m.mountPoint === dir || m.mountPoint.startsWith(`${dir}/`));
}

export function isMounted(dir: string): boolean {
  return mountsUnder(dir).some((m) => m.mountPoint === dir);
}

/** A scratch area: loop devices and processes registered here are cleaned in teardown. */
export class Scratch {
  readonly dir: string;
  private loops: string[] = [];
  private procs: ChildProcess[] = [];
  constructor(t: T, prefix: string) {
    this.dir = scratchDir(`tsf-${prefix}`);
    t.teardown(() => this.cleanup());
  }

  /** A fresh image file with `mkfs` run on a new loop device; returns the device. */
  loop(name: string, fstype: "ext4" | "xfs" | "gfs2" | "none", sizeMb?: number, mkfsArgs: string[] = []): string {
    const img = join(this.dir, `${name}.img`);
    must("truncate", ["-s", `${sizeMb ?? (fstype === "xfs" ? 320 : 64)}M`, img]);
    const dev = must("losetup", ["-f", "--show", img]).trim();
    this.loops.push(dev);
    if (fstype === "ext4") must("mkfs.ext4", ["-q", "-F", ...mkfsArgs, dev]);
    if (fstype === "xfs") must("mkfs.xfs", ["-q", "-f", ...mkfsArgs, dev]);
    if (fstype === "gfs2") must("mkfs.gfs2", ["-O", ...mkfsArgs, dev]);
    return dev;
  }

  /**
   * A directory of fake tools for PATH: links named after each tool to the fakes binary (it
   * dispatches on its invoked name), made here rather than relying on build/test/fakes links.
   */
  fakes(...tools: string[]): string {
    const d = this.mkdir("fakebin");
    for (const tool of tools) {
      rmSync(join(d, tool), { force: true });
      symlinkSync(FAKES_BIN, join(d, tool));
    }
    return d;
  }

  path(...p: string[]): string {
    return join(this.dir, ...p);
  }

  mkdir(...p: string[]): string {
    const d = join(this.dir, ...p);
    mkdirSync(d, { recursive: true });
    return d;
  }

  /** A process we own (killed by pid in teardown). `sh -c` script, cwd as given. */
  spawn(script: string, cwd = "/"): ChildProcess {
    const c = spawn("sh", ["-c", script], { cwd, stdio: "ignore", detached: true });
    this.procs.push(c);
    return c;
  }

  /** Our spawned pids still alive (children of ours included, by process group). */
  alive(c: ChildProcess): boolean {
    return c.pid !== undefined && c.exitCode === null && c.signalCode === null && processExists(c.pid);
  }

  cleanup(): void {
    for (const c of this.procs) {
      if (c.pid === undefined) continue;
      try {
        process.kill(-c.pid, "SIGKILL"); // its own process group (detached)
      } catch {
        /* gone */
      }
    }
    // Mounts we made under our scratch dir, deepest first.
    for (let i = 0; i < 20; i++) {
      const ms = mountsUnder(this.dir).sort((a, b) => b.mountPoint.length - a.mountPoint.length);
      if (!ms.length) break;
      for (const m of ms) sh("umount", [m.mountPoint]);
      if (mountsUnder(this.dir).length) spawnSync("sleep", ["0.2"]);
    }
    for (const l of this.loops) sh("losetup", ["-d", l]);
    if (!mountsUnder(this.dir).length) rmSync(this.dir, { recursive: true, force: true });
  }
}

export function processExists(pid: number): boolean {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) [ZX] /.test(s);
  } catch {
    return false;
  }
}

/** Wait (real time, bounded) until fn() holds. */
export async function until(fn: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return fn();
}

export function have(tool: string): boolean {
  return sh("sh", ["-c", `command -v ${tool}`]).code === 0;
}
