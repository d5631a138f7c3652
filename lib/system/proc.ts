// Process identity from /proc: the one parser of /proc/PID/stat (locks, pid files, the mount
// holder scan, the runner's zombie check) and the one way to signal a process found earlier
// without hitting a reused pid (same pid and same start time, or nothing is sent).

import { readFileSync } from "node:fs";
import type { Budget } from "../ocf/budget.js";
import { fail } from "../ocf/codes.js";
import type { Logger } from "../ocf/log.js";
import { sleepMs } from "./sleep.js";

export interface ProcStat {
  /** field 2, without its parentheses (the kernel's comm: at most 15 bytes, may hold spaces and ")") */
  comm: string;
  /** field 3: R, S, D, Z, X, ... */
  state: string;
  ppid: number;
  /** field 9, PF_* bits */
  flags: number;
  /** field 22: start time in clock ticks since boot, as text (what identifies a process with its pid) */
  start: string;
  /** field 52: the wait status once it is a zombie (as waitpid reports it) */
  exitCode: number;
}

/** /proc/PID/stat's text split into its fields; undefined when it does not parse. */
export function parseStat(text: string): ProcStat | undefined {
  // comm may contain spaces and parentheses: split after the last ')'
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const f = text.slice(close + 2).split(" ");
  return {
    comm: text.slice(open + 1, close),
    state: f[0] ?? "",
    ppid: Number(f[1]),
    flags: Number(f[6] ?? 0),
    start: f[19] ?? "",
    exitCode: Number(f[49]),
  };
}

/** /proc/PID/stat of a process (alive or a zombie); undefined when it is gone. `proc` moves in tests. */
export function procStat(pid: number | "self", proc = "/proc"): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`${proc}/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

export const isZombie = (s: ProcStat): boolean => s.state === "Z" || s.state === "X";

/** Start time of a live process; undefined if it is gone or a zombie. */
export function procStartTime(pid: number, proc = "/proc"): string | undefined {
  const s = procStat(pid, proc);
  return s && !isZombie(s) ? s.start : undefined;
}

/** The name (comm) of a live process; undefined if it is gone or a zombie. */
export function procComm(pid: number, proc = "/proc"): string | undefined {
  const s = procStat(pid, proc);
  return s && !isZombie(s) ? s.comm : undefined;
}

/** A process as first seen: its pid and its start time. */
export interface ProcessId {
  pid: number;
  start: string;
}

/** The live process `pid`, identified; undefined if it is gone. */
export function identify(pid: number): ProcessId | undefined {
  const start = procStartTime(pid);
  return start === undefined ? undefined : { pid, start };
}

/** Whether the process seen earlier still runs (a reused pid does not count). */
export const stillRunning = (p: ProcessId): boolean => procStartTime(p.pid) === p.start;

/**
 * Send `sig` to a process seen earlier, only if it is still that process: a pid freed and reused
 * since must not be hit. Returns whether the signal was sent.
 */
export function signalSame(p: ProcessId, sig: NodeJS.Signals | number): boolean {
  if (!stillRunning(p)) return false;
  try {
    process.kill(p.pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** "pid start": how a lock or pid file records a process, so that a reused pid is told apart. */
export const idText = (p: ProcessId): string => `${p.pid} ${p.start}\n`;

/** The process a lock or pid file names ("pid start", or a bare pid: start ""); undefined if malformed. */
export function parseId(text: string): ProcessId | undefined {
  const [pidS, start] = text.trim().split(/\s+/);
  const pid = Number(pidS);
  return Number.isInteger(pid) && pid > 0 ? { pid, start: start ?? "" } : undefined;
}

/**
 * End a daemon found by pid and name: TERM, up to 60% of what is left of the budget, then KILL.
 * The process as found now is the one signalled (a pid freed and reused meanwhile never is).
 * Throws when it outlives SIGKILL.
 */
export function endProcess(t: { budget: Budget; log: Logger }, pid: number, comm: string): void {
  const id = procComm(pid) === comm ? identify(pid) : undefined;
  if (!id || !signalSame(id, "SIGTERM")) return;
  const gone = () => !stillRunning(id);
  const termUntil = t.budget.elapsedMs() + t.budget.remainingMs() * 0.6;
  while (!gone() && t.budget.elapsedMs() < termUntil) sleepMs(50);
  if (gone()) return;
  t.log.warn(`${comm} (pid ${pid}) ignored SIGTERM; sending SIGKILL`);
  signalSame(id, "SIGKILL");
  // SIGKILL cannot be refused; the exit may still need a moment on a loaded node, taken from the
  // budget's margin (at least 500 ms) when the budget is spent
  const killUntil = t.budget.elapsedMs() + Math.max(300, t.budget.remainingMs());
  while (!gone() && t.budget.elapsedMs() < killUntil) sleepMs(20);
  if (!gone()) throw fail.generic(`${comm} (pid ${pid}) did not exit after SIGKILL`);
}
