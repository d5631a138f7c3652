// Fakes vs the real tools: replays the commands recorded in the kernel lab (test/recordings/,
// made by `bash lab/run.sh --record`) through the fakes in build/test/fakes/ and fails when a
// fake's output drifted from the real tool's. Which cases a fake must reproduce is declared in
// test/recordings/<tool>/replay.json (see ReplaySpec in test/lib/recordings.ts); tools without
// one are listed as todo, so a new fake shows up here until it is held to its recording.
import t from "tap";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUILD } from "../lib/harness.js";
import {
  compareWithRecording,
  recordedCases,
  recordedTools,
  recording,
  replaySpec,
  type ReplaySpec,
} from "../lib/recordings.js";

const FAKES = join(BUILD, "test", "fakes");

t.test("every recording is complete", async (t) => {
  const tools = recordedTools();
  for (const tool of tools) {
    const cases = recordedCases(tool);
    t.ok(cases.length > 0, `${tool} has cases`);
    t.ok(existsSync(join("test/recordings", tool, "VERSIONS")), `${tool}/VERSIONS names what was recorded`);
    for (const c of cases) {
      const r = recording(tool, c);
      t.ok(r.argv.length > 0 && Number.isInteger(r.code), `${tool}/${c}: command and exit code`);
    }
  }
});

for (const tool of recordedTools()) {
  const spec = replaySpec(tool);
  if (!spec) {
    t.test(`${tool}: fakes replayed against the recording`, { todo: "no test/recordings/" + tool + "/replay.json yet" }, async () => {});
    continue;
  }
  t.test(`${tool}: fakes replayed against the recording`, async (t) => replay(t, tool, spec));
}

type Tap = import("tap").Test;

async function replay(t: Tap, tool: string, spec: ReplaySpec): Promise<void> {
  const state = mkdtempSync(join(tmpdir(), `tsstor-replay-${tool}-`));
  t.teardown(() => rmSync(state, { recursive: true, force: true }));
  const env: Record<string, string> = {
    PATH: `${FAKES}:/usr/sbin:/usr/bin:/sbin:/bin`,
    LC_ALL: "C",
    HOME: state,
  };
  for (const [k, v] of Object.entries(spec.env ?? {})) env[k] = v.replaceAll("$STATE", state);
  for (const argv of spec.setup ?? []) {
    const r = spawnSync(argv[0]!, argv.slice(1).map((a) => a.replaceAll("$STATE", state)), { env, encoding: "utf8" });
    t.equal(r.status, 0, `setup ${argv.join(" ")}: ${r.stderr}`);
  }
  const check = new Map(spec.check.map((c) => (typeof c === "string" ? [c, { case: c }] : [c.case, c])));
  const skip = new Set(spec.skip ?? []);
  // one pass each way, longest path first, whole paths only (/dev/loop0 is not /dev/loop0p1)
  const paths = new Map(Object.entries(spec.paths ?? {}).map(([from, to]) => [from, to.replaceAll("$STATE", state)]));
  const swap = (m: Map<string, string>) => {
    if (!m.size) return (s: string) => s;
    const alt = [...m.keys()].sort((a, b) => b.length - a.length).map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    const re = new RegExp(`(${alt.join("|")})(?![\\w-]|\\.\\w)`, "g"); // a sentence's full stop may follow
    return (s: string) => s.replace(re, (k) => m.get(k)!);
  };
  const there = swap(paths);
  // and `env NAME=/tmp/...` assignments below point into the state dir: mapped back last
  const backPaths = swap(new Map([...paths].map(([from, to]) => [to, from])));
  const back = (s: string) => backPaths(s).replaceAll(`${state}/`, "/tmp/");
  for (const name of recordedCases(tool)) {
    if (skip.has(name)) continue;
    const rec = recording(tool, name);
    let argv = rec.argv;
    // `env NAME=VALUE... tool`: the tool is the fake, the assignments join its environment
    const cmdEnv = { ...env, ...Object.fromEntries(Object.entries(check.get(name)?.env ?? {}).map(([k, v]) => [k, v.replaceAll("$STATE", state)])) };
    if (argv[0] === "env") {
      argv = argv.slice(1);
      while (argv[0]?.includes("=")) {
        const [k, ...v] = argv[0].split("=");
        cmdEnv[k!] = v.join("=").replaceAll("/tmp/", `${state}/`);
        argv = argv.slice(1);
      }
    }
    if (!argv.length || !existsSync(join(FAKES, argv[0]!))) {
      if (check.has(name)) t.fail(`${tool}/${name}: no fake ${argv[0]} in build/test/fakes`);
      continue;
    }
    const r = spawnSync(join(FAKES, argv[0]!), argv.slice(1).map(there), { env: cmdEnv, encoding: "utf8", cwd: state, input: there(rec.stdin ?? "") });
    if (!check.has(name)) continue;
    const bad = compareWithRecording(rec, { stdout: back(r.stdout), stderr: back(r.stderr), code: r.status ?? -1 }, { ...spec.compare, ...check.get(name)?.compare });
    if (!bad.length) t.pass(`${tool}/${name}`);
    for (const m of bad) t.same(m.got, m.want, `${tool}/${name} ${m.field}: fake differs from the real tool (${rec.cmd})`);
  }
}
