// Hostile values for every parameter of every agent: validate-all must answer 6 with a reason
// naming the parameter (or 0 when the value is legitimately valid), exit codes stay inside the
// OCF set, nothing but metadata ever reaches stdout, and accepted values reach commands as single,
// intact arguments (the shim logs every argv). Secrets never show in argv, logs or reasons.
import t from "tap";
import { existsSync, readFileSync } from "node:fs";
import { agentPath, runAgent } from "../lib/harness.js";
import { profiles, shimDir, shimEnv } from "./profiles.js";

const OCF_CODES = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 190, 191]);
const MARK = "tsstorPWN";

export const HOSTILE: Array<[string, string]> = [
  ["command substitution", `$(touch /tmp/${MARK})`],
  ["backticks", `\`touch /tmp/${MARK}\``],
  ["semicolon", `x; touch /tmp/${MARK}`],
  ["pipe and redirect", `x | tee /tmp/${MARK} > /dev/null`],
  ["newline", `x\n${MARK}`],
  ["64 KiB", "A".repeat(65536)],
  ["non-ASCII", "日本語-é-ü-€-🙂"],
  ["empty", ""],
  ["leading dash", `-${MARK}`],
  ["leading double dash", `--${MARK}`],
  ["path traversal", `../../../../etc/${MARK}`],
  ["out of range", "99999999999999999999999"],
  ["negative", "-1"],
  ["wrong enumeration", `${MARK}zz`],
  ["quotes", `'"${MARK}"'`],
  ["glob", `*${MARK}?[a]`],
  ["control characters", `a\u0001\u001b[31m${MARK}`],
];

interface Count {
  cases: number;
  failures: number;
}
const counts: Record<string, Count> = {};

for (const prof of profiles) {
  const bin = agentPath(prof.agent);
  t.test(`${prof.agent}: hostile parameter values`, async (t) => {
    const c = (counts[prof.agent] = { cases: 0, failures: 0 });
    const s = shimDir(prof.tools);
    t.teardown(s.cleanup);
    for (const [param, d] of Object.entries(prof.decl.params)) {
      for (const [label, value] of HOSTILE) {
        c.cases++;
        const before = t.counts.fail;
        const params = { ...prof.base, [param]: value };
        const r = runAgent(bin, "validate-all", { params, env: { ...prof.env, ...shimEnv(s) } });
        const what = `${param}=${label}`;
        t.ok(OCF_CODES.has(r.code), `${what}: exit ${r.code} is an OCF code`);
        t.equal(r.stdout, "", `${what}: nothing on stdout`);
        if (value === "" && !d.required) {
          t.equal(r.code, 0, `${what}: empty means the default`);
        } else if (r.code === 6) {
          t.ok(r.reason && r.reason.includes(param), `${what}: reason names ${param}: ${r.reason?.slice(0, 160)}`);
        } else {
          t.equal(r.code, 0, `${what}: 0 or 6, got ${r.code}: ${r.reason?.slice(0, 160)}`);
        }
        if (d.secret && value) t.notOk(r.stderr.includes(value), `${what}: secret not echoed`);
        t.notOk(existsSync(`/tmp/${MARK}`), `${what}: nothing was executed by a shell`);
        if (t.counts.fail > before) c.failures++;
      }
    }
    // anything a command received: a hostile value only ever as one whole argument
    if (existsSync(s.log)) {
      for (const line of readFileSync(s.log, "utf8").split("\n").filter(Boolean)) {
        const { tool, argv } = JSON.parse(line) as { tool: string; argv: string[] };
        for (const a of argv) t.notOk(a.includes(MARK) && !HOSTILE.some(([, v]) => v === a), `${tool} got a fragment of a hostile value: ${a}`);
      }
    }
  });
}

t.test("secrets never appear in argv, logs, traces or exit reasons", async (t) => {
  for (const prof of profiles) {
    const secrets = Object.entries(prof.decl.params).filter(([, d]) => d.secret);
    if (!secrets.length || !prof.system) continue;
    const sys = prof.system(20);
    const s = shimDir(prof.tools);
    try {
      for (const [name] of secrets) {
        const secret = `S3cr3t-${name}-Value`;
        for (const trace of [{ HA_debug: "1" }, { OCF_TRACE_RA: "1" }]) {
          for (const action of ["validate-all", "start", "monitor", "stop"]) {
            const r = runAgent(agentPath(prof.agent), action, { params: { ...sys.params, [name]: secret }, env: { ...sys.env, ...shimEnv(s), ...trace }, wrap: sys.wrap });
            t.notOk(`${r.stdout}${r.stderr}`.includes(secret), `${prof.agent} ${action} ${Object.keys(trace)[0]}: ${name} not shown`);
          }
        }
        t.notOk(existsSync(s.log) && readFileSync(s.log, "utf8").includes(secret), `${prof.agent}: ${name} never in any argv`);
      }
    } finally {
      s.cleanup();
      sys.teardown();
    }
  }
});

t.teardown(() => {
  const lines = Object.entries(counts).map(([a, c]) => `${a}: ${c.cases} hostile cases, ${c.failures} failures`);
  console.log(`# reliability/hostile: ${lines.join("; ")}`);
});
