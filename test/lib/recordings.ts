// Real tool outputs recorded in the kernel lab (bash lab/run.sh --record) and the checks that
// keep the fakes in test/fakes/ honest against them.
//
// Layout: test/recordings/<tool>/<case>.cmd  the exact command line (shell-quoted, as run)
//                                 <case>.out  stdout, byte for byte
//                                 <case>.err  stderr
//                                 <case>.rc   exit code
//                                 <case>.in   what it read on stdin (optional)
//                                 <case>.note what state the system was in (optional)
//         test/recordings/<tool>/VERSIONS     the versions of the tools and kernel recorded
//         test/recordings/<tool>/README.note  where and how the cases were recorded
// Cases are numbered in the order they ran: each one sees the state the ones before it left.
//
// Two ways a fake is held to a recording:
// 1. In the fake's own tests: put the fake in the recorded state however it models state, run it,
//    then `assertMatchesRecording(t, "drbd", "s1-20-...-sh-status", run)`.
// 2. Replay (test/recordings/replay.test.ts): test/recordings/<tool>/replay.json lists cases the
//    fake reproduces when the recorded commands run in order from an empty state; the test runs
//    them through build/test/fakes/ and fails on the first drift. See ReplaySpec.

import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./xml.js";

export const RECORDINGS = join(REPO, "test", "recordings");

export interface Recording {
  tool: string;
  case: string;
  /** the command line as recorded (shell-quoted) */
  cmd: string;
  /** the command line split back into argv */
  argv: string[];
  stdout: string;
  stderr: string;
  code: number;
  /** stdin, for commands fed a batch */
  stdin: string | undefined;
  note: string | undefined;
}

export interface Output {
  stdout: string;
  stderr?: string;
  code?: number;
}

/** How strictly to compare: exact bytes, or the shape of the format (see shape()). */
export type Compare = "exact" | "shape" | "ignore";

export interface MatchOpts {
  stdout?: Compare;
  stderr?: Compare;
  code?: Compare;
  /** [regex source, replacement] applied to both sides first (device names, sizes, ...) */
  mask?: [string, string][];
}

/** Split a bash `printf %q` command line back into argv. */
export function splitCmd(cmd: string): string[] {
  const argv: string[] = [];
  let cur = "";
  let inArg = false;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i]!;
    if (c === "\\" && i + 1 < cmd.length) {
      cur += cmd[++i];
      inArg = true;
    } else if (c === "'") {
      const end = cmd.indexOf("'", i + 1);
      cur += cmd.slice(i + 1, end < 0 ? undefined : end);
      i = end < 0 ? cmd.length : end;
      inArg = true;
    } else if (c === "$" && cmd[i + 1] === "'") {
      // $'...' (newlines, tabs)
      let j = i + 2;
      for (; j < cmd.length && cmd[j] !== "'"; j++) {
        if (cmd[j] === "\\") {
          const n = cmd[++j];
          cur += n === "n" ? "\n" : n === "t" ? "\t" : n === "\\" ? "\\" : n === "'" ? "'" : `\\${n}`;
        } else cur += cmd[j];
      }
      i = j;
      inArg = true;
    } else if (c === " " || c === "\n") {
      if (inArg) argv.push(cur);
      cur = "";
      inArg = false;
    } else {
      cur += c;
      inArg = true;
    }
  }
  if (inArg) argv.push(cur);
  return argv;
}

const read = (p: string): string | undefined => (existsSync(p) ? readFileSync(p, "utf8") : undefined);

export function recording(tool: string, name: string): Recording {
  const base = join(RECORDINGS, tool, name);
  const cmd = read(`${base}.cmd`);
  if (cmd === undefined) throw new Error(`no recording ${tool}/${name} (test/recordings/${tool}/${name}.cmd)`);
  const line = cmd.replace(/\n$/, "");
  return {
    tool,
    case: name,
    cmd: line,
    argv: splitCmd(line),
    stdout: read(`${base}.out`) ?? "",
    stderr: read(`${base}.err`) ?? "",
    code: Number((read(`${base}.rc`) ?? "0").trim()),
    stdin: read(`${base}.in`),
    note: read(`${base}.note`)?.trim(),
  };
}

/** Every tool directory under test/recordings/ in the lab's layout (with <case>.cmd files). */
export function recordedTools(): string[] {
  if (!existsSync(RECORDINGS)) return [];
  return readdirSync(RECORDINGS, { withFileTypes: true })
    .filter((d) => d.isDirectory() && readdirSync(join(RECORDINGS, d.name)).some((f) => f.endsWith(".cmd")))
    .map((d) => d.name)
    .sort();
}

/** The cases of a tool, in recorded order. */
export function recordedCases(tool: string): string[] {
  return readdirSync(join(RECORDINGS, tool))
    .filter((f) => f.endsWith(".cmd"))
    .map((f) => f.slice(0, -4))
    .sort();
}

/**
 * The shape of a text format: what a parser depends on, without the values. Numbers become 9,
 * hex/UUID-like runs become H, LVM-style UUIDs become U, a list of numbers becomes one 9, runs of
 * blanks collapse (column widths follow the values), dotted leaders (targetcli ls) collapse. Words, punctuation, line structure,
 * field order and separators stay. JSON becomes its key/type skeleton.
 */
export function shape(text: string): string {
  const t = text.trim();
  if ((t.startsWith("{") || t.startsWith("[")) && t.length > 1) {
    try {
      return JSON.stringify(jsonShape(JSON.parse(t)), null, 1);
    } catch {
      /* not JSON after all */
    }
  }
  return text
    .split("\n")
    .map((l) =>
      l
        .replace(/\bLVM-[0-9A-Za-z]{64}/g, "LVM-U") // device-mapper UUIDs: VG UUID + LV UUID, no dashes
        .replace(/[0-9A-Za-z]{6}(-[0-9A-Za-z]{4}){5}-[0-9A-Za-z]{6}/g, "U") // LVM UUIDs
        .replace(/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g, "U")
        .replace(/\b(0x)?[0-9a-fA-F]*[0-9][0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\b|\b(0x)?[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*[0-9][0-9a-fA-F]*\b/g, (m) => (m.length >= 8 ? "H" : m))
        .replace(/\d+(\.\d+)?/g, "9")
        .replace(/\b9( 9\b)+/g, "9") // a list of numbers (node ids, members) is one value
        .replace(/\.{3,}/g, "...")
        .replace(/[ \t]+/g, " ")
        .trimEnd(),
    )
    .join("\n");
}

function jsonShape(v: unknown): unknown {
  if (Array.isArray(v)) {
    // an array's shape is the union of its elements' shapes (one representative)
    const shapes = [...new Set(v.map((e) => JSON.stringify(jsonShape(e))))];
    return shapes.map((s) => JSON.parse(s));
  }
  if (v && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v as object)) o[k] = jsonShape((v as Record<string, unknown>)[k]);
    return o;
  }
  return typeof v;
}

function applyMask(s: string, mask: [string, string][] | undefined): string {
  let r = s;
  for (const [re, to] of mask ?? []) r = r.replace(new RegExp(re, "g"), to);
  return r;
}

export interface Mismatch {
  field: "stdout" | "stderr" | "code";
  want: string;
  got: string;
}

/** Compare an output with a recording; returns the mismatches (empty when it matches). */
export function compareWithRecording(rec: Recording, got: Output, o: MatchOpts = {}): Mismatch[] {
  const bad: Mismatch[] = [];
  const cmp = (field: "stdout" | "stderr", how: Compare, want: string, have: string | undefined) => {
    if (how === "ignore" || have === undefined) return;
    let w = applyMask(want, o.mask);
    let h = applyMask(have, o.mask);
    if (how === "shape") {
      w = shape(w);
      h = shape(h);
    }
    if (w !== h) bad.push({ field, want: w, got: h });
  };
  cmp("stdout", o.stdout ?? "exact", rec.stdout, got.stdout);
  cmp("stderr", o.stderr ?? "shape", rec.stderr, got.stderr);
  if ((o.code ?? "exact") !== "ignore" && got.code !== undefined && got.code !== rec.code) {
    bad.push({ field: "code", want: String(rec.code), got: String(got.code) });
  }
  return bad;
}

/** For a fake's own tap tests: fail with a readable diff when the fake drifted from the real tool. */
export function assertMatchesRecording(
  t: { same: (a: unknown, b: unknown, msg?: string) => unknown; pass: (msg?: string) => unknown },
  tool: string,
  name: string,
  got: Output,
  o: MatchOpts = {},
): void {
  const rec = recording(tool, name);
  const bad = compareWithRecording(rec, got, o);
  if (!bad.length) {
    t.pass(`${tool}/${name} matches the recording`);
    return;
  }
  for (const m of bad) t.same(m.got, m.want, `${tool}/${name} ${m.field} differs from the real tool's (${rec.cmd})`);
}

/**
 * test/recordings/<tool>/replay.json: which recorded cases a fake reproduces when the recorded
 * commands are replayed in order, from a fresh state, through build/test/fakes/.
 */
export interface ReplaySpec {
  /** what is not checked, and why */
  comment?: string;
  /** extra env for every command; "$STATE" is replaced by a fresh temp dir per replay */
  env?: Record<string, string>;
  /** commands (argv) run before the first case, e.g. to create an empty emulated configfs */
  setup?: string[][];
  /**
   * The cases to check (all others are replayed for their side effects only, unchecked). A case
   * may carry its own env (for fakes whose state comes from the environment) and compare opts.
   */
  check: (string | ReplayCase)[];
  /** cases not to replay at all (their commands touch things the fake does not model) */
  skip?: string[];
  /**
   * Paths the recording used that the replay must not touch on this machine (e.g. a backing file
   * in /var/tmp), each mapped to a stand-in ("$STATE" allowed): replaced in argv and stdin, and
   * mapped back in the fake's output before the comparison.
   */
  paths?: Record<string, string>;
  compare?: MatchOpts;
}

export interface ReplayCase {
  case: string;
  env?: Record<string, string>;
  compare?: MatchOpts;
}

export function replaySpec(tool: string): ReplaySpec | undefined {
  const p = join(RECORDINGS, tool, "replay.json");
  return existsSync(p) ? (JSON.parse(readFileSync(p, "utf8")) as ReplaySpec) : undefined;
}
