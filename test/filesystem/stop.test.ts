// stop with users: processes holding a cwd, an open file, a memory map, a child that ignores
// TERM; submounts and bind mounts under ONE budget; a budget that expires names the pids; and
// processes whose use is elsewhere (the original path of a bind mount, another mount namespace)
// are never signalled. Real ext4/xfs on loop devices; the holders are ordinary processes.
import t from "tap";
import { copyFileSync, writeFileSync } from "node:fs";
import { agentPath, runAgent, type RunOpts } from "../lib/harness.js";
import { PATH, Scratch, isMounted, must, processExists, sh, until } from "./lib.js";

const bin = agentPath("Filesystem");
const s = new Scratch(t, "stop");
const env = { HA_RSCTMP: s.mkdir("rsctmp"), PATH };

function run(action: string, params: Record<string, string>, o: RunOpts = {}) {
  return runAgent(bin, action, { instance: "busy", ...o, meta: { timeout: 20000, ...o.meta }, params, env: { ...env, ...o.env } });
}

/** A started filesystem on a fresh loop device. */
function started(name: string, fstype: "ext4" | "xfs" = "ext4", extra: Record<string, string> = {}) {
  const dev = s.loop(name, fstype);
  const dir = s.mkdir(name);
  const p = { device: dev, directory: dir, fstype, ...extra };
  const r = run("start", p);
  if (r.code !== 0) throw new Error(`start ${name}: ${r.stderr}`);
  return { dev, dir, p };
}

const pidsIn = (stderr: string, sig: string) => [...stderr.matchAll(new RegExp(`sent ${sig} to pid (\\d+)`, "g"))].map((m) => Number(m[1]));

t.test("a process holding its cwd: TERM, then unmounted", async (t) => {
  const { dir, p } = started("cwd", "xfs");
  const c = s.spawn("exec sleep 1000", dir);
  await until(() => processExists(c.pid!));
  const r = run("stop", p);
  t.equal(r.code, 0, r.stderr);
  t.notOk(isMounted(dir));
  t.same(pidsIn(r.stderr, "SIGTERM"), [c.pid], "exactly the holder got TERM");
  t.match(r.stderr, new RegExp(`pid ${c.pid} \\(sleep: cwd ${dir}\\)`), "the log says which use");
  t.notOk(await until(() => processExists(c.pid!), 100) && processExists(c.pid!), "it is gone");
});

t.test("an open file (cwd elsewhere)", async (t) => {
  const { dir, p } = started("openfile");
  writeFileSync(`${dir}/data`, "x");
  const c = s.spawn(`exec 3<'${dir}/data'; exec sleep 1000`, "/");
  await until(() => processExists(c.pid!));
  const r = run("stop", p);
  t.equal(r.code, 0, r.stderr);
  t.same(pidsIn(r.stderr, "SIGTERM"), [c.pid]);
  t.match(r.stderr, new RegExp(`\\(sleep: fd 3 ${dir}/data\\)`));
  t.notOk(isMounted(dir));
});

t.test("a memory map with no open file: a library preloaded from the mount", async (t) => {
  const { dir, p } = started("mmap");
  const lib = "/lib/x86_64-linux-gnu/libm.so.6";
  copyFileSync(lib, `${dir}/libtsf.so`);
  const c = s.spawn(`LD_PRELOAD='${dir}/libtsf.so' exec sleep 1000`, "/");
  await until(() => processExists(c.pid!));
  const r = run("stop", p);
  t.equal(r.code, 0, r.stderr);
  t.same(pidsIn(r.stderr, "SIGTERM"), [c.pid]);
  t.match(r.stderr, new RegExp(`\\(sleep: mmap ${dir}/libtsf.so\\)`), "found through /proc/PID/maps only");
  t.notOk(isMounted(dir));
});

t.test("a running executable on the mount", async (t) => {
  const { dir, p } = started("exe", "xfs");
  copyFileSync("/bin/sleep", `${dir}/tsf-sleeper`);
  const c = s.spawn(`exec '${dir}/tsf-sleeper' 1000`, "/");
  await until(() => processExists(c.pid!));
  const r = run("stop", p);
  t.equal(r.code, 0, r.stderr);
  t.same(pidsIn(r.stderr, "SIGTERM"), [c.pid]);
  t.match(r.stderr, /tsf-sleeper: exe .*mmap/);
});

t.test("a child that ignores TERM: the parent dies of TERM, the child of KILL", async (t) => {
  const { dir, p } = started("stubborn");
  const c = s.spawn(`sh -c 'trap "" TERM; exec sleep 1000' & wait`, dir);
  await until(() => processExists(c.pid!));
  const r = run("stop", p, { meta: { timeout: 6000 } });
  t.equal(r.code, 0, r.stderr);
  t.notOk(isMounted(dir));
  const termed = pidsIn(r.stderr, "SIGTERM");
  const killed = pidsIn(r.stderr, "SIGKILL");
  t.ok(termed.includes(c.pid!), "the parent got TERM");
  t.equal(killed.length, 1, "one process needed KILL");
  t.ok(termed.includes(killed[0]!), "the child had got TERM first, and ignored it");
  t.notOk(killed.includes(c.pid!), "the parent had died of TERM");
  t.ok(r.ms < 6000, `inside the 6 s timeout (${r.ms.toFixed(0)} ms)`);
});

t.test("a stop whose budget expires fails with the blocking pids", async (t) => {
  const { dir, p } = started("expire");
  const c = s.spawn(`trap "" TERM; cd '${dir}' && sleep 1000`, "/");
  await until(() => processExists(c.pid!));
  const r = run("stop", { ...p, kill_signals: "TERM", signal_delay: "0.2" }, { meta: { timeout: 3000 } });
  t.equal(r.code, 1);
  t.match(r.reason, new RegExp(`couldn't unmount ${dir} within 2\\.\\d s: still used by pids? .*${c.pid} \\(sh: cwd\\)`));
  t.ok(r.ms < 3000, `returned inside the 3 s timeout (${r.ms.toFixed(0)} ms)`);
  t.ok(isMounted(dir), "still mounted");
  t.ok(processExists(c.pid!), "the TERM-proof holder is alive");

  const f = run("stop", { ...p, force_unmount: "false" }, { meta: { timeout: 2000 } });
  t.equal(f.code, 1);
  t.match(f.reason, /still used by pids? .*\(sh: cwd\)/, "force_unmount=false: named, not signalled");
  t.notMatch(f.stderr, /sent SIG/);
  process.kill(-c.pid!, "SIGKILL");
  await until(() => !processExists(c.pid!));
  t.equal(run("stop", p).code, 0);
  t.notOk(isMounted(dir));
});

t.test("submounts and bind mounts come down first, under ONE budget", async (t) => {
  const { dev, dir, p } = started("tree");
  // a submount (another filesystem) and a bind mount of a directory of ours elsewhere
  const subDev = s.loop("tree-sub", "xfs");
  s.mkdir("tree", "sub");
  must("mount", [subDev, `${dir}/sub`]);
  s.mkdir("tree", "data");
  const bind = s.mkdir("tree-bind");
  must("mount", ["--bind", `${dir}/data`, bind]);
  writeFileSync(`${bind}/f`, "x");

  const inSub = s.spawn("exec sleep 1000", `${dir}/sub`);
  const inBind = s.spawn(`exec 4<'${bind}/f'; exec sleep 1000`, "/");
  const inRoot = s.spawn("exec sleep 1000", dir);
  await until(() => [inSub, inBind, inRoot].every((c) => processExists(c.pid!)));
  const r = run("stop", p);
  t.equal(r.code, 0, r.stderr);
  const order = [...r.stderr.matchAll(/unmounted (\S+)/g)].map((m) => m[1]);
  t.same(order, [bind, `${dir}/sub`, dir], "bind mount, submount, then ours");
  for (const m of [bind, `${dir}/sub`, dir]) t.notOk(isMounted(m));
  t.equal(sh("findmnt", ["-n", "-o", "TARGET", "--source", dev]).stdout.trim(), "", "the device is mounted nowhere");

  // Three busy mounts and TERM-proof holders: upstream gives each mount the whole timeout
  // (3 x 4 s); we must finish (and fail, naming them) inside the one 4 s timeout.
  const again = run("start", p);
  t.equal(again.code, 0);
  must("mount", [subDev, `${dir}/sub`]);
  must("mount", ["--bind", `${dir}/data`, bind]);
  const holders = [`${dir}/sub`, bind, dir].map((d) => s.spawn(`trap "" TERM; cd '${d}' && sleep 1000`, "/"));
  await until(() => holders.every((c) => processExists(c.pid!)));
  const slow = run("stop", { ...p, kill_signals: "TERM", signal_delay: "0.3" }, { meta: { timeout: 4000 } });
  t.equal(slow.code, 1);
  t.ok(slow.ms < 4000, `one budget for all of them: ${slow.ms.toFixed(0)} ms < 4000 ms`);
  t.match(slow.reason, /couldn't unmount .* still used by/);
  for (const c of holders) process.kill(-c.pid!, "SIGKILL");
  await until(() => holders.every((c) => !processExists(c.pid!)));
  t.equal(run("stop", p).code, 0);
  t.notOk(isMounted(dir));
});

t.test("never signal a process whose use is outside the mount", async (t) => {
  // The resource is a bind mount of a directory of a filesystem that stays mounted (#1304:
  // upstream's fuser -m matches by device and so names every user of the source filesystem).
  const dev = s.loop("outside", "ext4");
  const src = s.mkdir("outside-src");
  must("mount", [dev, src]);
  s.mkdir("outside-src", "data");
  const dir = s.path("outside-bind");
  const p = { device: `${src}/data`, directory: dir, fstype: "none", options: "bind" };
  t.equal(run("start", p).code, 0);

  const viaSource = s.spawn("exec sleep 1000", `${src}/data`); // same directory, through the source mount
  const viaSourceFile = s.spawn(`exec 3<'${src}/data'; exec sleep 1000`, "/");
  const viaBind = s.spawn("exec sleep 1000", dir);
  // another mount namespace with its own copy of the bind mount: does not block our umount
  const otherNs = s.spawn(`exec unshare -m --propagation private sh -c 'cd ${dir} && exec sleep 1000'`, "/");
  await until(() => [viaSource, viaSourceFile, viaBind, otherNs].every((c) => processExists(c.pid!)));
  await new Promise((r) => setTimeout(r, 300));

  const r = run("stop", p);
  t.equal(r.code, 0, r.stderr);
  t.notOk(isMounted(dir));
  t.same(pidsIn(r.stderr, "SIGTERM"), [viaBind.pid], "only the user of the bind mount");
  for (const c of [viaSource, viaSourceFile, otherNs]) t.ok(processExists(c.pid!), `pid ${c.pid} (use elsewhere) untouched`);
  t.ok(isMounted(src), "the source filesystem stays mounted");
});
