// Runs a built agent exactly as Pacemaker's executor does: an empty environment (`env -i`)
// plus the OCF variables, the action as the only argument, LC_ALL=C; optionally as hacluster.
// Every agent's tests use this and plug into conformance() below.

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { checkDtd, checkRng, REPO } from "./xml.js";

export const BUILD = resolve(REPO, "build");
export const agentPath = (name: string) => (name === "TestAgent" ? join(BUILD, "test", name) : join(BUILD, "agents", name));

export interface AgentRun {
  code: number;
  stdout: string;
  stderr: string;
  /** the last ocf-exit-reason line, without the prefix */
  reason: string | undefined;
  ms: number;
}

export interface RunOpts {
  params?: Record<string, string | undefined>;
  meta?: Record<string, string | number | undefined>;
  /** extra raw variables (PATH for fakes, HA_RSCTMP, OCF_CHECK_LEVEL, ...) */
  env?: Record<string, string | undefined>;
  instance?: string;
  /** "1.1" (Pacemaker >= 2.1, default), "1.0", or "none" (no version variables at all) */
  ocfVersion?: "1.1" | "1.0" | "none";
  uid?: number;
  gid?: number;
  args?: string[];
  timeoutMs?: number;
  cwd?: string;
  /** run under a wrapper, e.g. ["ip", "netns", "exec", NS] */
  wrap?: string[];
}

export function lastReason(stderr: string): string | undefined {
  const lines = stderr.split("\n").filter((l) => l.startsWith("ocf-exit-reason:"));
  return lines.length ? lines[lines.length - 1]!.slice("ocf-exit-reason:".length) : undefined;
}

export function ocfEnv(agent: string, o: RunOpts = {}): Record<string, string> {
  const env: Record<string, string> = {
    OCF_ROOT: "/usr/lib/ocf",
    OCF_RESOURCE_INSTANCE: o.instance ?? "test",
    OCF_RESOURCE_TYPE: agent,
    OCF_RESOURCE_PROVIDER: "tsstor",
    LC_ALL: "C",
    PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
  };
  if ((o.ocfVersion ?? "1.1") !== "none") {
    env.OCF_RA_VERSION_MAJOR = "1";
    env.OCF_RA_VERSION_MINOR = o.ocfVersion === "1.0" ? "0" : "1";
  }
  for (const [k, v] of Object.entries(o.params ?? {})) if (v !== undefined) env[`OCF_RESKEY_${k}`] = v;
  for (const [k, v] of Object.entries(o.meta ?? {})) if (v !== undefined) env[`OCF_RESKEY_CRM_meta_${k}`] = String(v);
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function runAgent(bin: string, action: string | undefined, o: RunOpts = {}): AgentRun {
  const name = bin.split("/").pop()!;
  const t0 = performance.now();
  const argv = [...(o.wrap ?? []), bin, ...(action === undefined ? [] : [action, ...(o.args ?? [])])];
  const r = spawnSync(argv[0]!, argv.slice(1), {
    env: ocfEnv(name, o),
    encoding: "utf8",
    timeout: o.timeoutMs ?? 120000,
    uid: o.uid,
    gid: o.gid,
    cwd: o.cwd ?? "/",
  });
  const ms = performance.now() - t0;
  if (r.error) throw r.error;
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr, reason: lastReason(r.stderr), ms };
}

export function hacluster(): { uid: number; gid: number } | undefined {
  const u = spawnSync("id", ["-u", "hacluster"], { encoding: "utf8" });
  const g = spawnSync("id", ["-g", "hacluster"], { encoding: "utf8" });
  if (u.status !== 0) return undefined;
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `tsstor-${prefix}-`));
}

/** Names of parameters in a metadata document. */
export function paramNames(xml: string): string[] {
  return [...xml.matchAll(/<parameter name="([^"]+)"/g)].map((m) => m[1]!);
}

// ---- the conformance suite -----------------------------------------------------------------

type Tap = typeof import("tap").default;

export interface ConformanceSpec {
  agent: string;
  /** parameters with which validate-all (level 0) succeeds */
  valid: Record<string, string>;
  /** parameter sets that validate-all must reject with 6; the reason must name `names` */
  invalid: Array<{ params: Record<string, string>; names: string }>;
  /** extra environment for every run (fake tools on PATH, HA_RSCTMP, ...) */
  env?: Record<string, string>;
  /** a probe with `valid` on this node finds nothing running */
  probeNotRunning?: boolean;
  /** OCF_CHECK_LEVEL values monitor supports */
  monitorDepths?: number[];
}

export function conformance(t: Tap, spec: ConformanceSpec): void {
  const bin = agentPath(spec.agent);
  const env = spec.env ?? {};
  t.test(`${spec.agent}: conformance`, async (t) => {
    t.ok(existsSync(bin), `${bin} is built`);

    await t.test("meta-data: OCF 1.1 passes the spec's RNG", async (t) => {
      const r = runAgent(bin, "meta-data", { env });
      t.equal(r.code, 0);
      t.equal(r.stderr, "", "nothing on stderr");
      const v = checkRng(r.stdout);
      t.ok(v.ok, v.out);
      t.match(r.stdout, /<version>1\.1<\/version>/);
    });

    await t.test("meta-data: OCF 1.0 (no version variables) passes ra-api-1.dtd like ocf-tester", async (t) => {
      const r10 = runAgent(bin, "meta-data", { env, ocfVersion: "none" });
      t.equal(r10.code, 0);
      const v = checkDtd(r10.stdout);
      t.ok(v.ok, v.out);
      t.match(r10.stdout, /<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">/);
      const r11 = runAgent(bin, "meta-data", { env });
      t.same(paramNames(r10.stdout), paramNames(r11.stdout), "same parameters in both dialects");
      const rExplicit10 = runAgent(bin, "meta-data", { env, ocfVersion: "1.0" });
      t.equal(rExplicit10.stdout, r10.stdout, "OCF_RA_VERSION_MINOR=0 gives 1.0");
    });

    await t.test("meta-data: as hacluster with an empty environment, reading no parameters", async (t) => {
      const hc = hacluster();
      if (!hc) return void t.pass("skipped: no hacluster user");
      const r = spawnSync(bin, ["meta-data"], { env: {}, encoding: "utf8", uid: hc.uid, gid: hc.gid, cwd: "/" });
      t.equal(r.status, 0, r.stderr);
      t.match(r.stdout, /<resource-agent name="/);
      const bad = runAgent(bin, "meta-data", { uid: hc.uid, gid: hc.gid, params: Object.fromEntries(Object.keys(spec.valid).map((k) => [k, "\u0001$(garbage)"])) });
      t.equal(bad.code, 0, "garbage parameters do not matter to meta-data");
    });

    await t.test("unknown or missing action: 3 with usage; extra arguments ignored", async (t) => {
      for (const a of ["frobnicate", "", "START", "--help"]) {
        const r = runAgent(bin, a, { params: spec.valid, env });
        t.equal(r.code, 3, `action ${JSON.stringify(a)}`);
        t.match(r.stderr, /usage: /);
        t.ok(r.reason, "has an exit reason");
        t.equal(r.stdout, "");
      }
      t.equal(runAgent(bin, undefined, { params: spec.valid, env }).code, 3, "no action");
      const x = runAgent(bin, "meta-data", { args: ["extra", "--foo"], env });
      t.equal(x.code, 0);
      t.match(x.stdout, /<resource-agent/);
      const u = runAgent(bin, "usage", { env });
      t.equal(u.code, 0);
      t.match(u.stdout, /usage: /);
    });

    await t.test("validate-all: 0 for valid parameters, nothing on stdout", async (t) => {
      const r = runAgent(bin, "validate-all", { params: spec.valid, env, meta: { timeout: 20000 } });
      t.equal(r.code, 0, r.stderr);
      t.equal(r.stdout, "");
    });

    await t.test("validate-all: 6 with a reason naming the parameter", async (t) => {
      for (const c of spec.invalid) {
        const r = runAgent(bin, "validate-all", { params: c.params, env, meta: { timeout: 20000 } });
        t.equal(r.code, 6, `${JSON.stringify(c.params)}: ${r.stderr}`);
        t.match(r.reason ?? "", new RegExp(c.names), "reason names the parameter");
        t.equal(r.stdout, "");
        t.ok(r.stderr.trimEnd().split("\n").pop()!.startsWith("ocf-exit-reason:"), "reason is the last stderr line");
      }
    });

    if (spec.probeNotRunning !== false) {
      await t.test("probe (monitor, interval 0 or unset) finds it not running: 7", async (t) => {
        const a = runAgent(bin, "monitor", { params: spec.valid, env });
        t.equal(a.code, 7, a.stderr);
        const b = runAgent(bin, "monitor", { params: spec.valid, env, meta: { interval: 0, timeout: 20000 } });
        t.equal(b.code, 7, b.stderr);
        t.equal(b.stdout, "");
      });
      await t.test("stop of what is not running: 0", async (t) => {
        const r = runAgent(bin, "stop", { params: spec.valid, env, meta: { timeout: 20000 } });
        t.equal(r.code, 0, r.stderr);
      });
    }
  });
}

/** runAgent, asynchronously: for parallel actions (concurrency tests). */
export function runAgentAsync(bin: string, action: string, o: RunOpts = {}): Promise<AgentRun> {
  const name = bin.split("/").pop()!;
  const argv = [...(o.wrap ?? []), bin, action, ...(o.args ?? [])];
  const t0 = performance.now();
  return new Promise((resolve) => {
    const p = spawn(argv[0]!, argv.slice(1), { env: ocfEnv(name, o), cwd: o.cwd ?? "/", stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout!.on("data", (d) => (stdout += d));
    p.stderr!.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code: code ?? 128, stdout, stderr, reason: lastReason(stderr), ms: performance.now() - t0 }));
  });
}
