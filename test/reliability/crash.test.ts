// Crash-restart: SIGKILL the agent (and its process group, as Pacemaker does on timeout) at
// random points of start and stop, then run the action again: it converges, and monitor agrees
// with the real system state. Plus concurrency: many resources of one kind changed in parallel.
import t from "tap";
import { spawn } from "node:child_process";
import { agentPath, ocfEnv, runAgent } from "../lib/harness.js";
import { profiles } from "./profiles.js";

const ROUNDS = 12;

/** Start the action in its own process group and SIGKILL the group after `ms`. */
function killedAfter(bin: string, action: string, ms: number, o: { params: Record<string, string>; env: Record<string, string>; wrap?: string[] }): Promise<void> {
  const argv = [...(o.wrap ?? []), bin, action];
  const p = spawn(argv[0]!, argv.slice(1), { env: ocfEnv(bin.split("/").pop()!, { params: o.params, env: o.env, meta: { timeout: 20000 } }), detached: true, stdio: "ignore" });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-p.pid!, "SIGKILL");
      } catch {
        /* already done */
      }
    }, ms);
    p.on("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const counts: Record<string, { cases: number; failures: number }> = {};

for (const prof of profiles) {
  if (!prof.system) continue;
  const bin = agentPath(prof.agent);
  t.test(`${prof.agent}: SIGKILL during start and stop, then converge`, async (t) => {
    const c = (counts[prof.agent] = { cases: 0, failures: 0 });
    const sys = prof.system!(30);
    t.teardown(() => sys.teardown());
    const o = { params: sys.params, env: sys.env, wrap: sys.wrap, meta: { timeout: 20000 } };
    const rec = { ...o, meta: { timeout: 20000, interval: 10000 } };
    for (let i = 0; i < ROUNDS; i++) {
      const before = t.counts.fail;
      c.cases += 2;
      const ms = 1 + Math.floor(Math.random() * 25);
      await killedAfter(bin, "start", ms, o);
      t.equal(runAgent(bin, "start", o).code, 0, `round ${i}: start after a kill at ${ms} ms converges`);
      t.equal(runAgent(bin, "monitor", rec).code, 0, `round ${i}: monitor agrees (running)`);
      t.ok(sys.present(), `round ${i}: really present`);
      const ms2 = 1 + Math.floor(Math.random() * 25);
      await killedAfter(bin, "stop", ms2, o);
      t.equal(runAgent(bin, "stop", o).code, 0, `round ${i}: stop after a kill at ${ms2} ms converges`);
      t.equal(runAgent(bin, "monitor", o).code, 7, `round ${i}: probe agrees (stopped)`);
      t.notOk(sys.present(), `round ${i}: really gone`);
      if (t.counts.fail > before) c.failures++;
    }
  });
}

t.test("IPaddr2: 24 addresses on one NIC started, monitored and stopped in parallel", async (t) => {
  const prof = profiles.find((p) => p.agent === "IPaddr2")!;
  const sys = prof.system!(40);
  t.teardown(() => sys.teardown());
  const bin = agentPath("IPaddr2");
  const ips = Array.from({ length: 24 }, (_, i) => `10.246.0.${100 + i}`);
  const run = (action: string, ip: string, interval = 0) =>
    new Promise<number>((resolve) => {
      const argv = [...sys.wrap!, bin, action];
      const p = spawn(argv[0]!, argv.slice(1), { env: ocfEnv("IPaddr2", { params: { ip, arp_count: "1" }, env: sys.env, instance: `vip${ip}`, meta: { timeout: 20000, interval } }), stdio: "ignore" });
      p.on("exit", (code) => resolve(code ?? 128));
    });
  const started = await Promise.all(ips.map((ip) => run("start", ip)));
  t.same(started, ips.map(() => 0), "every start succeeded");
  const addrs = runAgent("/bin/ip", "-o", { args: ["-4", "addr", "show"], wrap: sys.wrap }).stdout;
  for (const ip of ips) t.equal(addrs.split(`inet ${ip}/`).length - 1, 1, `${ip} configured exactly once`);
  t.same(await Promise.all(ips.map((ip) => run("monitor", ip, 10000))), ips.map(() => 0), "every monitor 0");
  t.same(await Promise.all(ips.map((ip) => run("stop", ip))), ips.map(() => 0), "every stop 0");
  const after = runAgent("/bin/ip", "-o", { args: ["-4", "addr", "show"], wrap: sys.wrap }).stdout;
  for (const ip of ips) t.notOk(after.includes(`inet ${ip}/`), `${ip} gone`);
  counts["IPaddr2 concurrency"] = { cases: ips.length * 3, failures: t.counts.fail };
});

t.teardown(() => {
  console.log(`# reliability/crash+concurrency: ${Object.entries(counts).map(([a, c]) => `${a}: ${c.cases} cases, ${c.failures} failures`).join("; ")}`);
});
