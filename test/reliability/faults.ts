// Fault injection: every external tool an agent calls can hang past the budget, fail, print
// garbage or half its output, or be missing. The agent must return inside CRM_meta_timeout with
// an OCF code and a reason, a stop whose resource is verifiably gone returns 0, and no child
// process outlives the agent.
//
// One test file per agent (test/reliability/faults-<agent>.test.ts), so that tap spreads the
// agents over its jobs: together they are the suite's longest run (~8 min in one file).
import t, { type Test } from "tap";
import { existsSync, readFileSync } from "node:fs";
import { agentPath, runAgent, runAgentAsync } from "../lib/harness.js";
import { profiles, shimDir, shimEnv } from "./profiles.js";
import { procStartTime } from "../../lib/system/proc.js";

const OCF_CODES = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 190, 191]);
const MODES = ["hang", "fail", "garbage", "partial", "missing"] as const;
const TIMEOUT = 4000;
const counts: Record<string, { cases: number; failures: number }> = {};

const alive = (pid: number): boolean => procStartTime(pid) !== undefined;

let n = 0;

type Action = "start" | "monitor" | "stop";

/** One case set up: its own system (numbered, so cases can run side by side) and shim directory. */
function prepare(prof: (typeof profiles)[number], tool: string, mode: (typeof MODES)[number], action: Action) {
  const sys = prof.system!(n++);
  const s = shimDir(prof.tools, mode === "missing" ? [tool] : []);
  const env = { ...sys.env, ...shimEnv(s, mode === "missing" ? "" : `${tool}=${mode}`) };
  if (mode === "missing") env.PATH = s.dir; // only the shimmed tools exist
  const clean = { ...sys.env, ...shimEnv(s) };
  clean.PATH = `${s.dir}:/usr/sbin:/usr/bin:/sbin:/bin`;
  if (action !== "start") runAgent(agentPath(prof.agent), "start", { params: sys.params, env: clean, wrap: sys.wrap, meta: { timeout: 20000 } });
  return { sys, s, env, action };
}

/** Run the faulted action and check what it did; true when an assertion failed. */
async function check(t: Test, prof: (typeof profiles)[number], tool: string, mode: (typeof MODES)[number], c: ReturnType<typeof prepare>): Promise<boolean> {
  const { sys, s, env, action } = c;
  const what = `${tool} ${mode} during ${action}`;
  const r = await runAgentAsync(agentPath(prof.agent), action, { params: sys.params, env, wrap: sys.wrap, meta: { timeout: TIMEOUT, interval: action === "monitor" ? 10000 : 0 } });
  let failed = false;
  const ok = (passed: boolean) => (failed ||= !passed);
  ok(t.ok(r.ms < TIMEOUT, `${what}: returned in ${r.ms.toFixed(0)} ms < ${TIMEOUT}`));
  ok(t.ok(OCF_CODES.has(r.code), `${what}: exit ${r.code} in the OCF set`));
  if (r.code !== 0 && r.code !== 7) ok(t.ok(r.reason, `${what}: a reason (${r.reason?.slice(0, 120)})`));
  if (action === "stop" && !sys.present()) ok(t.equal(r.code, 0, `${what}: resource verifiably gone, stop returns 0`));
  if (action === "stop" && r.code === 0) ok(t.notOk(sys.present(), `${what}: stop 0 means gone`));
  // no shimmed child (the hanging one included) may outlive the agent
  await new Promise((res) => setTimeout(res, 100));
  const calls = existsSync(s.log) ? readFileSync(s.log, "utf8").split("\n").filter(Boolean) : [];
  if (mode === "fail" && calls.some((l) => JSON.parse(l).tool === tool) && r.code !== 0) {
    ok(t.match(r.reason ?? "", /injected failure|still on|not on|cannot|timed out|failed/, `${what}: the failure is reported`));
  }
  for (const line of calls) {
    const { pid, tool: tl } = JSON.parse(line) as { pid: number; tool: string };
    ok(t.notOk(alive(pid) && tl !== "arping", `${what}: ${tl} (pid ${pid}) did not outlive the agent`));
  }
  return failed;
}

/** The fault cases of one agent (its profile in profiles.ts), as one tap subtest. */
export function faultSuite(agent: string): void {
  const prof = profiles.find((p) => p.agent === agent && p.system);
  if (!prof) throw new Error(`no reliability profile with a system for ${agent}`);
  t.test(`${prof.agent}: faults in ${prof.tools.join(", ")}`, async (t) => {
    const c = (counts[prof.agent] = { cases: 0, failures: 0 });
    for (const tool of prof.tools) {
      for (const mode of MODES) {
        // A hanging tool keeps its agent waiting, idle, until the budget ends: the three actions
        // of a hang run side by side (each on its own system); the other modes one at a time.
        const groups: Action[][] = mode === "hang" ? [["start", "monitor", "stop"]] : [["start"], ["monitor"], ["stop"]];
        for (const actions of groups) {
          const cases: ReturnType<typeof prepare>[] = [];
          try {
            for (const a of actions) cases.push(prepare(prof, tool, mode, a));
            const failed = await Promise.all(cases.map((x) => check(t, prof, tool, mode, x)));
            c.cases += cases.length;
            c.failures += failed.filter(Boolean).length;
          } finally {
            for (const x of cases) {
              x.s.cleanup();
              x.sys.teardown();
            }
          }
        }
      }
    }
  });
}

t.teardown(() => {
  if (Object.keys(counts).length) console.log(`# reliability/faults: ${Object.entries(counts).map(([a, c]) => `${a}: ${c.cases} fault cases, ${c.failures} failures`).join("; ")}`);
});
