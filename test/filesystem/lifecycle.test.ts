// Filesystem on real loop devices with real ext4 and xfs: conformance, lifecycle, monitor depths,
// device identity (mismatch, -U/-L, symlinks), clone refusal, start's refusals.
import t from "tap";
import { existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { agentPath, conformance, runAgent, type RunOpts } from "../lib/harness.js";
import { PATH, Scratch, isMounted, mountsUnder, must, sh } from "./lib.js";

const bin = agentPath("Filesystem");
const s = new Scratch(t, "life");
const rsctmp = s.mkdir("rsctmp");
const env = { HA_RSCTMP: rsctmp, PATH };
const conf = s.loop("conf", "ext4");

conformance(t, {
  agent: "Filesystem",
  valid: { device: conf, directory: s.path("conformance"), fstype: "ext4" },
  env,
  monitorDepths: [0, 10, 20],
  invalid: [
    { params: { directory: "/mnt/x", fstype: "ext4" }, names: "parameter device is required" },
    { params: { device: conf, fstype: "ext4" }, names: "parameter directory is required" },
    { params: { device: conf, directory: "/mnt/x" }, names: "parameter fstype is required" },
    { params: { device: conf, directory: "mnt/x", fstype: "ext4" }, names: "parameter directory must be an absolute path" },
    { params: { device: ` ${conf}`, directory: "/mnt/x", fstype: "ext4" }, names: "parameter device does not accept leading or trailing whitespace" },
    { params: { device: conf, directory: "/mnt/x", fstype: "ext4;id" }, names: "parameter fstype is not a filesystem type" },
    { params: { device: conf, directory: "/mnt/x", fstype: "ext4", options: "ro noatime" }, names: "parameter options must not contain whitespace" },
    { params: { device: conf, directory: "/mnt/x", fstype: "ext4", run_fsck: "sometimes" }, names: "parameter run_fsck must be auto, force or no" },
    { params: { device: conf, directory: "/mnt/x", fstype: "ext4", fast_stop: "perhaps" }, names: "parameter fast_stop must be a boolean" },
    { params: { device: conf, directory: "/mnt/x", fstype: "ext4", force_unmount: "maybe" }, names: "parameter force_unmount must be true, safe or false" },
    { params: { device: conf, directory: "/mnt/x", fstype: "ext4", term_signals: "TERM BOGUS" }, names: "parameter term_signals names unknown signals: BOGUS" },
    { params: { device: conf, directory: "/mnt/x", fstype: "ext4", signal_delay: "soon" }, names: "parameter signal_delay must be a number" },
    { params: { device: conf, directory: "/mnt/x", fstype: "ext4", statusfile_prefix: "../escape/" }, names: "parameter statusfile_prefix must be relative" },
    { params: { device: conf, directory: "/", fstype: "ext4" }, names: "/ cannot be managed in a cluster" },
    { params: { device: conf, directory: "/mnt/x", fstype: "gfs2", run_fsck: "force" }, names: "run_fsck=force is refused for gfs2" },
  ],
});

function run(action: string, params: Record<string, string>, o: RunOpts = {}) {
  return runAgent(bin, action, { instance: "fs", meta: { timeout: 20000, ...o.meta }, ...o, params, env: { ...env, ...o.env } });
}
const depth = (n: number) => ({ env: { OCF_CHECK_LEVEL: String(n) }, meta: { interval: 20000, timeout: 20000 } });
const recurring = { meta: { interval: 20000, timeout: 20000 } };

for (const fstype of ["ext4", "xfs"] as const) {
  t.test(`${fstype}: lifecycle, depth 10 and 20, status file removed at stop`, async (t) => {
    const dev = s.loop(`life-${fstype}`, fstype);
    const dir = s.path(`life-${fstype}`, "mnt");
    const p = { device: dev, directory: `${dir}/`, fstype };
    t.equal(run("monitor", p).code, 7, "probe: not running");
    t.equal(run("start", p).code, 0, "start (creates the mount point)");
    t.ok(isMounted(dir));
    t.equal(mountsUnder(dir)[0]!.source, dev);
    t.equal(run("monitor", p, recurring).code, 0);
    t.equal(run("start", p).code, 0, "second start: already mounted");
    t.equal(mountsUnder(dir).length, 1, "not mounted twice");
    const d10 = run("monitor", p, depth(10));
    t.equal(d10.code, 0, d10.stderr);
    const d20 = run("monitor", p, depth(20));
    t.equal(d20.code, 0, d20.stderr);
    const sf = `${dir}/.Filesystem_status/fs_${readFileSync("/proc/sys/kernel/hostname", "utf8").trim()}`;
    t.ok(existsSync(sf), "status file written");
    t.equal(readFileSync(sf).subarray(0, 3).toString(), "fs\n", "holds the instance name");
    t.equal(readFileSync(sf).length, 4096, "one 4 KiB block, like dd conv=sync");
    t.equal(run("monitor", p, depth(15)).code, 0, "15 falls back to 10");
    // A stale status file of another clone number of this instance on this node goes too.
    writeFileSync(`${dir}/.Filesystem_status/fs_3_${readFileSync("/proc/sys/kernel/hostname", "utf8").trim()}`, "old");
    writeFileSync(`${dir}/.Filesystem_status/other_node9`, "not ours");
    t.equal(run("stop", p).code, 0, "stop (no OCF_CHECK_LEVEL, as Pacemaker runs it)");
    t.notOk(isMounted(dir));
    t.equal(run("stop", p).code, 0, "second stop");
    t.equal(run("monitor", p).code, 7);
    // Look inside: our status files are gone, others' stay.
    const peek = s.mkdir(`peek-${fstype}`);
    must("mount", ["-t", fstype, dev, peek]);
    t.same(readdirSync(`${peek}/.Filesystem_status`), ["other_node9"]);
    must("umount", [peek]);
  });

  t.test(`${fstype}: read-only remount fails depth 20 only`, async (t) => {
    const dev = s.loop(`ro-${fstype}`, fstype);
    const dir = s.mkdir(`ro-${fstype}`);
    const p = { device: dev, directory: dir, fstype };
    t.equal(run("start", p).code, 0);
    must("mount", ["-o", "remount,ro", dir]);
    t.equal(run("monitor", p, recurring).code, 0, "depth 0");
    t.equal(run("monitor", p, depth(10)).code, 0, "depth 10 reads the device");
    const r = run("monitor", p, depth(20));
    t.equal(r.code, 1);
    t.match(r.reason, /failed to write status file .*\.Filesystem_status\/fs_.*EROFS/);
    t.equal(run("stop", p).code, 0, "stop works on a read-only filesystem");
    t.notOk(isMounted(dir));
  });
}

t.test("device mismatch: a foreign device on the mount point is never ours", async (t) => {
  const a = s.loop("mis-a", "ext4");
  const b = s.loop("mis-b", "ext4");
  const dir = s.mkdir("mismatch");
  const pa = { device: a, directory: dir, fstype: "ext4" };
  const pb = { device: b, directory: dir, fstype: "ext4" };
  t.equal(run("start", pa).code, 0);
  t.equal(run("monitor", pb).code, 7, "probe: not running");
  const m = run("monitor", pb, recurring);
  t.equal(m.code, 1, "recurring monitor: failed");
  t.match(m.reason, new RegExp(`another device \\(${a}\\) is mounted on ${dir}, not ${b}`));
  const st = run("start", pb);
  t.equal(st.code, 1);
  t.match(st.reason, /another device/);
  t.equal(run("stop", pb).code, 0, "stop: not ours, so stopped");
  t.ok(isMounted(dir), "and the foreign device is still mounted");
  t.equal(run("stop", pa).code, 0);
  t.notOk(isMounted(dir));

  // Ours, with a foreign device mounted over it: hidden from users, never unmounted by us.
  t.equal(run("start", pa).code, 0);
  must("mount", [b, dir]);
  const hid = run("monitor", pa, recurring);
  t.equal(hid.code, 1);
  t.match(hid.reason, new RegExp(`${b} is mounted over ${dir}, hiding ${a}`));
  const hs = run("stop", pa);
  t.equal(hs.code, 1, "stop cannot unmount ours without unmounting the foreign one: it refuses");
  t.match(hs.reason, new RegExp(`${b} is mounted over ${dir}: not ours`));
  t.same(mountsUnder(dir).map((m) => m.source), [a, b], "both still mounted");
  must("umount", [dir]);
  t.equal(run("stop", pa).code, 0);
  t.notOk(isMounted(dir));
});

t.test("devices compare after canonicalising both sides: symlink, -U, -L, UUID=", async (t) => {
  const dev = s.loop("canon", "ext4", 64, ["-L", "tsfcanon"]);
  const uuid = must("blkid", ["-s", "UUID", "-o", "value", dev]).trim();
  const link = s.path("devlink");
  symlinkSync(dev, link);
  const dir = s.mkdir("canon");
  for (const device of [link, `-U ${uuid}`, `--uuid=${uuid}`, `UUID=${uuid}`, "-L tsfcanon", "LABEL=tsfcanon"]) {
    const p = { device, directory: dir, fstype: "ext4" };
    t.equal(run("start", p).code, 0, `start ${device}`);
    t.equal(mountsUnder(dir)[0]?.source, dev, "the resolved device is mounted");
    t.equal(run("monitor", p, recurring).code, 0, `monitor ${device}`);
    t.equal(run("monitor", p, depth(10)).code, 0, `depth 10 reads the real device for ${device}`);
    t.equal(run("stop", p).code, 0);
    t.notOk(isMounted(dir));
  }
  const missing = run("start", { device: "-U 00000000-0000-0000-0000-000000000000", directory: dir, fstype: "ext4" }, { meta: { timeout: 3000 } });
  t.equal(missing.code, 5, "an unknown UUID: device not found on this node");
  t.ok(missing.ms < 3000, `bounded wait (${missing.ms.toFixed(0)} ms)`);
});

t.test("symlinked mount point and trailing slashes", async (t) => {
  const dev = s.loop("symdir", "xfs");
  const real = s.mkdir("symdir-real");
  const link = s.path("symdir-link");
  symlinkSync(real, link);
  const p = { device: dev, directory: `${link}//`, fstype: "xfs" };
  t.equal(run("start", p).code, 0);
  t.ok(isMounted(real), "mounted on the link's target");
  t.equal(run("monitor", p, recurring).code, 0);
  t.equal(run("stop", p).code, 0);
  t.notOk(isMounted(real));
});

t.test("clone refusal without force_clones (ext4 and xfs)", async (t) => {
  const dev = s.loop("clone", "ext4");
  const dir = s.mkdir("clone");
  const clone = { clone: 0, clone_max: 2, clone_node_max: 1, timeout: 20000 };
  for (const fstype of ["ext4", "xfs"]) {
    const p = { device: dev, directory: dir, fstype };
    const r = run("start", p, { meta: clone });
    t.equal(r.code, 6, fstype);
    t.match(r.reason, new RegExp(`DANGER! ${fstype} on .* is NOT cluster-aware`));
    const v = run("validate-all", p, { meta: clone, env: { OCF_CHECK_LEVEL: "10" } });
    t.equal(v.code, 6, "validate-all level 10 with clone meta");
    t.equal(run("validate-all", p, { meta: clone }).code, 0, "level 0 does not look at clone meta");
    t.notOk(isMounted(dir));
  }
  const forced = run("start", { device: dev, directory: dir, fstype: "ext4", force_clones: "true" }, { meta: clone });
  t.equal(forced.code, 0);
  t.match(forced.stderr, /NOT cluster-aware; running as a clone because force_clones is set/);
  t.equal(run("stop", { device: dev, directory: dir, fstype: "ext4" }, { meta: clone }).code, 0);
});

t.test("start refuses, with a reason, when it cannot or must not mount", async (t) => {
  const dev = s.loop("refuse", "ext4");
  const dir = s.mkdir("refuse");
  const p = { device: dev, directory: dir, fstype: "ext4" };
  s.mkdir("refuse", "sub");
  must("mount", ["-t", "tmpfs", "-o", "size=1m", "tsf-below", `${dir}/sub`]);
  const below = run("start", p);
  t.equal(below.code, 1);
  t.match(below.reason, new RegExp(`something is mounted below it \\(${dir}/sub\\)`));
  must("umount", [`${dir}/sub`]);

  const wrongType = run("start", { ...p, fstype: "xfs" });
  t.equal(wrongType.code, 1);
  t.match(wrongType.reason, /couldn't mount .* on .*: mount .*failed/);
  t.notOk(isMounted(dir));

  const noDev = run("start", { ...p, device: s.path("no-such-device") }, { meta: { timeout: 2000 } });
  t.equal(noDev.code, 5);
  t.match(noDev.reason, /couldn't find device/);

  const noFs = run("start", { ...p, fstype: "tsfnosuchfs" });
  t.equal(noFs.code, 5);
  t.match(noFs.reason, /filesystem tsfnosuchfs is not supported by this kernel/);

  const fileDir = s.path("a-file");
  writeFileSync(fileDir, "");
  const notDir = run("start", { ...p, directory: fileDir });
  t.equal(notDir.code, 5);
  t.match(notDir.reason, /is not a directory/);

  for (const a of ["start", "monitor"]) t.equal(run(a, { ...p, directory: "/" }, recurring).code, 6, `${a} of /: 6`);
  t.equal(run("monitor", { ...p, directory: "/" }).code, 7, "probe of /: 7");
  t.equal(run("stop", { ...p, directory: "/" }).code, 0, "stop of /: 0 and nothing unmounted");
});

t.test("start confirms the mount: a mount(8) that says success but mounts nothing fails start", async (t) => {
  const dev = s.loop("confirm", "ext4");
  const dir = s.mkdir("confirm");
  const liar = s.mkdir("liar");
  writeFileSync(`${liar}/mount`, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  const r = run("start", { device: dev, directory: dir, fstype: "ext4" }, { env: { PATH: `${liar}:${PATH}` } });
  t.equal(r.code, 1);
  t.match(r.reason, new RegExp(`mount reported success but nothing is mounted on ${dir}`));
  // and a mount that mounted something else there
  const other = s.loop("confirm-other", "ext4");
  writeFileSync(`${liar}/mount`, `#!/bin/sh\nexec /bin/mount ${other} ${dir}\n`, { mode: 0o755 });
  const w = run("start", { device: dev, directory: dir, fstype: "ext4" }, { env: { PATH: `${liar}:${PATH}` } });
  t.equal(w.code, 1);
  t.match(w.reason, new RegExp(`mount succeeded but ${other} is what is mounted on ${dir}`));
  must("umount", [dir]);
});

t.test("bind mounts (fstype none): bind and bind,ro", async (t) => {
  const dev = s.loop("bindsrc", "ext4");
  const src = s.mkdir("bindsrc");
  must("mount", [dev, src]);
  s.mkdir("bindsrc", "data");
  const dir = s.path("bindmnt");
  for (const options of ["bind", "bind,ro"]) {
    const p = { device: `${src}/data`, directory: dir, fstype: "none", options };
    t.equal(run("start", p).code, 0, options);
    const m = mountsUnder(dir).find((x) => x.mountPoint === dir)!;
    t.equal(m.options.includes("ro"), options.includes("ro"), `${options}: ro as asked, and confirmed`);
    t.equal(run("monitor", p, recurring).code, 0);
    t.equal(run("monitor", p, depth(10)).code, 0, "depth 10: nothing to read for a bind mount");
    t.equal(run("stop", p).code, 0);
    t.notOk(isMounted(dir));
    t.ok(isMounted(src), "the source stays mounted");
  }
  sh("umount", [src]);
});
