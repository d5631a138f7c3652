// How the CLI runs a program: through the agents' runner (lib/system/run.ts: argv only, never a
// shell, LC_ALL=C, killed at its limit), with a wall-clock limit per call instead of an action's
// budget, and no log (the CLI reports what matters itself).
import { Budget } from "../lib/ocf/budget.js";
import { Logger } from "../lib/ocf/log.js";
import { Runner, type RunResult } from "../lib/system/run.js";

export type { RunResult };

export interface ToolOpts {
  /** default 30 s */
  timeoutMs?: number;
  input?: string;
  env?: Record<string, string>;
}

const quiet = new Logger("tsstor", "cli", false, () => {});

export function runTool(cmd: string, args: readonly string[], o: ToolOpts = {}): RunResult {
  const timeoutMs = o.timeoutMs ?? 30_000;
  // a budget of exactly this call (no margin to keep: nothing runs after it against a deadline)
  return new Runner(new Budget(timeoutMs, undefined, timeoutMs), quiet).run(cmd, args, { timeoutMs, input: o.input, env: o.env });
}

/** What a failed call printed last (stderr, else stdout), or its exit status: for one-line reasons. */
export function lastLine(r: RunResult): string {
  return (r.stderr.trim() || r.stdout.trim()).split("\n").pop() || (r.timedOut ? "timed out" : `exit ${r.code}`);
}
