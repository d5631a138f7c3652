// Differential: the same scenarios on ocf:heartbeat:Filesystem (resource-agents 4.12 as installed,
// or 4.16 with TSSTOR_UPSTREAM=4.16: test/lib/upstream.ts) and on ours, each on its own real loop
// device. Exit codes must agree except for the deliberate differences below, each listed by name
// with both sides' observed behaviour; one that upstream fixed in a later release (`fixedIn`) is
// asserted as "the same" when that release is the one compared with.
// 4.16 runs here with this machine's tools: its mounts must be seen by this test, and a chroot's
// private mount namespace would take them with it.
import t from "tap";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { agentPath, runAgent, type AgentRun, type RunOpts } from "../lib/harness.js";
import { upstream, type ByVersion } from "../lib/upstream.js";
import { PATH, Scratch, isMounted, mountsUnder, must, processExists, until } from "./lib.js";

const UPSTREAM = upstream.here("Filesystem");
const OURS = { bin: agentPath("Filesystem"), env: {} };
t.comment(upstream.describe("ocf:heartbeat:Filesystem", "here"));
const s = new Scratch(t, "diff");
const host = readFileSync("/proc/sys/kernel/hostname", "utf8").trim();

type Side = "upstream" | "ours";
const agentOf = (side: Side) => (side === "upstream" ? UPSTREAM : OURS);

/**
 * The deliberate differences: name -> what each side does (checked below, scenario by scenario);
 * `fixedIn`: the resource-agents release from which upstream does what ours does.
 */
export const DIFFERENCES: Record<string, { upstream: string; ours: string; fixedIn?: string }> = {
  "foreign-device-probe": { upstream: "4.12: 0, only the mount point is compared, a foreign device counts as running", ours: "7: the device is compared after canonicalising both sides", fixedIn: "4.15" },
  "foreign-device-monitor": { upstream: "4.12: 0; 4.15 on: 6, banned on every node", ours: "1: a local fault, recovered by Pacemaker" },
  "foreign-device-start": { upstream: "4.12: 0, 'already mounted'; 4.15 on: 6, banned on every node", ours: "1: another device is mounted there" },
  "foreign-device-stop": { upstream: "4.12: 0 and unmounts the foreign device", ours: "0 and leaves it mounted (never unmount what is not ours)", fixedIn: "4.15" },
  "double-start-with-submount": { upstream: "6: refuses because something is mounted below its own running mount", ours: "0: already running" },
  "mounted-below-start": { upstream: "6 (banned on every node for a node-local leftover)", ours: "1: refused on this node only" },
  "status-file-leak": { upstream: "stop leaves the depth-20 status file (Pacemaker never passes OCF_CHECK_LEVEL to stop)", ours: "stop removes it whatever the depth" },
  "stop-budget-per-submount": { upstream: "each busy submount gets the whole stop timeout again (3 mounts: ~3x the timeout)", ours: "one budget for all, returns 1 inside the timeout naming the pids" },
  "root-directory-probe": { upstream: "4.12: 0, / is always 'mounted'", ours: "7: / cannot be managed", fixedIn: "4.15" },
  "fstype-required": { upstream: "start without fstype mounts (autodetect) despite required=1", ours: "6: required parameter missing" },
};

function runOn(side: Side, action: string, params: Record<string, string>, o: RunOpts = {}): AgentRun {
  const a = agentOf(side);
  return runAgent(a.bin, action, {
    instance: `d${side[0]}`,
    ...o,
    meta: { timeout: 20000, ...o.meta },
    params,
    env: { HA_RSCTMP: s.mkdir(`rsctmp-${side}`), PATH, ...a.env, ...o.env },
  });
}
const recurring = { meta: { interval: 20000, timeout: 20000 } };
const level = (n: number) => ({ env: { OCF_CHECK_LEVEL: String(n) }, ...recurring });

let n = 0;
function fresh(side: Side, fstype: "ext4" | "xfs" = "ext4") {
  const name = `${side}-${n++}`;
  const dev = s.loop(name, fstype);
  return { dev, dir: s.path(name, "mnt"), name };
}

/** Same codes on both sides, step by step. */
async function same(t: Sub, title: string, steps: (side: Side) => number[]) {
  await t.test(title, async (t) => {
    const u = steps("upstream");
    const o = steps("ours");
    t.same(o, u, `exit codes: upstream ${u.join(",")} / ours ${o.join(",")}`);
  });
}
type Sub = Pick<typeof t, "test">;

t.test("same behaviour", async (t) => {
  await same(t, "lifecycle with depth 10 and 20", (side) => {
    const { dev, dir } = fresh(side);
    const p = { device: dev, directory: dir, fstype: "ext4" };
    return [
      runOn(side, "monitor", p).code,
      runOn(side, "start", p).code,
      runOn(side, "monitor", p, recurring).code,
      runOn(side, "start", p).code,
      runOn(side, "monitor", p, level(10)).code,
      runOn(side, "monitor", p, level(20)).code,
      runOn(side, "stop", p).code,
      runOn(side, "stop", p).code,
      runOn(side, "monitor", p).code,
    ];
  });
  await same(t, "xfs, read-only remount: depth 0 and 10 pass, depth 20 fails", (side) => {
    const { dev, dir } = fresh(side, "xfs");
    const p = { device: dev, directory: dir, fstype: "xfs" };
    const out = [runOn(side, "start", p).code];
    must("mount", ["-o", "remount,ro", dir]);
    out.push(runOn(side, "monitor", p, recurring).code, runOn(side, "monitor", p, level(10)).code, runOn(side, "monitor", p, level(20)).code, runOn(side, "stop", p).code);
    return out;
  });
  await same(t, "clone of ext4 without force_clones: 6; with it: 0", (side) => {
    const { dev, dir } = fresh(side);
    const p = { device: dev, directory: dir, fstype: "ext4" };
    const meta = { clone: 0, clone_max: 2, timeout: 20000 };
    return [runOn(side, "start", p, { meta }).code, runOn(side, "start", { ...p, force_clones: "true" }, { meta }).code, runOn(side, "stop", p, { meta }).code];
  });
  await same(t, "device missing: 5; filesystem type unknown to the kernel: 5", (side) => {
    const { dir } = fresh(side);
    return [
      runOn(side, "start", { device: s.path("no-such-dev"), directory: dir, fstype: "ext4" }, { meta: { timeout: 3000 } }).code,
      runOn(side, "start", { device: s.path("no-such-dev"), directory: dir, fstype: "tsfnosuchfs" }, { meta: { timeout: 3000 } }).code,
    ];
  });
  await same(t, "-U UUID: start, depth 10, stop", (side) => {
    const { dev, dir } = fresh(side);
    const uuid = must("blkid", ["-s", "UUID", "-o", "value", dev]).trim();
    const p = { device: `-U ${uuid}`, directory: dir, fstype: "ext4" };
    return [runOn(side, "start", p).code, runOn(side, "monitor", p, level(10)).code, runOn(side, "stop", p).code, runOn(side, "monitor", p).code];
  });
  await same(t, "bind mount: start, monitor, stop", (side) => {
    const src = s.mkdir(`bindsrc-${side}`);
    const dir = s.path(`bind-${side}`);
    const p = { device: src, directory: dir, fstype: "none", options: "bind" };
    return [runOn(side, "start", p).code, runOn(side, "monitor", p, recurring).code, runOn(side, "stop", p).code, Number(isMounted(dir))];
  });
  await t.test("a process holding the mount: both signal it and unmount", async (t) => {
    for (const side of ["upstream", "ours"] as const) {
      const { dev, dir } = fresh(side);
      const p = { device: dev, directory: dir, fstype: "ext4" };
      t.equal(runOn(side, "start", p).code, 0);
      const c = s.spawn("exec sleep 1000", dir);
      await until(() => processExists(c.pid!));
      const r = runOn(side, "stop", p);
      t.equal(r.code, 0, `${side}: ${r.reason ?? ""}`);
      t.notOk(isMounted(dir), `${side}: unmounted`);
      t.ok(await until(() => !processExists(c.pid!)), `${side}: holder gone`);
    }
  });
});

t.test("deliberate differences", async (t) => {
  const check = <T,>(name: string, u: T, o: T, wantU: ByVersion<T>, wantO: T) => {
    const d = DIFFERENCES[name];
    t.ok(d, `${name} is listed`);
    if (upstream.fixed(d?.fixedIn)) t.same({ upstream: u, ours: o }, { upstream: wantO, ours: wantO }, `${name}: the same since resource-agents ${d!.fixedIn} (ours ${d!.ours})`);
    else t.same({ upstream: u, ours: o }, { upstream: upstream.pick(wantU), ours: wantO }, `${name}: upstream ${d!.upstream} | ours ${d!.ours}`);
  };

  // A foreign device mounted on the mount point.
  const foreign: Record<Side, { probe: number; monitor: number; start: number; stop: number; stillMounted: boolean }> = {} as never;
  for (const side of ["upstream", "ours"] as const) {
    const mine = fresh(side);
    const other = fresh(side);
    s.mkdir(mine.name, "mnt");
    must("mount", [other.dev, mine.dir]);
    const p = { device: mine.dev, directory: mine.dir, fstype: "ext4" };
    foreign[side] = {
      probe: runOn(side, "monitor", p).code,
      monitor: runOn(side, "monitor", p, recurring).code,
      start: runOn(side, "start", p).code,
      stop: runOn(side, "stop", p).code,
      stillMounted: mountsUnder(mine.dir).some((m) => m.source === other.dev),
    };
    if (isMounted(mine.dir)) must("umount", [mine.dir]);
  }
  check("foreign-device-probe", foreign.upstream.probe, foreign.ours.probe, 0, 7);
  check("foreign-device-monitor", foreign.upstream.monitor, foreign.ours.monitor, { "4.12": 0, "4.16": 6 }, 1);
  check("foreign-device-start", foreign.upstream.start, foreign.ours.start, { "4.12": 0, "4.16": 6 }, 1);
  check("foreign-device-stop", [foreign.upstream.stop, foreign.upstream.stillMounted], [foreign.ours.stop, foreign.ours.stillMounted], [0, false], [0, true]);

  // Something mounted below: under our own running mount (double start), and before start.
  const below: Record<Side, { doubleStart: number; belowStart: number }> = {} as never;
  for (const side of ["upstream", "ours"] as const) {
    const a = fresh(side);
    const p = { device: a.dev, directory: a.dir, fstype: "ext4" };
    runOn(side, "start", p);
    s.mkdir(a.name, "mnt", "sub");
    must("mount", ["-t", "tmpfs", "-o", "size=1m", "tsf-sub", `${a.dir}/sub`]);
    const doubleStart = runOn(side, "start", p).code;
    runOn(side, "stop", p);
    const b = fresh(side);
    s.mkdir(b.name, "mnt", "sub");
    must("mount", ["-t", "tmpfs", "-o", "size=1m", "tsf-sub", `${b.dir}/sub`]);
    const belowStart = runOn(side, "start", { device: b.dev, directory: b.dir, fstype: "ext4" }).code;
    must("umount", [`${b.dir}/sub`]);
    below[side] = { doubleStart, belowStart };
  }
  check("double-start-with-submount", below.upstream.doubleStart, below.ours.doubleStart, 6, 0);
  check("mounted-below-start", below.upstream.belowStart, below.ours.belowStart, 6, 1);

  // The depth-20 status file after a stop as Pacemaker runs it (no OCF_CHECK_LEVEL).
  const leak: Record<Side, string[]> = {} as never;
  for (const side of ["upstream", "ours"] as const) {
    const { dev, dir, name } = fresh(side);
    const p = { device: dev, directory: dir, fstype: "ext4" };
    runOn(side, "start", p);
    runOn(side, "monitor", p, level(20));
    runOn(side, "stop", p);
    const peek = s.mkdir(`${name}-peek`);
    must("mount", [dev, peek]);
    leak[side] = existsSync(`${peek}/.Filesystem_status`) ? readdirSync(`${peek}/.Filesystem_status`) : [];
    must("umount", [peek]);
  }
  check("status-file-leak", leak.upstream, leak.ours, [`du_${host}`], []);

  // Three busy mounts (a submount, a bind mount, ours), holders never signalled
  // (force_unmount=false), a 3 s stop timeout.
  const budget: Record<Side, { code: number; withinTimeout: boolean }> = {} as never;
  for (const side of ["upstream", "ours"] as const) {
    const { dev, dir, name } = fresh(side);
    const sub = s.loop(`${name}-sub`, "ext4");
    const p = { device: dev, directory: dir, fstype: "ext4", force_unmount: "false" };
    runOn(side, "start", p);
    s.mkdir(name, "mnt", "sub");
    must("mount", [sub, `${dir}/sub`]);
    s.mkdir(name, "mnt", "data");
    const bind = s.mkdir(`${name}-bind`);
    must("mount", ["--bind", `${dir}/data`, bind]);
    const holders = [`${dir}/sub`, bind, dir].map((d) => s.spawn("exec sleep 1000", d));
    await until(() => holders.every((c) => processExists(c.pid!)));
    const r = runOn(side, "stop", p, { meta: { timeout: 3000 } });
    budget[side] = { code: r.code, withinTimeout: r.ms < 3000 };
    t.comment(`${side}: stop with 3 busy mounts and a 3 s timeout took ${r.ms.toFixed(0)} ms, rc ${r.code}: ${r.reason ?? ""}`);
    for (const c of holders) process.kill(-c.pid!, "SIGKILL");
    await until(() => holders.every((c) => !processExists(c.pid!)));
    for (const m of [bind, `${dir}/sub`, dir]) if (isMounted(m)) must("umount", [m]);
  }
  check("stop-budget-per-submount", budget.upstream, budget.ours, { code: 1, withinTimeout: false }, { code: 1, withinTimeout: true });

  // A probe of "/" (only the probe: upstream's stop of / would unmount everything below it).
  const root = { device: "/dev/tsf-none", directory: "/", fstype: "ext4" };
  check("root-directory-probe", runOn("upstream", "monitor", root).code, runOn("ours", "monitor", root).code, 0, 7);

  // fstype left out although the metadata says required.
  const ft: Record<Side, number> = {} as never;
  for (const side of ["upstream", "ours"] as const) {
    const { dev, dir } = fresh(side);
    ft[side] = runOn(side, "start", { device: dev, directory: dir }).code;
    if (isMounted(dir)) runOn(side, "stop", { device: dev, directory: dir, fstype: "ext4" });
  }
  check("fstype-required", ft.upstream, ft.ours, 0, 6);
  t.equal(Object.keys(DIFFERENCES).length, 10, "every listed difference was checked above");
});
