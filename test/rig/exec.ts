// Small process helpers for the rig: synchronous for network plumbing (milliseconds), async for
// commands inside nodes (pcs takes ~0.5 s, waits poll crm_mon). argv arrays only, never a shell.
import { spawn, spawnSync } from "node:child_process";

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout + stderr, for assertion messages */
  out: string;
}

export const BASE_ENV: Record<string, string> = {
  PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
  LC_ALL: "C",
  HOME: "/root",
};

export interface ExecOpts {
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

export function execSync(cmd: string, args: string[], o: ExecOpts = {}): ExecResult {
  const r = spawnSync(cmd, args, {
    encoding: "utf8",
    input: o.input,
    env: { ...BASE_ENV, ...o.env },
    timeout: o.timeoutMs ?? 60_000,
    killSignal: "SIGKILL",
    stdio: [o.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    maxBuffer: 64 * 1024 * 1024,
  });
  const stdout = r.stdout ?? "";
  const stderr = (r.stderr ?? "") + (r.error ? `\n${r.error.message}` : "");
  return { code: r.status ?? 128, stdout, stderr, out: stdout + stderr };
}

/** execSync that throws with the command's output when it fails. */
export function must(cmd: string, args: string[], o: ExecOpts = {}): string {
  const r = execSync(cmd, args, o);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}): ${r.out.trim()}`);
  return r.stdout;
}

export function exec(cmd: string, args: string[], o: ExecOpts = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...BASE_ENV, ...o.env }, stdio: [o.input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    if (o.input !== undefined) child.stdin!.end(o.input);
    const timer = setTimeout(() => {
      stderr += `\n(timed out after ${o.timeoutMs} ms)`;
      child.kill("SIGKILL");
    }, o.timeoutMs ?? 120_000);
    child.on("error", (e) => {
      stderr += e.message;
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const c = code ?? (signal ? 128 : 1);
      resolve({ code: c, stdout, stderr, out: stdout + stderr });
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function killPid(pid: number, sig: NodeJS.Signals = "SIGKILL"): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}
