// A private node for the cluster LVM tests: a mount namespace (held by a sleeping process) with
// tmpfs on /run, /sys/block and /dev/mapper (on an overlay of /dev: see NS_MOUNTS), the fake
// LVM/DLM/sanlock tools first on PATH and a fake state file. Agents run inside it through nsenter exactly as Pacemaker runs them, so the
// compiled-in paths (/run/lvmlockd.pid, /run/lvm/lvmlockd.socket, /sys/block/dm-N) are the real
// ones and parallel test files never see each other's daemons.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUILD, lastReason, ocfEnv, scratchDir, type AgentRun, type RunOpts } from "../lib/harness.js";
import type { FVg, State } from "../fakes/lvm/state.js";

export const FAKES = join(BUILD, "test", "fakes", "tsstor-fakes");

/** Fake tool names (the fakes binary lists them; one link each in our own bin dir). */
function fakeNames(): string[] {
  const r = spawnSync(FAKES, [], { encoding: "utf8", argv0: "tsstor-fakes" });
  return r.stdout.split(/\n|\\n/).filter(Boolean);
}

const DAEMON_PIDFILES: Record<string, string> = {
  lvmlockd: "/run/lvmlockd.pid",
  dlm_controld: "/run/dlm_controld/dlm_controld.pid",
  sanlock: "/run/sanlock/sanlock.pid",
  wdmd: "/run/wdmd/wdmd.pid",
  clvmd: "/run/clvmd.pid",
  cmirrord: "/run/cmirrord.pid",
};

/**
 * The namespace's mounts. A machine without device-mapper has no /dev/mapper, and creating it
 * on the host's /dev (one devtmpfs, shared by every mount of it) would leave it behind for every
 * later run: so /dev becomes an overlay of the host's /dev (its devices stay live, its /dev/shm
 * and /dev/pts are bound back) whose writes land in this namespace's /run, and /dev/mapper is a
 * tmpfs made inside that overlay.
 */
const NS_MOUNTS = `set -e
mount -t tmpfs tsl-run /run
mkdir -p /run/lvm /run/lock/lvm /run/tsl-dev/upper /run/tsl-dev/work /run/tsl-dev/dev
mount -t overlay tsl-dev -o lowerdir=/dev,upperdir=/run/tsl-dev/upper,workdir=/run/tsl-dev/work /run/tsl-dev/dev
for m in $(awk '$2 ~ "^/dev/" { print $2 }' /proc/self/mounts | sort -u); do
  mkdir -p "/run/tsl-dev$m" && mount --rbind "$m" "/run/tsl-dev$m"
done
mkdir -p /run/tsl-dev/dev/mapper
mount --move /run/tsl-dev/dev /dev
mount -t tmpfs tsl-mapper /dev/mapper
mount -t tmpfs tsl-sysblock /sys/block`;

export class World {
  readonly dir: string;
  readonly bin: string;
  readonly stateDir: string;
  readonly lvmDir: string;
  readonly log: string;
  holder = 0;

  constructor(readonly name: string) {
    this.dir = scratchDir(`lvm-${name}`);
    this.bin = join(this.dir, "bin");
    this.stateDir = join(this.dir, "fake");
    this.lvmDir = join(this.dir, "etc-lvm");
    this.log = join(this.dir, "fake.log");
    mkdirSync(this.bin);
    mkdirSync(this.stateDir);
    mkdirSync(this.lvmDir);
    mkdirSync(join(this.dir, "rsc"));
    for (const n of fakeNames()) symlinkSync(FAKES, join(this.bin, n));
    this.conf("global {\n\tuse_lvmlockd = 1\n}\n", "local {\n}\n");
  }

  /** Start the namespace holder; resolves once the mounts are in place. */
  async start(): Promise<this> {
    const p = spawn("unshare", ["-m", "--propagation", "private", "sh", "-c", `${NS_MOUNTS}\necho ready\nexec sleep 100000`], { stdio: ["ignore", "pipe", "inherit"] });
    this.holder = p.pid!;
    await new Promise<void>((res, rej) => {
      p.stdout!.on("data", (d) => (String(d).includes("ready") ? res() : undefined));
      p.on("exit", (c) => rej(new Error(`namespace holder exited ${c}`)));
    });
    p.stdout!.removeAllListeners();
    p.removeAllListeners("exit");
    return this;
  }

  /** start() for synchronous callers (test/reliability profiles): polls until the mounts are in place. */
  startSync(): this {
    const p = spawn("unshare", ["-m", "--propagation", "private", "sh", "-c", `${NS_MOUNTS}\nexec sleep 100000`], { stdio: "ignore", detached: true });
    p.unref();
    this.holder = p.pid!;
    for (let i = 0; i < 500; i++) {
      try {
        if (readFileSync(`/proc/${this.holder}/mountinfo`, "utf8").includes("tsl-mapper")) return this;
      } catch {
        break;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
    throw new Error("namespace holder did not come up");
  }

  /**
   * A directory of the fake tools for test/fakes/shim.ts to run as the "real" ones
   * (TSSTOR_REAL_PATH): shell wrappers that drop TSSTOR_SHIM_DIR, since the fakes and the shim
   * are one binary that would otherwise shim itself.
   */
  realToolsDir(): string {
    const d = join(this.dir, "real");
    if (!existsSync(d)) {
      mkdirSync(d);
      for (const n of fakeNames()) {
        writeFileSync(join(d, n), `#!/bin/sh\nunset TSSTOR_SHIM_DIR\nexec ${join(this.bin, n)} "$@"\n`, { mode: 0o755 });
      }
    }
    return d;
  }

  get env(): Record<string, string> {
    return {
      PATH: `${this.bin}:/usr/sbin:/usr/bin:/sbin:/bin`,
      LVM_SYSTEM_DIR: this.lvmDir,
      TSSTOR_FAKE_LVM: this.stateDir,
      TSSTOR_FAKE_LOG: this.log,
      HA_RSCTMP: join(this.dir, "rsc"),
    };
  }

  /** Path of a file as seen inside the namespace. */
  inside(p: string): string {
    return `/proc/${this.holder}/root${p}`;
  }

  conf(lvm: string, local?: string): void {
    writeFileSync(join(this.lvmDir, "lvm.conf"), lvm);
    if (local !== undefined) writeFileSync(join(this.lvmDir, "lvmlocal.conf"), local);
  }

  state(): State {
    return JSON.parse(readFileSync(join(this.stateDir, "state.json"), "utf8")) as State;
  }

  setState(fn: (s: State) => void): void {
    let s: State;
    try {
      s = this.state();
    } catch {
      s = { vgs: {}, lockspaces: {}, faults: [], lockStartDelay: 0, pendingStart: {}, lockdIgnoreTerm: false, nextMinor: 0, clusterName: "tslclu" };
    }
    fn(s);
    writeFileSync(join(this.stateDir, "state.json"), JSON.stringify(s, null, 1));
  }

  /** A VG with LVs (all inactive). */
  addVg(name: string, lockType: FVg["lock_type"], lvs: string[], extra: Partial<FVg> = {}): void {
    let n = 0;
    const id = () => `${name.slice(0, 4).padEnd(4, "x")}${String(n++).padStart(2, "0")}-AAAA-BBBB-CCCC-DDDD-EEEE-FFFFFF`;
    this.setState((s) => {
      s.vgs[name] = {
        uuid: id(), lock_type: lockType, lock_args: lockType === "dlm" ? "1.0.0:tslclu" : lockType === "sanlock" ? "1.0.0:lvmlock" : "", systemid: "", tags: [], partial: false,
        autoactivation: true, size_m: 1024, pvs: ["/dev/tslsda"], lvs: {}, ...extra,
      };
      for (const l of lvs) s.vgs[name]!.lvs[l] = { uuid: id(), size_m: 64, active: "" };
      if (lockType === "sanlock") s.vgs[name]!.lvs.lvmlock = { uuid: id(), size_m: 256, active: "" };
    });
  }

  /** Run a program inside the namespace with the world's environment. */
  sh(cmd: string, args: string[] = [], extraEnv: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
    const r = spawnSync("/usr/bin/nsenter", ["-t", String(this.holder), "-m", "--", cmd, ...args], {
      encoding: "utf8",
      env: { ...process.env, ...this.env, ...extraEnv },
      timeout: 60000,
    });
    return { code: r.status ?? 128, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  }

  /** Start a fake daemon (dlm_controld, sanlock daemon, wdmd) inside the namespace. */
  daemon(name: "dlm_controld" | "sanlock" | "wdmd" | "clvmd"): void {
    const r = this.sh(join(this.bin, name), name === "sanlock" ? ["daemon", "-w", "1"] : []);
    if (r.code !== 0) throw new Error(`${name}: ${r.stderr}`);
  }

  pid(name: keyof typeof DAEMON_PIDFILES | string): number | undefined {
    try {
      const pid = Number(readFileSync(this.inside(DAEMON_PIDFILES[name] ?? name), "utf8").trim());
      return existsSync(`/proc/${pid}`) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  kill(name: string, signal: NodeJS.Signals = "SIGKILL"): void {
    const p = this.pid(name);
    if (p) process.kill(p, signal);
  }

  /** Names of the device-mapper devices the fakes created inside the namespace. */
  dm(): string[] {
    try {
      return readdirSync(this.inside("/sys/block"))
        .filter((k) => k.startsWith("dm-"))
        .map((k) => readFileSync(this.inside(`/sys/block/${k}/dm/name`), "utf8").trim())
        .sort();
    } catch {
      return [];
    }
  }

  /** argv of every fake call since the last reset, optionally of one tool. */
  calls(tool?: string): string[][] {
    if (!existsSync(this.log)) return [];
    return readFileSync(this.log, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { tool: string; argv: string[] })
      .filter((c) => !tool || c.tool === tool)
      .map((c) => c.argv);
  }

  resetCalls(): void {
    rmSync(this.log, { force: true });
  }

  /** Run an agent inside the namespace as Pacemaker's executor does (see test/lib/harness.ts). */
  run(bin: string, action: string, o: RunOpts = {}): AgentRun {
    const name = bin.split("/").pop()!;
    const env = ocfEnv(name, { ...o, env: { ...this.env, ...(o.env ?? {}) } });
    const t0 = performance.now();
    const r = spawnSync("/usr/bin/nsenter", ["-t", String(this.holder), "-m", "--", bin, action, ...(o.args ?? [])], {
      env,
      encoding: "utf8",
      timeout: o.timeoutMs ?? 120000,
      cwd: "/",
    });
    // a hung agent is killed at timeoutMs, as Pacemaker would (its status is then null)
    if (r.error && (r.error as NodeJS.ErrnoException).code !== "ETIMEDOUT") throw r.error;
    return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr, reason: lastReason(r.stderr), ms: performance.now() - t0 };
  }

  /** Kill every daemon we started (by pid), then the holder; remove the scratch directory. */
  stop(): void {
    for (const n of Object.keys(DAEMON_PIDFILES)) {
      const p = this.pid(n);
      if (p) {
        try {
          process.kill(p, "SIGCONT");
          process.kill(p, "SIGKILL");
        } catch {
          /* gone */
        }
      }
    }
    if (this.holder) {
      try {
        process.kill(this.holder, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
