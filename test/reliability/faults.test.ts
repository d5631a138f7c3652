// Fault injection: every external tool an agent calls can hang past the budget, fail, print
// garbage or half its output, or be missing. The agent must return inside CRM_meta_timeout with
// an OCF code and a reason, a stop whose resource is verifiably gone returns 0, and no child
// process outlives the agent.
import t from "tap";
import { existsSync, readFileSync } from "node:fs";
import { agentPath, runAgent } from "../lib/harness.js";
import { profiles, shimDir, shimEnv } from "./profiles.js";

const OCF_CODES = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 190, 191]);
const MODES = ["hang", "fail", "garbage", "partial", "missing"] as const;
const TIMEOUT = 4000;
const counts: Record<string, { cases: number; failures: number }> = {};

function alive(pid: number): boolean {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) [ZX] /.test(st);
  } catch {
    return false;
  }
}

let n = 0;
for (const prof of profiles) {
  if (!prof.system) continue;
  t.test(`${prof.agent}: faults in ${prof.tools.join(", ")}`, async (t) => {
    const c = (counts[prof.agent] = { cases: 0, failures: 0 });
    for (const tool of prof.tools) {
      for (const mode of MODES) {
        for (const action of ["start", "monitor", "stop"] as const) {
          c.cases++;
          const before = t.counts.fail;
          const sys = prof.system!(n++);
          const s = shimDir(prof.tools, mode === "missing" ? [tool] : []);
          try {
            const env = { ...sys.env, ...shimEnv(s, mode === "missing" ? "" : `${tool}=${mode}`) };
            if (mode === "missing") env.PATH = s.dir; // only the shimmed tools exist
            const clean = { ...sys.env, ...shimEnv(s) };
            clean.PATH = `${s.dir}:/usr/sbin:/usr/bin:/sbin:/bin`;
            if (action !== "start") runAgent(agentPath(prof.agent), "start", { params: sys.params, env: clean, wrap: sys.wrap, meta: { timeout: 20000 } });
            const what = `${tool} ${mode} during ${action}`;
            const r = runAgent(agentPath(prof.agent), action, { params: sys.params, env, wrap: sys.wrap, meta: { timeout: TIMEOUT, interval: action === "monitor" ? 10000 : 0 } });
            t.ok(r.ms < TIMEOUT, `${what}: returned in ${r.ms.toFixed(0)} ms < ${TIMEOUT}`);
            t.ok(OCF_CODES.has(r.code), `${what}: exit ${r.code} in the OCF set`);
            if (r.code !== 0 && r.code !== 7) t.ok(r.reason, `${what}: a reason (${r.reason?.slice(0, 120)})`);
            if (action === "stop" && !sys.present()) t.equal(r.code, 0, `${what}: resource verifiably gone, stop returns 0`);
            if (action === "stop" && r.code === 0) t.notOk(sys.present(), `${what}: stop 0 means gone`);
            // no shimmed child (the hanging one included) may outlive the agent
            await new Promise((res) => setTimeout(res, 100));
            const calls = existsSync(s.log) ? readFileSync(s.log, "utf8").split("\n").filter(Boolean) : [];
            if (mode === "fail" && calls.some((l) => JSON.parse(l).tool === tool) && r.code !== 0) {
              t.match(r.reason ?? "", /injected failure|still on|not on|cannot|timed out|failed/, `${what}: the failure is reported`);
            }
            if (existsSync(s.log)) {
              for (const line of calls) {
                const { pid, tool: tl } = JSON.parse(line) as { pid: number; tool: string };
                t.notOk(alive(pid) && tl !== "arping", `${what}: ${tl} (pid ${pid}) did not outlive the agent`);
              }
            }
          } finally {
            s.cleanup();
            sys.teardown();
          }
          if (t.counts.fail > before) c.failures++;
        }
      }
    }
  });
}

t.teardown(() => {
  console.log(`# reliability/faults: ${Object.entries(counts).map(([a, c]) => `${a}: ${c.cases} fault cases, ${c.failures} failures`).join("; ")}`);
});
