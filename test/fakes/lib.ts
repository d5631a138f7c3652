// Shared by the fake system tools (compiled into one multi-call binary, build/test/fakes/).
// Fakes stand in only where this kernel lacks the subsystem (configfs, device-mapper, DRBD,
// GFS2, DLM); they print the real tools' formats and log their argv so tests can assert that
// no injected argument ever reached a command.

import { appendFileSync, readFileSync, writeSync } from "node:fs";

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

/** Read all of stdin (for tools fed a batch or a secret). */
export function readStdin(): string {
  try {
    return readFileSync(0, "utf8");
  } catch {
    return "";
  }
}
