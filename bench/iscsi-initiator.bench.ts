// iscsi (the initiator): ours vs ocf:heartbeat:iscsi, side by side in one run.
//
// This kernel has no iSCSI initiator: both agents drive the fake iscsiadm (test/fakes/iscsiadm.ts)
// over the emulated sysfs, /dev and node database of test/iscsi/initiator-world.ts, one world per
// side, built alike (one target offered at two portals, one LUN), with the same environment.
// portal=127.0.0.1:3260 on both: upstream's discovery sees the target at both portals and then
// accepts only a portal spelled as discovery prints it ("127.0.0.1" fails: "can't handle
// multihomed hosts").
// udev=false on both: upstream's udev wait polls the real /dev/disk/by-path (`ls` in a loop, no
// timeout of its own), which the emulation cannot populate (the fake writes its by-path links
// under TSSTOR_DEV_ROOT), so upstream's start would loop until killed.
// Upstream greps `ps -e -o cmd` for iscsid: a `sleep` named iscsid (exec -a) stands in, killed by
// its PID at the end. Upstream must run as root (it exits 4 otherwise); OCF_ROOT=/usr/lib/ocf.
// iscsiadm calls per action are counted from the fake's argv log; the probe and monitor rows are
// repeated with a /bin/sh stand-in replaying the fake's answers (the real iscsiadm is a small C
// program, the fake a Bun-compiled one).
//
// Run as root: `npm run bench -- bench/iscsi-initiator.bench.ts`.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, compare, ocfEnv, once, save, time, type Cmd, type Measure, type Row } from "./lib.js";
import { InitiatorWorld, IQN } from "../test/iscsi/initiator-world.js";

const OURS = join(ROOT, "build/agents/iscsi");
const UP = "/usr/lib/ocf/resource.d/heartbeat/iscsi";
const FAKE = join(ROOT, "build/test/fakes/iscsiadm");
const PORTAL = "127.0.0.1:3260";
const targets = () => [{ iqn: IQN, tpgt: 1, portals: [PORTAL, "127.0.0.2:3260"], luns: [1] }];

if (process.getuid?.() !== 0) throw new Error("run as root: upstream's iscsi agent refuses other users");
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const loadBefore = load();
const W = { up: new InitiatorWorld("bench-up", targets()), ours: new InitiatorWorld("bench-ours", targets()) };
type Side = keyof typeof W;
const BIN: Record<Side, string> = { up: UP, ours: OURS };

// upstream's is_iscsid_running: ps -e -o cmd | grep -qs '[i]scsid'
const iscsid = spawn("bash", ["-c", "exec -a iscsid sleep 3600"], { stdio: "ignore", detached: true });
iscsid.unref();
for (let i = 0; i < 50 && !/\biscsid\b/.test(spawnSync("ps", ["-e", "-o", "cmd"], { encoding: "utf8" }).stdout); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);

try {
  const rows: Row[] = [];
  const params = { portal: PORTAL, target: IQN, udev: "false" };
  const rec = { OCF_RESKEY_CRM_meta_interval: "10000" };
  const cmd = (who: Side, action: string, extra: Record<string, string> = {}): Cmd => ({
    argv: [BIN[who], action],
    env: ocfEnv("iscsi", params, W[who].env(extra)),
  });
  /** Back to "never started here": no session, no node record (the next start discovers). */
  const fresh = (who: Side): Cmd => ({
    argv: ["sh", "-c", '"$0" stop >/dev/null 2>&1; rm -rf "$1/nodes"', BIN[who], W[who].db],
    env: ocfEnv("iscsi", params, W[who].env()),
  });
  const fakeCalls = (who: Side) => (existsSync(W[who].log) ? readFileSync(W[who].log, "utf8").split("\n").filter(Boolean).length : 0);

  // ---- iscsiadm calls per action (and a check that every action does what the rows assume) ----
  const calls: Array<Record<string, unknown>> = [];
  for (const who of ["up", "ours"] as const) {
    const row: Record<string, unknown> = { who };
    for (const [label, action, extra, want] of [
      ["probe", "monitor", {}, 7],
      ["start (discovery + login)", "start", {}, 0],
      ["monitor", "monitor", rec, 0],
      ["stop", "stop", {}, 0],
    ] as const) {
      const before = fakeCalls(who);
      const code = once(cmd(who, action, extra));
      if (code !== want) throw new Error(`${who} ${label}: exit ${code}, expected ${want}`);
      row[label] = fakeCalls(who) - before;
    }
    once(fresh(who));
    calls.push(row);
  }
  for (const r of calls) console.log(`iscsiadm calls (${r.who}): ${JSON.stringify(r)}`);

  /** Upstream's and ours measured one after the other, each in its own world (prepare per side). */
  const sided = (action: string, scenario: string, goal: number, prepare: (who: Side) => Cmd, runs = 15) => {
    const m = (who: Side) => compare("iscsi", action, scenario, undefined, cmd(who, action), { prepare: prepare(who), runs, warmup: 2 }).ours;
    const upstream = m("up");
    const ours = m("ours");
    const row: Row = { agent: "iscsi", action, scenario, upstream, ours, ratio: Math.round((ours.median_ms / upstream.median_ms) * 1000) / 1000, goal };
    console.log(`iscsi ${action} [${scenario}]: ${upstream.median_ms} -> ${ours.median_ms} ms, ratio ${row.ratio}`);
    rows.push(row);
  };

  /**
   * A directory holding an `iscsiadm` /bin/sh script that answers each of `argvs` as the fake
   * does in `who`'s world right now (stdout, stderr, exit code): what a read-only action costs
   * with a C iscsiadm rather than a Bun-compiled fake.
   */
  const sq = (x: string) => `'${x.replace(/'/g, "'\\''")}'`;
  const standIn = (name: string, who: Side, argvs: string[][]): string => {
    const dir = join(W[who].dir, `standin-${name}`);
    mkdirSync(dir, { recursive: true });
    const cases = argvs.map((a) => {
      const r = spawnSync(FAKE, a, { encoding: "utf8", env: { ...W[who].env(), TSSTOR_FAKE_LOG: "" } });
      // printf is a builtin: the stand-in is one process, as the C iscsiadm is
      return `${JSON.stringify(a.join(" "))})\n  printf %s ${sq(r.stdout)}\n  printf %s ${sq(r.stderr)} >&2\n  exit ${r.status};;`;
    });
    writeFileSync(join(dir, "iscsiadm"), `#!/bin/sh\ncase "$*" in\n${cases.join("\n")}\n*) echo "stand-in iscsiadm: unexpected $*" >&2; exit 99;;\nesac\n`, { mode: 0o755 });
    return dir;
  };
  const withPath = (c: Cmd, dir: string): Cmd => ({ ...c, env: { ...c.env, PATH: `${dir}:${c.env.PATH}` } });

  // ---- probe: no session, no node record ----------------------------------------------------
  rows.push(compare("iscsi", "monitor", "probe, no session", cmd("up", "monitor"), cmd("ours", "monitor"), { goal: 0.3 }));
  const probeSh = standIn("probe", "up", [["-m", "session"], ["-m", "node", "-p", PORTAL, "-T", IQN]]);
  rows.push(compare("iscsi", "monitor", "probe, no session, sh stand-in for iscsiadm", withPath(cmd("up", "monitor"), probeSh), withPath(cmd("ours", "monitor"), probeSh), { goal: 0.3 }));

  // ---- recurring monitor, logged in ---------------------------------------------------------
  for (const who of ["up", "ours"] as const) if (once(cmd(who, "start")) !== 0) throw new Error(`${who} start failed`);
  const sid = W.up.sessionOf(PORTAL);
  if (sid !== W.ours.sessionOf(PORTAL)) throw new Error("the two worlds' sessions differ");
  rows.push(compare("iscsi", "monitor", "recurring, logged in", cmd("up", "monitor", rec), cmd("ours", "monitor", rec), { goal: 0.3 }));
  const monSh = standIn("monitor", "up", [["-m", "session"], ["-m", "session", "-r", String(sid), "-P", "1"]]);
  rows.push(compare("iscsi", "monitor", "recurring, logged in, sh stand-in for iscsiadm", withPath(cmd("up", "monitor", rec), monSh), withPath(cmd("ours", "monitor", rec), monSh), { goal: 0.3 }));

  // ---- start (discovery + login) and stop (logout), each side cycled in its own world ----------
  sided("start", "discovery + login, udev=false", 0.5, fresh);
  sided("stop", "logout", 0.5, (who) => cmd(who, "start"));

  // what one call of the fake costs, and of the stand-in (logged-out state: "No active sessions.")
  const one = (argv: string[], env: Record<string, string>): Measure => time({ argv, env }, { runs: 20 });
  const fakeCost = one([FAKE, "-m", "session"], W.up.env());
  const shCost = one([join(probeSh, "iscsiadm"), "-m", "session"], W.up.env());
  console.log(`one fake iscsiadm call: ${fakeCost.median_ms} ms median; sh stand-in: ${shCost.median_ms} ms`);

  const cpu = (m?: Measure) => (m?.user_ms !== undefined && m.sys_ms !== undefined ? Math.round((m.user_ms + m.sys_ms) * 100) / 100 : undefined);
  const cpuLine = rows.map((r) => `${r.action} [${r.scenario}] ${cpu(r.upstream)} / ${cpu(r.ours)}`).join("; ");
  save("iscsi-initiator", rows, [
    "ocf:heartbeat:iscsi vs ocf:tsstor:iscsi on the fake iscsiadm (open-iscsi 2.1.8) over the emulated sysfs, /dev and node database of test/iscsi/initiator-world.ts (this kernel has no iSCSI initiator); one world per side, alike: one target at two portals, one LUN; portal=127.0.0.1:3260 (upstream needs the port when discovery finds several portals).",
    "udev=false on both: upstream's udev wait polls the real /dev/disk/by-path, which the emulation cannot populate (upstream's start would loop until killed); ours with udev=false still waits for the LUN's block device.",
    "iscsid: a sleep named iscsid for upstream's `ps -e -o cmd | grep [i]scsid`; both agents run as root.",
    `One call of the fake iscsiadm (Bun-compiled) costs ${fakeCost.median_ms} ms median here, the /bin/sh stand-in ${shCost.median_ms} ms; the real iscsiadm is a small C program. The stand-in rows replay the fake's answers for the calls upstream makes there (ours makes none).`,
    `iscsiadm calls per action (fake's argv log): ${JSON.stringify(calls)}`,
    "Peak RSS is the largest process of the action's tree: with the fake, that is often the Bun-compiled iscsiadm (about as large as our agent), on both sides; the sh stand-in rows show upstream's own shell.",
    "start: each run from no session and no node record (prepare: the side's own stop, then the records removed), so both discover; stop: prepare is the side's own start (a login on the existing record).",
    `CPU per action, user + system ms (hyperfine means), upstream / ours: ${cpuLine}.`,
    `Load average (1, 5, 15 min) before the run ${loadBefore}, after it ${load()} (the bench itself keeps about one of the 2 cores busy; other work skews wall times, CPU times less).`,
  ]);
} finally {
  try {
    process.kill(iscsid.pid!, "SIGTERM");
  } catch {
    /* gone */
  }
  for (const w of Object.values(W)) w.destroy();
}
