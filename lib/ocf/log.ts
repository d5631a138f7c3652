// Logging to stderr, which Pacemaker captures and logs at info level.
// Every line passes through the secret mask, so a secret parameter's value never appears.

import { writeSync } from "node:fs";

export type Level = "debug" | "info" | "warn" | "error";

export class Logger {
  private readonly secrets: string[] = [];
  constructor(
    readonly agent: string,
    readonly instance: string,
    readonly debugEnabled: boolean,
    private readonly write: (line: string) => void = (l) => writeSync(2, l),
  ) {}

  /** Values replaced by *** in every line and exit reason. Short values are masked too. */
  addSecret(v: string): void {
    if (v !== "" && !this.secrets.includes(v)) {
      this.secrets.push(v);
      this.secrets.sort((a, b) => b.length - a.length);
    }
  }

  mask(s: string): string {
    let out = s;
    for (const sec of this.secrets) out = out.split(sec).join("***");
    return out;
  }

  log(level: Level, msg: string): void {
    if (level === "debug" && !this.debugEnabled) return;
    const text = this.mask(msg).replace(/\r?\n/g, "\n  ");
    this.write(`${this.agent}(${this.instance})[${process.pid}]: ${level.toUpperCase()}: ${text}\n`);
  }

  debug(msg: string): void {
    this.log("debug", msg);
  }
  info(msg: string): void {
    this.log("info", msg);
  }
  warn(msg: string): void {
    this.log("warn", msg);
  }
  error(msg: string): void {
    this.log("error", msg);
  }

  /** The exit reason: the last line on stderr, one line, masked. */
  exitReason(prefix: string, reason: string): void {
    const one = this.mask(reason).replace(/[\r\n]+/g, " ").trim();
    if (one !== "") this.write(`${prefix}${one}\n`);
  }
}
