// Shared by the fake system tools (compiled into one multi-call binary, build/test/fakes/).
// Fakes stand in only where this kernel lacks the subsystem (configfs, device-mapper, DRBD,
// GFS2, DLM); they print the real tools' formats and log their argv so tests can assert that
// no injected argument ever reached a command.

import { appendFileSync, readFileSync, readSync, writeSync } from "node:fs";
import { sleepMs } from "../../lib/system/run.js";

export type FakeMain = (args: string[]) => number;

/** Register fakes with `export const fakes: Record<string, FakeMain>` in test/fakes/<tool>.ts. */
export function logArgv(tool: string, args: string[]): void {
  const log = process.env.TSSTOR_FAKE_LOG;
  if (log) appendFileSync(log, `${JSON.stringify({ tool, argv: args, pid: process.pid })}\n`);
}

export function out(s: string): void {
  writeSync(1, s);
}
export function err(s: string): void {
  writeSync(2, s);
}

/**
 * Lines of stdin as they arrive (a shell reading commands one at a time, as Python's input()
 * does: the writer may wait for the effect of a line before sending the next).
 */
export function* stdinLines(): Generator<string> {
  const buf = Buffer.alloc(4096);
  let pending = "";
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EAGAIN") {
        sleepMs(2);
        continue;
      }
      n = 0;
    }
    if (n <= 0) break;
    pending += buf.toString("utf8", 0, n);
    let i: number;
    while ((i = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, i);
      pending = pending.slice(i + 1);
    }
  }
  if (pending) yield pending;
}

