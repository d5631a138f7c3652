// A shim in front of any real tool (reliability tests): logs its argv like the fakes, then
// either injects a fault or runs the real program. Tests put links named after each tool in a
// directory, point TSSTOR_SHIM_DIR at it and put it first on the agent's PATH. A tool left out
// of that directory is simply missing.
//
// TSSTOR_FAULT: "tool=mode" or "tool/regex=mode" entries separated by ";", the regex matched
// against the space-joined argv. Modes: hang (sleeps far past any budget), fail (exit 1 with an
// error on stderr), garbage (exit 0, random bytes on stdout), partial (exit 0, the real output cut
// in half), slow (sleeps 2 s, then runs the real tool).

import { existsSync } from "node:fs";
import { err, out } from "./lib.js";

const REAL_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

function realTool(name: string): string | undefined {
  for (const d of (process.env.TSSTOR_REAL_PATH || REAL_PATH).split(":")) {
    if (d && existsSync(`${d}/${name}`)) return `${d}/${name}`;
  }
  return undefined;
}

function faultFor(tool: string, args: string[]): string | undefined {
  for (const entry of (process.env.TSSTOR_FAULT ?? "").split(";")) {
    const m = /^([^=/]+)(?:\/(.*))?=(\w+)$/.exec(entry.trim());
    if (!m || m[1] !== tool) continue;
    if (m[2] && !new RegExp(m[2]).test(args.join(" "))) continue;
    return m[3];
  }
  return undefined;
}

export function shim(tool: string, args: string[]): number {
  const fault = faultFor(tool, args);
  if (fault === "hang") {
    Bun.sleepSync(600_000);
    return 0;
  }
  if (fault === "fail") {
    err(`${tool}: injected failure\n`);
    return 1;
  }
  if (fault === "garbage") {
    const junk = new Uint8Array(512);
    crypto.getRandomValues(junk);
    out(`${Buffer.from(junk).toString("latin1")}\n}{][:,"\n`);
    return 0;
  }
  if (fault === "slow") Bun.sleepSync(2000);
  const real = realTool(tool);
  if (!real) {
    err(`${tool}: not found behind the shim\n`);
    return 127;
  }
  if (fault === "partial") {
    const r = Bun.spawnSync({ cmd: [real, ...args], stdin: "inherit", stdout: "pipe", stderr: "inherit" });
    const s = r.stdout.toString();
    out(s.slice(0, Math.floor(s.length / 2)));
    return r.exitCode ?? 1;
  }
  const r = Bun.spawnSync({ cmd: [real, ...args], stdin: "inherit", stdout: "inherit", stderr: "inherit" });
  return r.exitCode ?? 128;
}
