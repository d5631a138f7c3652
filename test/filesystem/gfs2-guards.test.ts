// GFS2 guards: parsers against recorded real outputs (test/recordings/fs/), the direct on-disk
// reader against real mkfs.gfs2 images cross-checked with tunegfs2 and gfs2_edit, and the agent's
// start/validate-all refusals on a real GFS2 image on a loop device. This kernel has no GFS2 or
// DLM: corosync-cmapctl and dlm_tool are fakes printing the recorded formats, and a start that
// passes every guard ends at "gfs2 not supported by this kernel" (5) instead of mounting (the
// kernel lab mounts for real).
import t from "tap";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseCmapValue, parseCorosyncConfClusterName } from "../../lib/cluster/corosync.js";
import { dlmControldPids, parseDlmToolLs } from "../../lib/cluster/dlm.js";
import { effectiveLocking, gfs2Withdrawn, parseGfs2EditJindex, parseSuperblock, parseTunegfs2List, readGfs2, splitLockTable } from "../../lib/fs/gfs2.js";
import { mountsAt, parseMountinfo } from "../../lib/fs/mounts.js";
import { agentPath, runAgent } from "../lib/harness.js";
import { REPO } from "../lib/xml.js";
import { PATH, Scratch, have, must, sh } from "./lib.js";

const REC = join(REPO, "test", "recordings", "fs");
const rec = (f: string) => readFileSync(join(REC, f), "utf8");
const bin = agentPath("Filesystem");

t.test("corosync: cmapctl value and corosync.conf (recorded)", async (t) => {
  t.equal(parseCmapValue(rec("corosync-cmapctl-g-totem.cluster_name.txt"), "totem.cluster_name"), "tsfclu");
  t.equal(parseCmapValue(rec("corosync-cmapctl-totem.txt"), "totem.cluster_name"), "tsfclu");
  t.equal(parseCmapValue(rec("corosync-cmapctl-totem.txt"), "totem.token"), "1000");
  t.equal(parseCmapValue(rec("corosync-cmapctl.not-running.stderr.txt"), "totem.cluster_name"), undefined);
  t.equal(parseCorosyncConfClusterName(rec("corosync.conf.tsfclu")), "tsfclu");
  t.equal(parseCorosyncConfClusterName("totem {\n  version: 2\n  # cluster_name: no\n  interface {\n    cluster_name: nested\n  }\n  cluster_name:   alapve  \n}\n"), "alapve");
  t.equal(parseCorosyncConfClusterName("nodelist {\n cluster_name: wrong\n}\n"), undefined, "only inside totem");
});

t.test("dlm_tool ls (show_ls format; not-running recorded)", async (t) => {
  const ls = parseDlmToolLs(rec("dlm_tool-ls.from-source.txt"));
  t.same(
    ls.map((l) => [l.name, l.id, l.members]),
    [
      ["storage01", "0x9a1c3e52", [1, 2, 3]],
      ["lvm_global", "0x12aabd2a", [1, 2]],
    ],
    "the 'new members' line of a lockspace in transition is not its membership",
  );
  t.same(parseDlmToolLs(rec("dlm_tool-ls.not-running.stdout.txt")), []);
  // A public sample of `dlm_tool -n ls` (with the all-nodes section) parses too.
  const withNodes = "dlm lockspaces\nname          gfs2\nid            0xe4f48a18\nflags         0x00000000\nchange        member 3 joined 1 remove 0 failed 0 seq 1,1\nmembers       1 2 3\nall nodes\nnodeid 1 member 1 failed 0 start 1 seq_add 1 seq_rem 0 check none\n\n";
  t.same(parseDlmToolLs(withNodes)[0]!.members, [1, 2, 3]);
});

t.test("dlm_controld found by command name in /proc", async (t) => {
  const s = new Scratch(t, "proc");
  for (const [pid, comm] of [
    ["10", "bash"],
    ["42", "dlm_controld"],
    ["self", "node"],
  ] as const) {
    s.mkdir("proc", pid);
    writeFileSync(s.path("proc", pid, "comm"), `${comm}\n`);
  }
  t.same(dlmControldPids(s.path("proc")), [42]);
  t.same(dlmControldPids(s.path("none")), []);
});

t.test("tunegfs2 -l and gfs2_edit -p jindex (recorded)", async (t) => {
  t.match(parseTunegfs2List(rec("tunegfs2-l.lock_dlm.txt")), { lockProto: "lock_dlm", lockTable: "alapve:storage01", blockSize: 4096 });
  t.match(parseTunegfs2List(rec("tunegfs2-l.lock_nolock.txt")), { lockProto: "lock_nolock", lockTable: "" });
  t.match(parseTunegfs2List("Lock Protocol: lock_dlm\nLock table: a:b\n"), { lockProto: "lock_dlm" }, "older gfs2-utils capitalise Protocol");
  t.equal(parseGfs2EditJindex(rec("gfs2_edit-p-jindex.j3.txt")), 3);
  t.equal(parseGfs2EditJindex(rec("gfs2_edit-p-jindex.j1.txt")), 1);
  t.same(splitLockTable("alapve:storage01"), { cluster: "alapve", fsname: "storage01" });
  t.equal(splitLockTable("nocolon"), undefined);
  t.equal(splitLockTable("a:b:c"), undefined);
  t.equal(splitLockTable(":fs"), undefined);
});

t.test("superblock parser rejects what is not GFS2", async (t) => {
  t.equal(parseSuperblock(new Uint8Array(4096)), undefined);
  t.equal(parseSuperblock(new Uint8Array(10)), undefined);
  const sb = { lockProto: "lock_dlm", lockTable: "a:b" } as Parameters<typeof effectiveLocking>[0];
  t.same(effectiveLocking(sb, "noatime,locktable=c:d"), { lockProto: "lock_dlm", lockTable: "c:d" });
  t.same(effectiveLocking(sb, "lockproto=lock_nolock"), { lockProto: "lock_nolock", lockTable: "a:b" });
});

t.test("kernel lab recordings (real GFS2 + DLM on a 6.1 kernel) agree with the parsers", async (t) => {
  const lab = (f: string) => rec(`lab/${f}`);
  t.equal(parseCmapValue(lab("02-corosync-cmapctl-g.out"), "totem.cluster_name"), "lab");
  t.equal(lab("03-corosync-cmapctl-missing.rc").trim(), "1");
  t.same(
    parseDlmToolLs(lab("25-dlm-tool-ls-mounted.out")).map((l) => [l.name, l.id, l.members]),
    [
      ["fs0", "0x44fd2812", [1]],
      ["lvm_global", "0x12aabd2d", [1]],
    ],
    "a mounted GFS2 joins the lockspace named after its fsname",
  );
  t.equal(rec("dlm_tool-ls.from-source.txt").split("\n")[3], lab("25-dlm-tool-ls-mounted.out").split("\n")[3], "the format written from source matches the real one (trailing space too)");
  // The superblock bytes from the VM, through the same parser the agent uses.
  const bytes = new Uint8Array(4096);
  for (const line of lab("10-superblock-hexdump.out").split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 2) continue;
    const off = Number(f[0]);
    f.slice(1).forEach((h, i) => (bytes[off + i] = parseInt(h, 16)));
  }
  const sb = parseSuperblock(bytes);
  const tune = parseTunegfs2List(lab("06-tunegfs2-l.out"));
  t.match(sb, { lockProto: "lock_dlm", lockTable: "lab:fs0", bsize: 4096, masterAddr: 2072n, fsFormat: 1802 });
  t.equal(sb?.uuid, tune.uuid, "UUID agrees with tunegfs2 -l");
  t.equal(sb?.lockTable, tune.lockTable);
  t.equal(`Master inode: ${sb?.masterAddr}`, lab("06-tunegfs2-l.out").split("\n").find((l) => l.startsWith("Master inode")));
  t.equal(parseGfs2EditJindex(lab("11-gfs2-edit-jindex.out")), 2);
  t.match(lab("13-tunegfs2-l-not-gfs2.err"), /does not contain a GFS or GFS2/);
  const ms = parseMountinfo(lab("35-mountinfo-nolock.out"));
  t.same(
    ms.map((m) => [m.mountPoint, m.fstype, m.source, `${m.major}:${m.minor}`]),
    [
      ["/mnt/g0", "gfs2", "/dev/loop2", "7:2"],
      ["/mnt/g1", "gfs2", "/dev/loop2", "7:2"],
      ["/mnt/g1", "gfs2", "/dev/loop3", "7:3"],
    ],
  );
  t.ok(ms[2]!.superOptions.includes("lockproto=lock_nolock"), "a lockproto= override shows in the superblock options");
  t.same(mountsAt(ms, "/mnt/g1").map((m) => m.source), ["/dev/loop2", "/dev/loop3"], "stacked: the last is visible");
  t.match(lab("26-sys-fs-gfs2.out"), /^id=7:2$/m, "/sys/fs/gfs2/TABLE/id is the device number (used to find withdraw)");
  t.match(lab("26-sys-fs-gfs2.out"), /^withdraw$/m);
});

t.test("withdraw detection from /sys/fs/gfs2 (layout as recorded in the lab)", async (t) => {
  const s = new Scratch(t, "sysfs");
  const root = s.mkdir("gfs2");
  for (const [table, id, w] of [
    ["lab:fs0", "7:2", "0"],
    ["lab:fs1", "7:3", "1"],
  ] as const) {
    const d = s.mkdir("gfs2", table);
    writeFileSync(join(d, "id"), `${id}\n`);
    writeFileSync(join(d, "withdraw"), `${w}\n`);
  }
  t.equal(gfs2Withdrawn(7, 2, root), false);
  t.equal(gfs2Withdrawn(7, 3, root), true);
  t.equal(gfs2Withdrawn(7, 9, root), undefined, "not a mounted GFS2");
  t.equal(gfs2Withdrawn(7, 2, s.path("nope")), undefined, "no gfs2 in this kernel");
});

const gfs2 = have("mkfs.gfs2");

t.test("direct superblock/jindex reader agrees with tunegfs2 and gfs2_edit on real images", { skip: !gfs2 && "mkfs.gfs2 (gfs2-utils) not installed" }, async (t) => {
  const s = new Scratch(t, "gfsimg");
  for (const [j, proto, table] of [
    [1, "lock_dlm", "alapve:storage01"],
    [3, "lock_dlm", "tsfclu:data"],
    [5, "lock_dlm", "c1:f"],
    [1, "lock_nolock", ""],
  ] as const) {
    const img = s.path(`g${j}${proto}.img`);
    must("truncate", ["-s", "320M", img]);
    must("mkfs.gfs2", ["-O", "-p", proto, ...(table ? ["-t", table] : []), "-j", String(j), img]);
    const info = readGfs2(img);
    t.ok(info, `${img} is GFS2`);
    t.equal(info!.journals, j, `${j} journals`);
    t.equal(info!.super.lockProto, proto);
    t.equal(info!.super.lockTable, table);
    const tune = parseTunegfs2List(must("tunegfs2", ["-l", img]));
    t.equal(tune.lockTable, info!.super.lockTable, "tunegfs2 agrees on the lock table");
    t.equal(tune.uuid, info!.super.uuid, "and on the UUID");
    t.equal(parseGfs2EditJindex(must("gfs2_edit", ["-p", "jindex", img])), j, "gfs2_edit agrees on the journal count");
  }
  const ext = s.path("ext.img");
  must("truncate", ["-s", "64M", ext]);
  must("mkfs.ext4", ["-q", "-F", ext]);
  t.equal(readGfs2(ext), undefined, "ext4 is not GFS2");
});

t.test("start and validate-all refuse each unsafe GFS2 setup with a clear reason", { skip: !gfs2 && "mkfs.gfs2 not installed" }, async (t) => {
  const s = new Scratch(t, "gfs");
  const dev = s.loop("g", "gfs2", 320, ["-p", "lock_dlm", "-t", "tsfclu:data", "-j", "2"]);
  const nolock = s.loop("n", "gfs2", 320, ["-p", "lock_nolock", "-j", "1"]);
  const dir = s.path("mnt");
  const FAKES = s.fakes("corosync-cmapctl", "dlm_tool");
  const base = { device: dev, directory: dir, fstype: "gfs2" };
  const env = (cluster: string | undefined, dlm: string | undefined) => ({
    PATH: `${FAKES}:${PATH}`,
    HA_RSCTMP: s.path("rsctmp"),
    TSSTOR_FAKE_CLUSTER_NAME: cluster,
    TSSTOR_FAKE_DLM: dlm,
    // an empty /proc for the dlm_controld scan: a daemon of another suite must not show up here
    TSSTOR_PROC_ROOT: s.mkdir("proc"),
  });
  const good = env("tsfclu", "");
  const clone = { clone: 0, clone_max: 2, clone_node_max: 1, timeout: 20000 };
  const kernelHasGfs2 = readFileSync("/proc/filesystems", "utf8").includes("gfs2");
  const passed = (r: ReturnType<typeof runAgent>) =>
    kernelHasGfs2 ? r.code === 0 : r.code === 5 && /filesystem gfs2 is not supported by this kernel/.test(r.reason ?? "");

  await t.test("all guards pass: clone, cluster name, journals, dlm_controld", async (t) => {
    const r = runAgent(bin, "start", { params: base, meta: clone, env: good });
    t.ok(passed(r), `${r.code} ${r.reason}`);
    if (kernelHasGfs2) runAgent(bin, "stop", { params: base, meta: clone, env: good });
  });
  await t.test("not a clone: 6", async (t) => {
    const r = runAgent(bin, "start", { params: base, meta: { timeout: 20000 }, env: good });
    t.equal(r.code, 6);
    t.match(r.reason, /GFS2 with lock_dlm on .* must run as a clone/);
  });
  await t.test("lock table names another cluster: 6, with the fix", async (t) => {
    const r = runAgent(bin, "start", { params: base, meta: clone, env: env("prodclu", "") });
    t.equal(r.code, 6);
    t.match(r.reason, /lock table tsfclu:data .* names cluster "tsfclu" but the corosync cluster is "prodclu" \(from corosync-cmapctl\)/);
    t.match(r.reason, new RegExp(`tunegfs2 -o locktable=prodclu:data ${dev}`));
  });
  await t.test("corosync not answering: corosync.conf is read instead", async (t) => {
    const r = runAgent(bin, "start", { params: base, meta: clone, env: env(undefined, "") });
    const conf = (() => {
      try {
        return readFileSync("/etc/corosync/corosync.conf", "utf8");
      } catch {
        return "";
      }
    })();
    const name = /^\s*cluster_name:\s*(\S+)/m.exec(conf)?.[1];
    if (name && name !== "tsfclu") {
      t.equal(r.code, 6);
      t.match(r.reason, /from \/etc\/corosync\/corosync\.conf/);
    } else if (!name) {
      t.equal(r.code, 1);
      t.match(r.reason, /cannot find the corosync cluster name/);
    } else t.ok(passed(r));
  });
  await t.test("fewer journals than clone-max: 6", async (t) => {
    const r = runAgent(bin, "start", { params: base, meta: { ...clone, clone_max: 3 }, env: good });
    t.equal(r.code, 6);
    t.match(r.reason, /has 2 journals but clone-max is 3: .*gfs2_jadd -j 1/);
  });
  await t.test("dlm_controld not running: 1 (this node only)", async (t) => {
    const r = runAgent(bin, "start", { params: base, meta: clone, env: env("tsfclu", "down") });
    t.equal(r.code, 1);
    t.match(r.reason, /dlm_controld is not running on this node/);
  });
  await t.test("dlm_tool not installed: 5", async (t) => {
    // PATH without dlm_tool: the fakes dir is replaced by one holding only corosync-cmapctl.
    const only = s.mkdir("only-cmap");
    must("ln", ["-sf", join(FAKES, "corosync-cmapctl"), join(only, "corosync-cmapctl")]);
    const r = runAgent(bin, "start", { params: base, meta: clone, env: { ...good, PATH: `${only}:${PATH}` } });
    if (have("dlm_tool")) return void t.pass("skipped: a real dlm_tool is installed");
    t.equal(r.code, 5);
    t.match(r.reason, /dlm_tool not found/);
  });
  await t.test("fsck and fast stop refused for gfs2 (any action but stop)", async (t) => {
    for (const [k, v, re] of [
      ["run_fsck", "force", /run_fsck=force is refused for gfs2/],
      ["fast_stop", "yes", /fast_stop is refused for gfs2/],
    ] as const) {
      for (const a of ["start", "validate-all", "monitor"]) {
        const r = runAgent(bin, a, { params: { ...base, [k]: v }, meta: a === "start" ? clone : {}, env: good });
        t.equal(r.code, 6, `${k}=${v} ${a}`);
        t.match(r.reason, re);
      }
      t.equal(runAgent(bin, "stop", { params: { ...base, [k]: v }, env: good }).code, 0, "stop still works");
    }
    t.equal(runAgent(bin, "validate-all", { params: { ...base, run_fsck: "auto", fast_stop: "no" }, env: good }).code, 0);
  });
  await t.test("lock_nolock: one node only, never a clone", async (t) => {
    const p = { ...base, device: nolock };
    const r = runAgent(bin, "start", { params: p, meta: clone, env: good });
    t.equal(r.code, 6);
    t.match(r.reason, /uses lock_nolock: only one node may mount it/);
    t.ok(passed(runAgent(bin, "start", { params: p, meta: { timeout: 20000 }, env: good })), "as a primitive it may mount");
  });
  await t.test("mount options override the superblock's lock table", async (t) => {
    const r = runAgent(bin, "start", { params: { ...base, options: "noatime,locktable=prodclu:data" }, meta: clone, env: env("prodclu", "") });
    t.ok(passed(r), `${r.code} ${r.reason}`);
  });
  await t.test("validate-all level 10 runs the same guards", async (t) => {
    const v10 = (extra: Record<string, string>, meta: Record<string, string | number>, e = good) => runAgent(bin, "validate-all", { params: { ...base, ...extra }, meta, env: { ...e, OCF_CHECK_LEVEL: "10" } });
    const ok = v10({}, clone);
    t.equal(ok.code, kernelHasGfs2 ? 0 : 5, ok.reason ?? "");
    if (!kernelHasGfs2) t.match(ok.reason, /gfs2 is not supported by this kernel/, "every guard passed; this kernel lacks gfs2");
    t.equal(v10({}, {}).code, ok.code, "crm_resource --validate passes no clone meta: not refused for that");
    const j = v10({}, { ...clone, clone_max: 4 });
    t.equal(j.code, 6);
    t.match(j.reason, /has 2 journals but clone-max is 4/);
    const cn = v10({}, clone, env("other", ""));
    t.equal(cn.code, 6);
    t.match(cn.reason, /corosync cluster is "other"/);
    const d = v10({}, clone, env("tsfclu", "down"));
    t.equal(d.code, 1);
    t.match(d.reason, /dlm_controld is not running/);
    const nc = v10({}, { on_node: "n1" });
    t.equal(nc.code, 6, "run by the cluster (on_node) without clone meta: not a clone");
    t.equal(runAgent(bin, "validate-all", { params: base, env: good }).code, 0, "level 0 touches nothing");
  });
  await t.test("a probe is 7 and stop is 0 (no guards on monitor/stop)", async (t) => {
    t.equal(runAgent(bin, "monitor", { params: base, meta: clone, env: env(undefined, "down") }).code, 7);
    t.equal(runAgent(bin, "stop", { params: base, meta: clone, env: env(undefined, "down") }).code, 0);
  });
  await t.test("the fakes were called with argv only (no shell), and only where expected", async (t) => {
    const log = s.path("fake.log");
    runAgent(bin, "start", { params: base, meta: clone, env: { ...good, TSSTOR_FAKE_LOG: log } });
    const calls = readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { tool: string; argv: string[] });
    t.same(
      calls.map((c) => [c.tool, ...c.argv]),
      [
        ["corosync-cmapctl", "-g", "totem.cluster_name"],
        ["dlm_tool", "ls"],
      ],
    );
  });
  t.equal(sh("true", []).code, 0);
});
