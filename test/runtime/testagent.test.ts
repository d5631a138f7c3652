// The shared runtime, black box: the compiled test agent run as Pacemaker runs it.
import t from "tap";
import { chmodSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { agentPath, conformance, runAgent, scratchDir } from "../lib/harness.js";

const tmp = scratchDir("rt");
const bin = agentPath("TestAgent");
const env = { HA_RSCTMP: tmp };

conformance(t, {
  agent: "TestAgent",
  valid: { name: "x" },
  env,
  invalid: [
    { params: {}, names: "parameter name is required" },
    { params: { name: "x", count: "many" }, names: "parameter count" },
    { params: { name: "x", count: "500" }, names: "parameter count must be <= 100" },
    { params: { name: "x", fast: "perhaps" }, names: "parameter fast" },
    { params: { name: "x", mode: "zz" }, names: "parameter mode" },
    { params: { name: "x", mode: "c", count: "50" }, names: "mode c allows count <= 10" },
  ],
});

t.test("lifecycle: start, monitor, double start, stop, double stop", async (t) => {
  const o = { params: { name: "life" }, env, instance: "life", meta: { timeout: 20000 } };
  t.equal(runAgent(bin, "monitor", o).code, 7);
  t.equal(runAgent(bin, "start", o).code, 0);
  t.equal(runAgent(bin, "monitor", { ...o, meta: { interval: 10000, timeout: 20000 } }).code, 0);
  t.equal(runAgent(bin, "start", o).code, 0);
  t.equal(runAgent(bin, "stop", o).code, 0);
  t.equal(runAgent(bin, "stop", o).code, 0);
  t.equal(runAgent(bin, "monitor", o).code, 7);
});

t.test("validate-all levels: 0 checks parameters only, 10 adds local checks, 15 falls back to 10", async (t) => {
  const p = { name: "x", dir: "/nonexistent/dir" };
  t.equal(runAgent(bin, "validate-all", { params: p, env }).code, 0);
  const r10 = runAgent(bin, "validate-all", { params: p, env: { ...env, OCF_CHECK_LEVEL: "10" } });
  t.equal(r10.code, 5);
  t.match(r10.reason, /directory \/nonexistent\/dir does not exist/);
  t.equal(runAgent(bin, "validate-all", { params: p, env: { ...env, OCF_CHECK_LEVEL: "15" } }).code, 5);
  t.equal(runAgent(bin, "validate-all", { params: { name: "x", dir: tmp }, env: { ...env, OCF_CHECK_LEVEL: "10" } }).code, 0);
});

t.test("monitor depth falls back to the highest supported level", async (t) => {
  const o = { params: { name: "deep", fail_action: "monitor10" }, env, instance: "deep" };
  t.equal(runAgent(bin, "start", o).code, 0);
  t.equal(runAgent(bin, "monitor", { ...o, env: { ...env, OCF_CHECK_LEVEL: "0" } }).code, 0);
  t.equal(runAgent(bin, "monitor", { ...o, env: { ...env, OCF_CHECK_LEVEL: "20" } }).code, 1, "20 -> 10");
  t.equal(runAgent(bin, "monitor", { ...o, env: { ...env, OCF_CHECK_LEVEL: "9" } }).code, 0, "9 -> 0");
  t.equal(runAgent(bin, "stop", o).code, 0);
});

t.test("invalid parameters: stop 0 (with a reason), probe and start 6", async (t) => {
  const bad = { name: "x", count: "lots" };
  const s = runAgent(bin, "stop", { params: bad, env });
  t.equal(s.code, 0);
  t.match(s.reason, /parameter count/);
  t.equal(runAgent(bin, "monitor", { params: bad, env }).code, 6);
  t.equal(runAgent(bin, "start", { params: bad, env }).code, 6);
});

t.test("failures carry a reason; custom prefix honoured", async (t) => {
  const r = runAgent(bin, "start", { params: { name: "x", fail_action: "start" }, env: { ...env, OCF_EXIT_REASON_PREFIX: "WHY:" } });
  t.equal(r.code, 1);
  t.match(r.stderr, /WHY:start failed as asked\n$/);
});

t.test("the time budget bounds child commands (CRM_meta_timeout)", async (t) => {
  const r = runAgent(bin, "start", { params: { name: "slow", sleep_ms: "10000" }, env, meta: { timeout: 1500 } });
  t.equal(r.code, 1);
  t.match(r.reason, /sleep ran out of time/);
  t.ok(r.ms < 1500, `returned in ${r.ms.toFixed(0)} ms, inside the 1500 ms timeout`);
});

t.test("secrets never appear in stderr, traces or reasons", async (t) => {
  const secret = "Pa55-w0rd!";
  for (const trace of [{ HA_debug: "1" }, { OCF_TRACE_RA: "1" }]) {
    const r = runAgent(bin, "start", { params: { name: "sec", password: secret }, env: { ...env, ...trace }, instance: "sec" });
    t.equal(r.code, 0);
    t.match(r.stderr, /DEBUG: exec cat -> rc=0/, "trace shows the command");
    t.match(r.stderr, /child saw 10 bytes of secret/, "the child got it on stdin");
    t.notMatch(r.stderr, secret);
    runAgent(bin, "stop", { params: { name: "sec" }, env, instance: "sec" });
  }
  const bad = runAgent(bin, "validate-all", { params: { name: secret, password: secret, count: secret }, env });
  t.equal(bad.code, 6);
  t.notMatch(bad.stderr, secret, "not even when echoed in a validation error");
});

t.test("promotion score: written once, not re-written when unchanged, not on probes", async (t) => {
  const fake = join(tmp, "bin");
  const log = join(tmp, "crm_attribute.log");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(fake, { recursive: true });
  writeFileSync(join(fake, "crm_attribute"), `#!/bin/sh\necho "$*" >> ${log}\nexit 0\n`);
  chmodSync(join(fake, "crm_attribute"), 0o755);
  const o = {
    params: { name: "prom", score: "100" },
    env: { ...env, PATH: `${fake}:/usr/bin:/bin` },
    instance: "prom",
    meta: { on_node: "node1", interval: 10000 },
  };
  t.equal(runAgent(bin, "start", o).code, 0);
  t.equal(runAgent(bin, "monitor", { ...o, meta: { on_node: "node1" } }).code, 0, "probe");
  t.notOk(existsSync(log), "a probe does not write the score");
  t.equal(runAgent(bin, "monitor", o).code, 0);
  t.equal(runAgent(bin, "monitor", o).code, 0);
  t.equal(readFileSync(log, "utf8"), "--promotion -v 100 -N node1\n", "one write for two monitors");
  t.equal(runAgent(bin, "stop", o).code, 0);
  t.equal(runAgent(bin, "start", o).code, 0);
  t.equal(runAgent(bin, "monitor", o).code, 0);
  t.equal(readFileSync(log, "utf8").split("\n").length - 1, 2, "stop forgets the cache");
  runAgent(bin, "stop", o);
});
