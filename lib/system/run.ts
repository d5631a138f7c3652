// The one way an agent runs an external program: an argv array (never a shell), a timeout taken
// from the action's budget, stdout/stderr captured, secrets fed on stdin and masked in logs.
// Under a Bun-compiled agent it uses Bun.spawnSync (about 2 ms cheaper per call than
// node:child_process); under Node (unit tests, CLI) it falls back to child_process.

import { accessSync, closeSync, constants, mkdtempSync, openSync, readSync, rmdirSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import type { Budget } from "../ocf/budget.js";
import type { Logger } from "../ocf/log.js";
import { OcfError, OCF, type OcfCode } from "../ocf/codes.js";
import { isZombie, procStat } from "./proc.js";
import { sleepMs } from "./sleep.js";

export interface RunOpts {
  /** Fed on stdin: the only way a secret reaches a child. */
  input?: string | Uint8Array;
  /** Upper bound for this call; the budget bounds it anyway. */
  timeoutMs?: number;
  /** Extra environment (merged over ours; LC_ALL=C always). */
  env?: Record<string, string>;
}

export interface RunResult {
  argv: readonly string[];
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** the program does not exist */
  missing: boolean;
  ms: number;
}

const DEFAULT_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

type Spawn = (argv: string[], input: Uint8Array | undefined, env: Record<string, string>, timeoutMs: number) => Omit<RunResult, "argv" | "ms">;

const enc = new TextEncoder();
const dec = new TextDecoder();

function bunSpawn(argv: string[], input: Uint8Array | undefined, env: Record<string, string>, timeoutMs: number) {
  try {
    const r = Bun.spawnSync({
      cmd: argv,
      stdin: input ?? "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env,
      timeout: Math.max(1, Math.floor(timeoutMs)),
      killSignal: "SIGKILL",
    });
    const timedOut = r.exitedDueToTimeout === true;
    return {
      code: r.exitCode ?? (timedOut ? 124 : 128),
      stdout: r.stdout ? dec.decode(r.stdout) : "",
      stderr: r.stderr ? dec.decode(r.stderr) : "",
      timedOut,
      missing: false,
    };
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    if (/not found|ENOENT|EACCES/i.test(msg)) return { code: 127, stdout: "", stderr: msg, timedOut: false, missing: true };
    throw e;
  }
}

let nodeSpawnSync: typeof import("node:child_process").spawnSync | undefined;
function nodeSpawn(argv: string[], input: Uint8Array | undefined, env: Record<string, string>, timeoutMs: number) {
  nodeSpawnSync ??= createRequire(import.meta.url)("node:child_process").spawnSync as typeof import("node:child_process").spawnSync;
  const r = nodeSpawnSync(argv[0]!, argv.slice(1), {
    input,
    env,
    timeout: Math.max(1, Math.floor(timeoutMs)),
    killSignal: "SIGKILL",
    maxBuffer: 64 * 1024 * 1024,
    stdio: [input ? "pipe" : "ignore", "pipe", "pipe"],
  });
  const err = r.error as NodeJS.ErrnoException | undefined;
  if (err && (err.code === "ENOENT" || err.code === "EACCES")) {
    return { code: 127, stdout: "", stderr: err.message, timedOut: false, missing: true };
  }
  const timedOut = err?.code === "ETIMEDOUT";
  return {
    code: r.status ?? (timedOut ? 124 : 128),
    stdout: r.stdout ? r.stdout.toString() : "",
    stderr: r.stderr ? r.stderr.toString() : "",
    timedOut,
    missing: false,
  };
}

const spawnImpl: Spawn = typeof Bun !== "undefined" ? bunSpawn : nodeSpawn;

/** Block the (single-threaded, synchronous) agent for `ms` without a child process. */
// re-exported: callers take their sleep from the runner module
export { sleepMs } from "./sleep.js";

export class Runner {
  /** Every call, for tests and the process counter in bench/. */
  readonly history: RunResult[] = [];
  constructor(
    private readonly budget: Budget,
    private readonly log: Logger,
    private readonly baseEnv: Record<string, string | undefined> = process.env,
  ) {}

  run(cmd: string, args: readonly string[], opts: RunOpts = {}): RunResult {
    const argv = [cmd, ...args];
    for (const a of argv) {
      if (a.includes("\0")) throw new OcfError(OCF.ERR_CONFIGURED, `argument for ${cmd} contains a NUL byte`);
    }
    const limit = this.budget.slice(opts.timeoutMs);
    const shown = this.log.mask(argv.map(quoteForLog).join(" "));
    if (limit <= 0) {
      throw new OcfError(OCF.ERR_GENERIC, `time budget exhausted before running ${cmd}`);
    }
    const env = this.childEnv(opts.env);
    const input = typeof opts.input === "string" ? enc.encode(opts.input) : opts.input;
    const t0 = performance.now();
    const r = spawnImpl(argv, input, env, limit);
    const ms = performance.now() - t0;
    const res: RunResult = { argv, ms, ...r };
    this.history.push(res);
    this.log.debug(
      `exec ${shown} -> ${r.missing ? "missing" : r.timedOut ? `timeout after ${Math.round(limit)} ms` : `rc=${r.code}`} (${ms.toFixed(1)} ms)` +
        (r.code !== 0 && r.stderr ? `: ${r.stderr.trim().split("\n").slice(-3).join(" | ")}` : ""),
    );
    return res;
  }

  /**
   * Start a program whose stdin is fed in parts while the agent waits in between (one targetcli
   * process for a batch that needs configfs writes half-way). Bun only: undefined under Node,
   * where callers fall back to one process per part. stdout/stderr go to unlinked files in
   * `scratch` (no pipe to drain while we block), so nothing is left behind even after SIGKILL.
   */
  session(cmd: string, args: readonly string[], scratch: string, opts: Pick<RunOpts, "env" | "timeoutMs"> = {}): Session | undefined {
    if (typeof Bun === "undefined") return undefined;
    const limit = this.budget.slice(opts.timeoutMs);
    if (limit <= 0) throw new OcfError(OCF.ERR_GENERIC, `time budget exhausted before running ${cmd}`);
    const argv = [cmd, ...args];
    const dir = mkdtempSync(join(scratch, "run-"));
    const fds = [join(dir, "out"), join(dir, "err")].map((f) => {
      const fd = openSync(f, "w+", 0o600);
      unlinkSync(f);
      return fd;
    }) as [number, number];
    rmdirSync(dir);
    this.log.debug(`exec (session) ${this.log.mask(argv.map(quoteForLog).join(" "))}`);
    try {
      const p = Bun.spawn({ cmd: argv, stdin: "pipe", stdout: fds[0], stderr: fds[1], env: this.childEnv(opts.env) });
      return new Session(argv, p, fds, performance.now() + limit, (r) => {
        this.history.push(r);
        this.log.debug(`exec (session) ${argv[0]} -> ${r.timedOut ? "timeout" : `rc=${r.code}`} (${r.ms.toFixed(1)} ms)`);
      });
    } catch (e) {
      for (const fd of fds) closeSync(fd);
      const msg = (e as Error).message ?? String(e);
      if (/not found|ENOENT|EACCES/i.test(msg)) {
        const r: RunResult = { argv, code: 127, stdout: "", stderr: msg, timedOut: false, missing: true, ms: 0 };
        this.history.push(r);
        return new Session(argv, undefined, undefined, 0, () => {}, r);
      }
      throw e;
    }
  }

  /**
   * Where `cmd` would be found on the PATH children get (no fork), or undefined: for
   * "is the tool installed" checks (validate-all level 10, implementation auto-detection).
   */
  which(cmd: string): string | undefined {
    if (cmd.includes("/")) return isExecutable(cmd) ? cmd : undefined;
    for (const dir of (this.baseEnv.PATH || DEFAULT_PATH).split(":")) {
      if (dir && isExecutable(`${dir}/${cmd}`)) return `${dir}/${cmd}`;
    }
    return undefined;
  }

  /**
   * Start a program in the background (it outlives the action; same process group, so a
   * Pacemaker timeout kill still takes it). Returns its pid, or undefined when it cannot start.
   */
  background(cmd: string, args: readonly string[], opts: Pick<RunOpts, "env"> = {}): number | undefined {
    const argv = [cmd, ...args];
    const env = this.childEnv(opts.env);
    this.log.debug(`exec (background) ${this.log.mask(argv.map(quoteForLog).join(" "))}`);
    try {
      if (typeof Bun !== "undefined") {
        const p = Bun.spawn({ cmd: argv, stdin: "ignore", stdout: "ignore", stderr: "ignore", env });
        p.unref();
        return p.pid;
      }
      const cp = createRequire(import.meta.url)("node:child_process") as typeof import("node:child_process");
      const p = cp.spawn(cmd, args, { stdio: "ignore", env });
      p.unref();
      return p.pid;
    } catch {
      return undefined;
    }
  }

  private childEnv(extra?: Record<string, string>): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.baseEnv)) if (v !== undefined) env[k] = v;
    env.PATH ||= DEFAULT_PATH;
    env.LC_ALL = "C";
    return Object.assign(env, extra);
  }

  /** Run and require exit 0, else end the action with `code` and a reason naming the command. */
  must(cmd: string, args: readonly string[], opts: RunOpts = {}, code: OcfCode = OCF.ERR_GENERIC): RunResult {
    const r = this.run(cmd, args, opts);
    if (r.code !== 0) throw new OcfError(code, describeFailure(r));
    return r;
  }
}

/** "cmd failed (rc=N): last stderr line" — for exit reasons. */
export function describeFailure(r: RunResult): string {
  const name = r.argv[0] ?? "?";
  if (r.missing) return `${name} not found`;
  if (r.timedOut) return `${name} timed out`;
  const last = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-1)[0] ?? "";
  return `${name} failed (rc=${r.code})${last ? `: ${last.slice(0, 300)}` : ""}`;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function quoteForLog(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`;
}

/** Read a whole unlinked capture file by its descriptor, from the start. */
function readFd(fd: number): string {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(65536);
  for (let pos = 0; ; ) {
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n <= 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
    pos += n;
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * The exit status of our child once it is a zombie, read from /proc (field 52, as waitpid
 * reports it): the agent is synchronous, so Bun's event loop never reaps it under us. undefined
 * while it runs; null when it is gone (reaped, status unknown).
 */
function zombieStatus(pid: number): number | undefined | null {
  const st = procStat(pid);
  if (!st) return null;
  if (!isZombie(st)) return undefined;
  const w = st.exitCode;
  if (!Number.isFinite(w)) return null;
  return (w & 0x7f) === 0 ? (w >> 8) & 0xff : 128 + (w & 0x7f);
}

/** A child started by Runner.session: feed it, wait on what it wrote, then finish. */
export class Session {
  private readonly t0 = performance.now();
  private status: number | undefined | null;
  private timedOut = false;
  constructor(
    readonly argv: readonly string[],
    private readonly proc: ReturnType<typeof Bun.spawn> | undefined,
    private readonly fds: [number, number] | undefined,
    private readonly deadline: number,
    private readonly done: (r: RunResult) => void,
    private result?: RunResult,
  ) {}

  /** the program was not found: nothing runs, finish() says so */
  get missing(): boolean {
    return this.result?.missing === true;
  }

  send(text: string): void {
    if (!this.proc || this.result) return;
    const sink = this.proc.stdin as import("bun").FileSink;
    try {
      sink.write(text);
      sink.flush();
    } catch {
      // the child is gone: finish() reports how it ended
    }
  }

  private exited(): boolean {
    if (this.status === undefined && this.proc) this.status = zombieStatus(this.proc.pid);
    return this.status !== undefined;
  }

  private kill(): void {
    this.timedOut = true;
    this.proc?.kill(9);
    while (!this.exited()) sleepMs(2);
  }

  /** Wait until the child's stdout/stderr so far satisfy `ready`, it exits, or the budget ends. */
  waitFor(ready: (stdout: string, stderr: string) => boolean): boolean {
    if (!this.fds || this.result) return false;
    for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
      if (ready(readFd(this.fds[0]), readFd(this.fds[1]))) return true;
      if (this.exited()) return false;
      if (performance.now() >= this.deadline) {
        this.kill();
        return false;
      }
      sleepMs(wait);
    }
  }

  /** Close stdin, wait for the exit (bounded by the budget), collect the output. */
  finish(): RunResult {
    if (this.result) return this.result;
    const p = this.proc!;
    try {
      (p.stdin as import("bun").FileSink).end();
    } catch {
      // already gone
    }
    for (let wait = 1; !this.exited(); wait = Math.min(wait * 2, 20)) {
      if (performance.now() >= this.deadline) {
        this.kill();
        break;
      }
      sleepMs(wait);
    }
    const [o, e] = this.fds!;
    const r: RunResult = {
      argv: this.argv,
      code: this.timedOut ? 124 : (this.status ?? p.exitCode ?? 0),
      stdout: readFd(o),
      stderr: readFd(e),
      timedOut: this.timedOut,
      missing: false,
      ms: performance.now() - this.t0,
    };
    closeSync(o);
    closeSync(e);
    this.result = r;
    this.done(r);
    return r;
  }
}
