// Test rigs for the iSCSI agents.
//
// TgtRig: a real tgtd in a network namespace this suite creates (prefix "tsi"), its management
// socket in a scratch directory (TGT_IPC_SOCKET, honoured by tgtd, tgtadm and our agents), and
// libiscsi / qemu-io run inside the namespace as initiators. Killed by PID in destroy().
//
// LioRig: LIO's configfs. Here an emulation in a scratch directory plus the fake targetcli;
// with TSSTOR_LIO_REAL=1 (the kernel lab) the real /sys/kernel/config and the real targetcli,
// behind a shim that logs its argv the same way. Tests only see `root`, so nothing else changes.

import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUILD, scratchDir, runAgent, agentPath, type AgentRun, type RunOpts } from "../lib/harness.js";

export const PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

export function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function must(cmd: string, args: string[], env?: Record<string, string>) {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: env ? { ...process.env, ...env } : process.env, timeout: 60000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: rc=${r.status} ${r.stderr}`);
  return r.stdout;
}

export interface Out {
  code: number;
  stdout: string;
  stderr: string;
  out: string;
}

// ---- tgt ---------------------------------------------------------------------------------------

export class TgtRig {
  readonly ns: string;
  readonly dir: string;
  readonly socket: string;
  readonly rscTmp: string;
  readonly addr4 = "10.231.0.1";
  readonly addr6 = "fd31::1";
  pid = 0;

  constructor(tag: string) {
    this.ns = `tsi${tag}${process.pid % 100000}`;
    this.dir = scratchDir(`tsi-${tag}`);
    this.socket = join(this.dir, "tgtd");
    this.rscTmp = join(this.dir, "rsc");
    spawnSync("ip", ["netns", "del", this.ns]);
    must("ip", ["netns", "add", this.ns]);
    must("ip", ["-n", this.ns, "link", "set", "lo", "up"]);
    must("ip", ["-n", this.ns, "addr", "add", `${this.addr4}/32`, "dev", "lo"]);
    must("ip", ["-n", this.ns, "-6", "addr", "add", `${this.addr6}/128`, "dev", "lo", "nodad"]);
    this.startTgtd();
  }

  startTgtd(): void {
    const log = join(this.dir, "tgtd.log");
    const p = spawn("ip", ["netns", "exec", this.ns, "tgtd", "-f", "--iscsi", `portal=${this.addr4}:3260`], {
      env: { ...process.env, TGT_IPC_SOCKET: this.socket },
      stdio: ["ignore", "ignore", "ignore"],
      detached: true,
    });
    p.unref();
    this.pid = p.pid!; // ip netns exec execs tgtd: same pid
    writeFileSync(log, `tgtd pid ${this.pid}\n`);
    for (let i = 0; i < 100 && !existsSync(`${this.socket}.0`); i++) sleep(50);
    if (!existsSync(`${this.socket}.0`)) throw new Error("tgtd did not start");
    // tgtd accepts connections once its socket exists; wait until a request answers
    for (let i = 0; i < 50 && this.tgtadm(["--op", "show", "--mode", "target"]).code !== 0; i++) sleep(50);
  }

  stopTgtd(): void {
    if (!this.pid) return;
    try {
      process.kill(this.pid, "SIGKILL");
    } catch {
      /* gone */
    }
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(this.pid, 0);
        sleep(20);
      } catch {
        break;
      }
    }
    this.pid = 0;
    rmSync(`${this.socket}.0`, { force: true });
    rmSync(`${this.socket}.0.lock`, { force: true });
  }

  /** What every agent run gets: the private tgtd and HA_RSCTMP. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return { TGT_IPC_SOCKET: this.socket, HA_RSCTMP: this.rscTmp, ...extra };
  }

  agent(name: string, action: string, o: RunOpts = {}): AgentRun {
    return runAgent(agentPath(name), action, { meta: { timeout: 20000 }, ...o, env: this.env(o.env as Record<string, string>) });
  }

  tgtadm(args: string[]): Out {
    const r = spawnSync("tgtadm", ["--lld", "iscsi", ...args], { encoding: "utf8", env: { ...process.env, TGT_IPC_SOCKET: this.socket }, timeout: 30000 });
    return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr, out: r.stdout + r.stderr };
  }

  /** A command inside the namespace (the initiator's side), by tgtd's pid so it works even if the name is gone. */
  inNs(cmd: string, args: string[], timeout = 60000): Out {
    const r = spawnSync("nsenter", ["-t", String(this.pid), "-n", cmd, ...args], { encoding: "utf8", timeout });
    return { code: r.status ?? 128, stdout: r.stdout ?? "", stderr: r.stderr ?? "", out: (r.stdout ?? "") + (r.stderr ?? "") };
  }

  /** iscsi://[user%pass@]host/iqn/lun */
  url(iqn: string, lun?: number, chap?: { user: string; password: string }, host = this.addr4): string {
    const auth = chap ? `${encodeURIComponent(chap.user)}%${encodeURIComponent(chap.password)}@` : "";
    return `iscsi://${auth}${host}/${iqn}${lun === undefined ? "" : `/${lun}`}`;
  }

  destroy(): void {
    this.stopTgtd();
    spawnSync("ip", ["netns", "del", this.ns]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---- LIO ---------------------------------------------------------------------------------------

export const LIO_REAL = process.env.TSSTOR_LIO_REAL === "1";

export class LioRig {
  readonly dir: string;
  /** the configfs root (the directory holding target/) */
  readonly root: string;
  readonly bin: string;
  readonly log: string;
  readonly home: string;
  readonly rscTmp: string;
  readonly saveFile: string;
  readonly addr4 = process.env.TSSTOR_LIO_TEST_ADDR4 ?? "10.231.0.1";
  readonly addr6 = process.env.TSSTOR_LIO_TEST_ADDR6 ?? "fd31::1";
  private loops: string[] = [];

  constructor(tag: string) {
    this.dir = scratchDir(`tsi-${tag}`);
    this.root = LIO_REAL ? "/sys/kernel/config" : join(this.dir, "configfs");
    if (!LIO_REAL) mkdirSync(this.root);
    this.bin = join(this.dir, "bin");
    mkdirSync(this.bin);
    this.log = join(this.dir, "argv.log");
    this.home = join(this.dir, "home");
    mkdirSync(this.home);
    this.rscTmp = join(this.dir, "rsc");
    mkdirSync(this.rscTmp); // upstream's mkdir lock loops forever without it
    this.saveFile = LIO_REAL ? "/etc/rtslib-fb-target/saveconfig.json" : `${this.root}.saveconfig.json`;
    if (LIO_REAL) {
      // same argv log format as the fakes (test/fakes/lib.ts)
      writeFileSync(
        join(this.bin, "targetcli"),
        `#!/bin/sh\nprintf '{"tool":"targetcli","argv":%s}\\n' "$(printf '%s' "$*" | sed 's/"/\\\\"/g; s/.*/["&"]/')" >> "${this.log}"\nexec /usr/bin/targetcli "$@"\n`,
      );
      chmodSync(join(this.bin, "targetcli"), 0o755);
    } else {
      // one link of the fakes' multi-call binary (its dispatch is by argv0)
      symlinkSync(join(BUILD, "test", "fakes", "tsstor-fakes"), join(this.bin, "targetcli"));
    }
  }

  get target(): string {
    return join(this.root, "target");
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    const e: Record<string, string> = { PATH: `${this.bin}:${PATH}`, TSSTOR_FAKE_LOG: this.log, HA_RSCTMP: this.rscTmp, HOME: this.home };
    if (!LIO_REAL) e.TSSTOR_CONFIGFS_ROOT = this.root;
    return { ...e, ...extra };
  }

  agent(name: string, action: string, o: RunOpts = {}): AgentRun {
    return runAgent(agentPath(name), action, { meta: { timeout: 20000 }, ...o, env: this.env(o.env as Record<string, string>) });
  }

  /** targetcli as an administrator runs it (default preferences, its own home), argv mode. */
  admin(...cmd: string[]): Out {
    const r = spawnSync(join(this.bin, "targetcli"), cmd, { encoding: "utf8", env: { ...process.env, ...this.env({ TARGETCLI_HOME: join(this.dir, "admin-home"), TSSTOR_FAKE_LOG: join(this.dir, "admin.log") }) }, timeout: 60000 });
    return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr, out: r.stdout + r.stderr };
  }

  /** targetcli processes our agents started since `since` lines of the log. */
  calls(since = 0): string[][] {
    if (!existsSync(this.log)) return [];
    return readFileSync(this.log, "utf8")
      .split("\n")
      .filter(Boolean)
      .slice(since)
      .map((l) => JSON.parse(l) as { tool: string; argv: string[] })
      .filter((x) => x.tool === "targetcli")
      .map((x) => x.argv);
  }
  logLines(): number {
    return existsSync(this.log) ? readFileSync(this.log, "utf8").split("\n").filter(Boolean).length : 0;
  }

  /** A sparse backing file. */
  file(name: string, size = 64 << 20): string {
    const p = join(this.dir, name);
    writeFileSync(p, "");
    spawnSync("truncate", ["-s", String(size), p]);
    return p;
  }

  /** A loop device over a fresh file (detached in destroy). */
  loop(name: string): string {
    const dev = must("losetup", ["-f", "--show", this.file(name, 32 << 20)]).trim();
    this.loops.push(dev);
    return dev;
  }

  destroy(): void {
    for (const l of this.loops) spawnSync("losetup", ["-d", l]);
    rmSync(this.dir, { recursive: true, force: true });
    if (!LIO_REAL) rmSync(this.saveFile, { force: true });
  }
}
