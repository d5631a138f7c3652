// Where ocf:linbit:drbd (drbd-utils 9.22) and ours deliberately differ, shown on the upstream
// agent itself: each case runs the upstream code and ours on the same input.
import t from "tap";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseLocate } from "../../lib/cluster/crm-resource.js";
import { agentPath, runAgent, scratchDir } from "../lib/harness.js";
import { makeSim } from "./sim.js";

const sh = (cmd: string, args: string[], env: Record<string, string> = {}) => spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env } });

t.test("Pacemaker 2.1 says 'Promoted' in crm_resource --locate; upstream only looks for 'Master'", async (t) => {
  // A real scheduler run on a CIB file: a promotable clone Promoted on n1.
  const dir = scratchDir("drbdlocate");
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cib = join(dir, "cib.xml");
  t.equal(sh("bash", ["-c", `cibadmin --empty > ${cib}`]).status, 0);
  for (const a of [["property", "set", "stonith-enabled=false"], ["property", "set", "no-quorum-policy=ignore"], ["resource", "create", "st", "ocf:pacemaker:Stateful", "promotable", "notify=true"]]) {
    t.equal(sh("pcs", ["-f", cib, ...a]).status, 0);
  }
  const o1 = join(dir, "o1.xml");
  const o2 = join(dir, "o2.xml");
  sh("crm_simulate", ["-x", cib, "-S", "-O", o1, "--node-up", "n1", "--node-up", "n2"]);
  t.equal(sh("crm_attribute", ["-N", "n1", "-n", "master-st", "-v", "10", "-l", "reboot"], { CIB_file: o1 }).status, 0);
  sh("crm_simulate", ["-x", o1, "-S", "-O", o2]);
  const loc = sh("crm_resource", ["--resource", "st", "--locate"], { CIB_file: o2 });
  t.match(loc.stdout, /resource st is running on: n1 Promoted\n/);
  t.same(parseLocate(loc.stdout).filter((l) => l.promoted), [{ node: "n1", promoted: true }], "ours finds the Promoted instance");
  const up = sh(join(import.meta.dirname, "upstream-locate.sh"), [], { CIB_file: o2, HOSTNAME: "n2", OCF_RESOURCE_INSTANCE: "st" });
  t.equal(up.stdout.trim(), "[]", "upstream finds none: remove_master_score_if_peer_primary=unexpected and fail_promote_early_if_peer_primary misfire");
});

t.test("monitor with the drbd module not loaded: upstream sets promotion score 9999, ours deletes it", async (t) => {
  const sim = makeSim({ unloaded: true, prefix: "drbdup" });
  const up = join(sim.dir, "linbit");
  mkdirSync(up);
  // the only change: /proc/drbd read from the simulator
  writeFileSync(join(up, "drbd"), readFileSync("/usr/lib/ocf/resource.d/linbit/drbd", "utf8").replace("test -f /proc/drbd", 'test -f "$TSSTOR_PROC_ROOT/drbd"'));
  chmodSync(join(up, "drbd"), 0o755);
  copyFileSync("/usr/lib/ocf/resource.d/linbit/drbd.shellfuncs.sh", join(up, "drbd.shellfuncs.sh"));
  // the module exists on disk (modinfo) but is not loaded
  writeFileSync(join(sim.bin, "modinfo"), "#!/bin/sh\necho 9.2.12\n");
  chmodSync(join(sim.bin, "modinfo"), 0o755);
  const o = { params: { drbd_resource: "r0", drbdconf: sim.conf }, meta: { interval: 20000, timeout: 20000 }, env: sim.env("alpha"), instance: "p_drbd" };
  const u = runAgent(join(up, "drbd"), "monitor", o);
  t.equal(u.code, 7, "upstream: not running");
  t.equal(sim.score("local"), 9999, "upstream (via crm_master): 9999, from unset status variables read as true");
  const ours = runAgent(agentPath("drbd"), "monitor", { ...o, meta: { ...o.meta, on_node: "alpha" } });
  t.equal(ours.code, 7);
  t.equal(sim.score("alpha"), undefined, "ours: no score");
  t.same(sim.crmCalls("alpha"), ["--promotion -D -N alpha"]);
});
