// The bundled stacks through the doctor: `tsstor stack iscsi` and `tsstor stack gfs2` applied to a
// CIB file, plus fencing, on a clean node root, have no finding at all; without the fencing the
// stacks' own "configure stonith" warning is an error. The GFS2 superblock checks use real GFS2
// images made by mkfs.gfs2 (and repaired by the fix tunegfs2 command the doctor prints).
import t from "tap";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { iscsiStack, gfs2Stack, type Plan } from "../../cli/stacks.js";
import { scratchDir } from "../lib/harness.js";
import { installAgents } from "../lib/install.js";
import { builtAgents, planAgents } from "../stack/agents.js";
import { CLI, STONITH, buildCib, doctor, find, ids, nodeRoot } from "./lib.js";

const tmp = scratchDir("doctor-stacks");
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
const built = builtAgents();

/**
 * The stack in a CIB file: with every agent built, exactly `tsstor stack ... --apply --cib FILE`;
 * otherwise the same plan through pcs -f (unbuilt ocf:tsstor agents with --force). Then fencing.
 */
function stackCib(name: string, plan: Plan, cliArgs: string[], fence = true): string {
  const file = join(tmp, `${name}.xml`);
  const agents = planAgents(plan);
  installAgents(agents.filter((a) => built.includes(a)));
  if (agents.every((a) => built.includes(a))) {
    buildCib(file, []);
    const r = spawnSync(CLI, [...cliArgs, "--apply", "--cib", file, "--quiet"], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`tsstor ${cliArgs.join(" ")}: ${r.stderr}`);
    return fence ? addCmds(file, STONITH) : file;
  }
  return buildCib(file, [...plan.commands, ...(fence ? STONITH : [])]);
}

function addCmds(file: string, cmds: string[][]): string {
  for (const c of cmds) {
    const r = spawnSync("pcs", ["-f", file, ...c], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`pcs -f ${file} ${c.join(" ")}: ${r.stdout}${r.stderr}`);
  }
  return file;
}

const IQN = "iqn.2003-01.org.example:storage";
const CHAP = join(tmp, "chap.secret");
writeFileSync(CHAP, "chap-secret-of-16\n");
chmodSync(CHAP, 0o600);
const base = { prefix: "iscsi", drbdResource: "r0", iqn: IQN, luns: ["1:/dev/drbd1"], ips: ["10.233.1.200/24"], initiators: ["iqn.1993-08.org.debian:01:client"] };
const baseArgs = ["stack", "iscsi", "--drbd-resource", "r0", "--iqn", IQN, "--lun", "1:/dev/drbd1", "--ip", "10.233.1.200/24", "--initiator", "iqn.1993-08.org.debian:01:client", "--fencing", "none"];
// closed all the way: initiator list, CHAP, the portal on the virtual IP only (LIO; the node root
// sets ip_nonlocal_bind at boot)
const iscsiArgs = [...baseArgs, "--chap-user", "client", "--chap-secret-file", CHAP, "--portal", "10.233.1.200:3260", "--implementation", "lio-t"];
const iscsiPlan = iscsiStack({ ...base, chap: { user: "client", file: CHAP }, portals: ["10.233.1.200:3260"], implementation: "lio-t" }, { method: "none" });

t.test("tsstor stack iscsi + fencing on a clean node: nothing to report", async (t) => {
  const cib = stackCib("iscsi", iscsiPlan, iscsiArgs);
  const r = nodeRoot(join(tmp, "root-iscsi"));
  const d = doctor(["-f", cib, "--root", r]);
  t.equal(d.code, 0);
  t.same(d.report.findings, [], "no error, no warning, no migration (already ocf:tsstor)");
  const h = spawnSync(CLI, ["doctor", "-f", cib, "--root", r], { encoding: "utf8" });
  t.equal(h.status, 0);
  t.match(h.stdout, /\n0 error\(s\), 0 warning\(s\), 0 info\.\n$/);
});

t.test("the iscsi stack with only an initiator list: the doctor says what is still open", async (t) => {
  // what the stack's own notes say too: the wildcard portal listens on the cluster networks, and
  // initiator names are not secret
  const plan = iscsiStack(base, { method: "none" });
  const cib = stackCib("iscsi-initiators", plan, baseArgs);
  const d = doctor(["-f", cib, "--root", nodeRoot(join(tmp, "root-iscsi-open"))]);
  t.equal(d.code, 0, "warnings and info only");
  t.same(ids(d.report, "error"), []);
  t.same(ids(d.report, "warning"), ["target-portal-wildcard"]);
  t.same(ids(d.report, "info"), ["target-no-chap"]);
  t.match(find(d.report, "target-portal-wildcard")[0]!.message, /10\.233\.0\.1/, "names the cluster address it exposes");
});

t.test("the iscsi stack without fencing: the stack's stonith warning is a doctor error", async (t) => {
  const cib = stackCib("iscsi-nofence", iscsiPlan, iscsiArgs, false);
  const d = doctor(["-f", cib, "--root", nodeRoot(join(tmp, "root-iscsi2"))]);
  t.equal(d.code, 1);
  t.same(ids(d.report, "error"), ["stonith-no-device", "two-node-no-fencing"]);
});

// ---- GFS2 ----

const FS = "vg1/lv1:/srv/gfs2";
const gfs2Plan = gfs2Stack({ prefix: "gfs2", filesystems: [FS] }, { method: "none" });
const gfs2Cib = stackCib("gfs2", gfs2Plan, ["stack", "gfs2", "--fs", FS, "--fencing", "none"]);

/** A node root whose /dev/vg1/lv1 is a real GFS2 image. */
function gfs2Root(name: string, mkfs: string[]): string {
  const r = nodeRoot(join(tmp, name));
  const img = join(r, "dev/vg1/lv1");
  mkdirSync(dirname(img), { recursive: true });
  writeFileSync(img, "");
  truncateSync(img, 128 << 20); // sparse
  const m = spawnSync("mkfs.gfs2", ["-O", "-J", "8", ...mkfs, img], { encoding: "utf8" });
  if (m.status !== 0) throw new Error(`mkfs.gfs2: ${m.stderr}`);
  return r;
}

t.test("tsstor stack gfs2 + fencing, GFS2 made for this cluster: nothing to report", async (t) => {
  const r = gfs2Root("g-clean", ["-p", "lock_dlm", "-t", "tsstor:gfs1", "-j", "2"]);
  const d = doctor(["-f", gfs2Cib, "--root", r]);
  t.equal(d.code, 0);
  t.same(d.report.findings, []);
});

t.test("GFS2 lock table of another cluster; the printed tunegfs2 fix repairs it", async (t) => {
  const r = gfs2Root("g-table", ["-p", "lock_dlm", "-t", "alpha:gfs1", "-j", "2"]);
  const d = doctor(["-f", gfs2Cib, "--root", r]);
  t.same(ids(d.report, "error"), ["gfs2-lock-table"]);
  const f = find(d.report, "gfs2-lock-table")[0]!;
  t.match(f.message, /"alpha:gfs1" but the cluster is named "tsstor"/);
  t.same(f.fix, [`tunegfs2 -o locktable=tsstor:gfs1 /dev/vg1/lv1    # with the filesystem unmounted on every node`]);
  const fix = spawnSync("tunegfs2", ["-o", "locktable=tsstor:gfs1", join(r, "dev/vg1/lv1")], { encoding: "utf8" });
  t.equal(fix.status, 0, fix.stderr);
  t.same(doctor(["-f", gfs2Cib, "--root", r]).report.findings, [], "fixed");
});

t.test("GFS2 with fewer journals than nodes, or lock_nolock under a clone", async (t) => {
  const one = doctor(["-f", gfs2Cib, "--root", gfs2Root("g-j1", ["-p", "lock_dlm", "-t", "tsstor:gfs1", "-j", "1"])]);
  t.same(ids(one.report, "error"), ["gfs2-journals"]);
  t.same(find(one.report, "gfs2-journals")[0]!.fix, ["gfs2_jadd -j 1 /srv/gfs2    # on a node where it is mounted"]);
  const three = addCmds(copy(gfs2Cib, "gfs2-3"), [["resource", "meta", "gfs2-fs-clone", "clone-max=3"]]);
  const j2 = doctor(["-f", three, "--root", gfs2Root("g-j2", ["-p", "lock_dlm", "-t", "tsstor:gfs1", "-j", "2"])]);
  t.match(find(j2.report, "gfs2-journals")[0]!.message, /has 2 journal\(s\) but clone gfs2-fs-clone mounts it on up to 3 nodes/);
  const nolock = doctor(["-f", gfs2Cib, "--root", gfs2Root("g-nolock", ["-p", "lock_nolock", "-j", "2"])]);
  t.same(ids(nolock.report, "error"), ["gfs2-nolock"]);
  const absent = nodeRoot(join(tmp, "g-absent"));
  const na = doctor(["-f", gfs2Cib, "--root", absent]);
  t.same(ids(na.report), ["gfs2-not-checked"], "device not visible here: an info, nothing else");
});

function copy(src: string, name: string): string {
  const f = join(tmp, `${name}.xml`);
  copyFileSync(src, f);
  return f;
}

t.test("GFS2 cluster settings: no-quorum-policy, no DLM, clones without interleave", async (t) => {
  const r = gfs2Root("g-cluster", ["-p", "lock_dlm", "-t", "tsstor:gfs1", "-j", "2"]);
  const bad = addCmds(copy(gfs2Cib, "gfs2-bad"), [
    ["property", "set", "no-quorum-policy=stop"],
    ["resource", "meta", "gfs2-lvmlockd-clone", "interleave=false"],
    ["resource", "meta", "gfs2-fs-clone", "interleave="],
  ]);
  const d = doctor(["-f", bad, "--root", r]);
  t.same(ids(d.report, "error"), ["gfs2-no-quorum-policy"]);
  t.same(find(d.report, "gfs2-no-quorum-policy")[0]!.fix, ["pcs property set no-quorum-policy=freeze"]);
  t.same(
    find(d.report, "clone-interleave").map((f) => f.fix[0]),
    ["pcs resource meta gfs2-lvmlockd-clone interleave=true", "pcs resource meta gfs2-fs-clone interleave=true"],
  );
  const nodlm = addCmds(copy(gfs2Cib, "gfs2-nodlm"), [["resource", "delete", "gfs2-dlm", "--force"]]);
  const n = doctor(["-f", nodlm, "--root", r]);
  t.same(ids(n.report, "error"), ["gfs2-no-dlm"]);
  t.match(find(n.report, "gfs2-no-dlm")[0]!.fix[0], /^pcs resource create dlm ocf:pacemaker:controld .*clone$/);
  t.same(find(n.report, "gfs2-no-dlm")[0]!.fix.slice(1), ["pcs resource meta dlm-clone interleave=true", "pcs constraint order start dlm-clone then start gfs2-lvmlockd-clone", "pcs constraint colocation add gfs2-lvmlockd-clone with dlm-clone score=INFINITY"]);
  // dlm.service enabled instead of a controld clone is an accepted setup
  const viaSystemd = nodeRoot(join(tmp, "g-dlmsvc"), { enable: ["multi-user.target.wants/dlm.service"] });
  t.notOk(find(doctor(["-f", nodlm, "--root", viaSystemd]).report, "gfs2-no-dlm").length);
});
