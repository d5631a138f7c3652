// drbd: ours vs ocf:linbit:drbd on the same simulated DRBD 9 state, in one run.
//
// Setup: the DRBD simulator (test/fakes/drbd.ts) brings up r0 on two nodes, alpha Primary and
// beta Secondary, connected and UpToDate. Then the tools are frozen: drbdsetup and drbdadm are
// replaced by /bin/sh scripts that print the simulator's recorded output with shell builtins, so
// both agents pay what a C drbdsetup costs (~1 ms) instead of the simulator's own start-up.
// crm_attribute is a fake (a shell script writing a file) for both sides; upstream reaches it
// through the real crm_master wrapper, as in production. The upstream agent is run from a copy
// whose only change is the path of /proc/drbd (the simulator's), as this kernel has no DRBD.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, TMP, compare, ocfEnv, once, save, type Cmd, type Row } from "./lib.js";
import { makeSim } from "../test/drbd/sim.js";

const OURS = join(ROOT, "build/agents/drbd");
const sim = makeSim({ prefix: "drbdbench", minor: 40 });
const adm = (n: string, ...a: string[]) => sim.tool(n, "drbdadm", ["-c", sim.conf, ...a]);
for (const n of ["alpha", "beta"]) adm(n, "up", "r0");
adm("alpha", "primary", "r0");

// The upstream agent and its shell functions, /proc/drbd pointed at the simulator.
const up = join(TMP, "linbit");
rmSync(up, { recursive: true, force: true });
mkdirSync(up, { recursive: true });
const UP = join(up, "drbd");
writeFileSync(UP, readFileSync("/usr/lib/ocf/resource.d/linbit/drbd", "utf8").replace("test -f /proc/drbd", 'test -f "$TSSTOR_PROC_ROOT/drbd"'));
chmodSync(UP, 0o755);
copyFileSync("/usr/lib/ocf/resource.d/linbit/drbd.shellfuncs.sh", join(up, "drbd.shellfuncs.sh"));

/** A /bin/sh replay of the simulator's answers to the given argument lists, as `node`. */
function replayBin(node: string): string {
  const dir = join(sim.dir, `replay-${node}`);
  mkdirSync(dir, { recursive: true });
  const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const tool = (name: string, calls: string[][]) => {
    const cases = calls.map((a) => {
      const r = sim.tool(node, name, a);
      const lines = r.stdout.replace(/\n$/, "").split("\n");
      return `  ${q(a.join(" "))}) printf '%s\\n' ${lines.map(q).join(" ")}; exit ${r.code} ;;`;
    });
    writeFileSync(join(dir, name), `#!/bin/sh\ncase "$*" in\n${cases.join("\n")}\nesac\necho "replay ${name}: unexpected $*" >&2\nexit 20\n`);
    chmodSync(join(dir, name), 0o755);
  };
  tool("drbdsetup", [["events2", "--now", "r0"]]);
  tool("drbdadm", [["--version"], ["-c", sim.conf, "sh-dev", "r0"]]);
  copyFileSync(join(sim.bin, "crm_attribute"), join(dir, "crm_attribute"));
  chmodSync(join(dir, "crm_attribute"), 0o755);
  return dir;
}

const bins = { alpha: replayBin("alpha"), beta: replayBin("beta") };
const CLONE = { OCF_RESKEY_CRM_meta_clone_max: "2", OCF_RESKEY_CRM_meta_clone_node_max: "1", OCF_RESKEY_CRM_meta_master_max: "1", OCF_RESKEY_CRM_meta_promoted_max: "1", OCF_RESKEY_CRM_meta_master_node_max: "1", OCF_RESKEY_CRM_meta_promoted_node_max: "1", OCF_RESKEY_CRM_meta_notify: "true" };

function cmd(bin: string, node: "alpha" | "beta", action: string, extra: Record<string, string> = {}): Cmd {
  const env = sim.env(node);
  return {
    argv: [bin, action],
    env: ocfEnv("drbd", { drbd_resource: "r0", drbdconf: sim.conf }, { ...CLONE, PATH: `${bins[node]}:/usr/sbin:/usr/bin:/sbin:/bin`, TSSTOR_PROC_ROOT: env.TSSTOR_PROC_ROOT!, HA_RSCTMP: env.HA_RSCTMP!, OCF_RESKEY_CRM_meta_on_node: node, ...extra }),
  };
}

/**
 * Programs one action executes in steady state: the action runs once to settle (score written,
 * cache filled), then `n` more times under the same parent, counted with strace after a marker.
 */
function procsPerAction(c: Cmd, n = 5): number {
  const out = join(TMP, `strace-drbd-${process.pid}.txt`);
  const shq = (x: string) => `'${x.replace(/'/g, "'\\''")}'`;
  const one = ["env", "-i", ...Object.entries(c.env).map(([k, v]) => `${k}=${v}`), ...c.argv].map(shq).join(" ");
  const script = `${one} >/dev/null 2>&1; /bin/true MARK; ${Array(n).fill(`${one} >/dev/null 2>&1`).join("; ")}`;
  spawnSync("strace", ["-f", "-qq", "-e", "trace=execve", "-e", "signal=none", "-o", out, "/bin/sh", "-c", script]);
  const lines = readFileSync(out, "utf8").split("\n").filter((l) => /execve\(/.test(l) && !/= -1 /.test(l));
  rmSync(out, { force: true });
  const after = lines.slice(lines.findIndex((l) => l.includes("MARK")) + 1);
  // minus env and the agent itself, per run
  return (after.length - 2 * n) / n;
}

try {
  const rows: Row[] = [];
  const both = (action: string, scenario: string, node: "alpha" | "beta", extra: Record<string, string>, goal?: number) => {
    // One untimed run first, so the score (and our cache of it) is settled for both.
    once(cmd(UP, node, action, extra));
    once(cmd(OURS, node, action, extra));
    const row = compare("drbd", action, scenario, cmd(UP, node, action, extra), cmd(OURS, node, action, extra), { goal, runs: 40, warmup: 5 });
    row.upstream!.processes = procsPerAction(cmd(UP, node, action, extra));
    row.ours.processes = procsPerAction(cmd(OURS, node, action, extra));
    console.log(`  steady-state processes per ${action}: upstream ${row.upstream!.processes}, ours ${row.ours.processes}`);
    rows.push(row);
  };
  rows.push(compare("drbd", "meta-data", "", { argv: [UP, "meta-data"], env: ocfEnv("drbd", {}) }, { argv: [OURS, "meta-data"], env: ocfEnv("drbd", {}) }, { goal: 1, runs: 40, warmup: 5 }));
  both("monitor", "Promoted (Primary, peer UpToDate)", "alpha", { OCF_RESKEY_CRM_meta_interval: "10000" }, 0.3);
  both("monitor", "Unpromoted (Secondary, peer UpToDate)", "beta", { OCF_RESKEY_CRM_meta_interval: "20000" }, 0.3);
  both("validate-all", "level 0", "beta", {});
  save("drbd", rows, [
    "DRBD 9 simulator state frozen into /bin/sh replays of drbdsetup/drbdadm (printf builtins, ~1 ms like C drbd-utils); fake crm_attribute for both sides.",
    "Upstream ocf:linbit:drbd run from a copy whose only change is the /proc/drbd path (this kernel has no DRBD).",
    "Processes: steady state, counted with strace over 5 runs under one parent after a settling run (upstream: crm_master -> crm_attribute on every monitor; ours: drbdsetup only, the unchanged score is not re-written).",
  ]);
} finally {
  rmSync(up, { recursive: true, force: true });
  for (const n of ["alpha", "beta"]) adm(n, "down", "r0");
}
