// `tsstor status` without a running cluster: the CIB a stack script builds (`tsstor stack ...
// --apply --cib FILE`), run through crm_simulate, read with CIB_file by the real crm_mon and
// cibadmin. This node's state comes from what this kernel cannot provide, so from fixtures the
// readers are pointed at as the agents' tests do: a GFS2 mount (mountinfo, /sys/fs/gfs2) with
// the dlm_tool fake, an LIO configfs tree with a logged-in initiator, DRBD 8.4 on the simulator.
import t, { type Test } from "tap";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUILD, scratchDir } from "../lib/harness.js";
import { installAgents } from "../lib/install.js";
import { makeSim } from "../drbd/sim.js";

const CLI = join(BUILD, "tsstor");
const FAKES = join(BUILD, "test", "fakes");
const EXPECTED = join(import.meta.dirname, "expected");
const dir = scratchDir("status-offline");
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const skip = existsSync(CLI) ? false : "build/tsstor not built";
if (!skip) installAgents(["clvm", "LVM-activate", "Filesystem", "iSCSITarget", "iSCSILogicalUnit", "IPaddr2", "drbd"]);

/** A CIB with nodes n1 (id 1) and n2 (id 2), the stack applied, everything started by crm_simulate. */
function cluster(name: string, stack: string[], after: string[][] = [], scores: Record<string, string> = {}): string {
  const cib = join(dir, `${name}.xml`);
  const env = { ...process.env, CIB_file: cib, LC_ALL: "C" };
  writeFileSync(cib, execFileSync("cibadmin", ["--empty"]));
  execFileSync("crm_attribute", ["-t", "crm_config", "-n", "stonith-enabled", "-v", "false"], { env });
  for (const [id, uname] of [["1", "n1"], ["2", "n2"]]) execFileSync("cibadmin", ["-C", "-o", "nodes", "-X", `<node id="${id}" uname="${uname}"/>`], { env });
  const r = spawnSync(CLI, [...stack, "--fencing", "none", "--apply", "--cib", cib, "--quiet"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`stack apply: ${r.stderr}`);
  for (const c of after) execFileSync("pcs", ["-f", cib, ...c], { stdio: "ignore" });
  const up = join(dir, `${name}-up.xml`);
  const run = join(dir, `${name}-run.xml`);
  spawnSync("crm_simulate", ["-x", cib, "-q", "1", "-u", "n1", "-u", "n2", "-O", up]);
  // promotion scores, as a promotable agent sets them with crm_attribute
  for (const [n, attr] of Object.entries(scores)) execFileSync("crm_attribute", ["-N", n, "-n", attr, "-v", "10000", "-l", "reboot"], { env: { ...env, CIB_file: up } });
  return run.length && spawnSync("crm_simulate", ["-x", up, "-S", "-O", run]).status === 0 ? run : up;
}

function status(cib: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(CLI, ["status", ...args], {
    encoding: "utf8",
    // no tgtd, configfs or DRBD of this host (other suites may run them): only the fixtures count
    env: { ...process.env, CIB_file: cib, TGT_IPC_SOCKET: join(dir, "no-tgtd"), TSSTOR_CONFIGFS_ROOT: join(dir, "no-configfs"), TSSTOR_PROC_ROOT: join(dir, "no-proc"), NO_COLOR: "1", ...env },
  });
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

const norm = (s: string) => s.replace(/\((\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4})\)/g, "(<time>)").split(dir).join("<dir>");

function expectFile(t: Test, name: string, actual: string): void {
  const f = join(EXPECTED, name);
  if (process.env.TSSTOR_UPDATE_EXPECTED || !existsSync(f)) {
    writeFileSync(f, actual);
    if (!process.env.TSSTOR_UPDATE_EXPECTED) t.fail(`${name} did not exist: written, review it`);
    return;
  }
  t.equal(actual, readFileSync(f, "utf8"), `matches expected/${name}`);
}

t.test("GFS2 on both nodes: mounts, lock table, DLM members", { skip }, async (t) => {
  const cib = cluster("gfs2", ["stack", "gfs2", "--fs", "vg1/lv1:/srv/gfs"]);
  const mountinfo = join(dir, "mountinfo");
  writeFileSync(mountinfo, "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n95 22 253:3 / /srv/gfs rw,noatime shared:40 - gfs2 /dev/mapper/vg1-lv1 rw,seclabel\n");
  const sys = join(dir, "sys");
  mkdirSync(join(sys, "fs", "gfs2", "tsr:gfs"), { recursive: true });
  writeFileSync(join(sys, "fs", "gfs2", "tsr:gfs", "id"), "253:3\n");
  writeFileSync(join(sys, "fs", "gfs2", "tsr:gfs", "withdraw"), "0\n");
  const env = { TSSTOR_MOUNTINFO: mountinfo, TSSTOR_SYSFS_ROOT: sys, PATH: `${FAKES}:${process.env.PATH}`, TSSTOR_FAKE_DLM: "gfs" };
  const r = status(cib, ["--node", "n1"], env);
  t.equal(r.code, 0, r.stderr);
  expectFile(t, "gfs2.txt", norm(r.stdout));
  const j = JSON.parse(status(cib, ["--node", "n1", "--json"], env).stdout);
  const fs = j.stacks[0].filesystems[0];
  t.same(fs.dlmMembers, ["n1", "n2"], "DLM member node ids mapped to node names");
  t.equal(fs.lockTable, "tsr:gfs");
  t.same(fs.nodes[0], { node: "n1", started: true, mounted: true, readOnly: false, withdrawn: false, dlmMember: true });
  // a withdrawn filesystem, and one Pacemaker thinks mounted that is not
  writeFileSync(join(sys, "fs", "gfs2", "tsr:gfs", "withdraw"), "1\n");
  t.match(status(cib, ["--node", "n1"], env).stdout, /n1 +mounted rw, WITHDRAWN, DLM member +this node/);
  writeFileSync(mountinfo, "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n");
  t.match(status(cib, ["--node", "n1"], env).stdout, /n1 +NOT mounted +this node/);
});

t.test("LIO: LUNs from configfs, logged-in and demo-mode initiators, a VIP missing here", { skip }, async (t) => {
  const IQN = "iqn.2003-01.org.example:storage";
  const INIT = "iqn.1993-08.org.debian:01:client";
  const cib = cluster("lio", ["stack", "iscsi", "--no-drbd", "--iqn", IQN, "--lun", "1:/dev/vg1/lun1", "--ip", "192.0.2.200/24", "--implementation", "lio-t", "--initiator", INIT]);
  const cfs = join(dir, "configfs");
  const tpg = join(cfs, "target", "iscsi", IQN, "tpgt_1");
  const so = join(cfs, "target", "core", "iblock_0", "lun1");
  for (const d of [join(tpg, "lun", "lun_1"), join(tpg, "acls", INIT), join(so, "wwn")]) mkdirSync(d, { recursive: true });
  writeFileSync(join(tpg, "enable"), "1\n");
  symlinkSync("../../../../../core/iblock_0/lun1", join(tpg, "lun", "lun_1", "a1b2c3d4e5"));
  writeFileSync(join(so, "udev_path"), "/dev/vg1/lun1\n");
  writeFileSync(join(so, "wwn", "vpd_unit_serial"), "T10 VPD Unit Serial Number: 1c2f3a4b\n");
  // as lio_target_nacl_info_show prints a logged-in session
  writeFileSync(
    join(tpg, "acls", INIT, "info"),
    `InitiatorName: ${INIT}\nInitiatorAlias: client\nLIO Session ID: 1   ISID: 0x00 02 3d 00 00 02  TSIH: 1  SessionType: Normal\nSession State: TARG_SESS_STATE_LOGGED_IN\n---------------------[iSCSI Session Values]-----------------------\n  CmdSN/WR  :  CmdSN/WC  :  ExpCmdSN  :  MaxCmdSN  :     ITT    :     TTT\n 0x00000010   0x00000010   0x00001f53   0x00001f62   0x531f0000   0x00000d81\n----------------------[iSCSI Connections]-------------------------\nCID: 0  Connection State: TARG_CONN_STATE_LOGGED_IN\n   Address 192.0.2.101 TCP  StatSN: 0x6916c3e9\n`,
  );
  writeFileSync(join(tpg, "dynamic_sessions"), "iqn.2024-01.org.example:demo\n");
  const r = status(cib, ["--node", "n1"], { TSSTOR_CONFIGFS_ROOT: cfs });
  t.equal(r.code, 1, "exit 1: the VIP Pacemaker runs here is not on this host");
  expectFile(t, "lio.txt", norm(r.stdout));
  t.match(r.stdout, /192\.0\.2\.200\/24 +iscsi-ip1 +on n1 +\(MISSING on this node\)/, "Pacemaker runs the VIP here, the kernel does not have it");
  // no session: said so
  writeFileSync(join(tpg, "acls", INIT, "info"), `No active iSCSI Session for Initiator Endpoint: ${INIT}\n`);
  writeFileSync(join(tpg, "dynamic_sessions"), "");
  t.match(status(cib, ["--node", "n1"], { TSSTOR_CONFIGFS_ROOT: cfs }).stdout, /no initiator logged in/);
  // seen from the node that does not serve it
  const other = join(dir, "configfs-n2");
  mkdirSync(join(other, "target", "iscsi"), { recursive: true });
  t.match(status(cib, ["--node", "n2"], { TSSTOR_CONFIGFS_ROOT: other }).stdout, /logged-in initiators are visible on n1 only/);
  // the same target also alive on the node Pacemaker does not run it on: flagged
  const stray = status(cib, ["--node", "n2"], { TSSTOR_CONFIGFS_ROOT: cfs });
  t.equal(stray.code, 1);
  t.match(stray.stdout, /ALSO served by this node, where Pacemaker does not run iscsi-target/);
});

t.test("DRBD 8.4 (sh-status, one peer called \"peer\") on the simulator", { skip }, async (t) => {
  const sim = makeSim({ nodes: ["n1", "n2"], kernel: "8.4.11", prefix: "status-drbd84" });
  t.teardown(() => rmSync(sim.dir, { recursive: true, force: true }));
  for (const n of ["n1", "n2"]) t.equal(sim.tool(n, "drbdadm", ["-c", sim.conf, "up", "r0"]).code, 0);
  t.equal(sim.tool("n1", "drbdadm", ["-c", sim.conf, "primary", "r0"]).code, 0);
  const cib = cluster(
    "drbd84",
    ["stack", "drbd-fs", "--drbd-resource", "r0", "--drbdconf", sim.conf, "--device", sim.dev(10), "--directory", "/srv/data", "--ip", "192.0.2.210/24"],
    [],
    { n1: "master-drbdfs-drbd" },
  );
  const env = { ...sim.env("n1"), PATH: `${sim.bin}:${process.env.PATH}` };
  const r = status(cib, ["--node", "n1"], env);
  t.equal(r.code, 1, "exit 1: the simulated cluster's mount and VIP are not on this host");
  expectFile(t, "drbd84.txt", norm(r.stdout).split(sim.dir).join("<sim>"));
  const j = JSON.parse(status(cib, ["--node", "n1", "--json"], env).stdout);
  t.same(
    j.stacks[0].drbd[0].nodes.map((n: { node: string; role: string; disk: string; source: string }) => [n.node, n.role, n.disk, n.source]),
    [["n1", "Primary", "UpToDate", "local"], ["n2", "Secondary", "UpToDate", "peer"]],
    "8.4's single peer is the other node",
  );
});

t.test("errors: no cluster, bad options", { skip }, async (t) => {
  const r = status(join(dir, "absent.xml"), []);
  t.equal(r.code, 2);
  t.match(r.stderr, /^tsstor status: crm_mon --output-as=xml failed: .*\(is Pacemaker running on this node\?\)/);
  const i = status(join(dir, "absent.xml"), ["--interval", "0"]);
  t.equal(i.code, 2);
  t.match(i.stderr, /--interval must be a positive number/);
  const c = status(join(dir, "absent.xml"), ["--color", "sometimes"]);
  t.equal(c.code, 2);
});

t.test("--cluster-only and a host that is not a node: Pacemaker's view only, said so", { skip }, async (t) => {
  const cib = cluster("plain", ["stack", "iscsi", "--no-drbd", "--iqn", "iqn.2003-01.org.example:x", "--lun", "1:/dev/vg1/x", "--ip", "192.0.2.220/24", "--allow-any-initiator"]);
  const a = status(cib, ["--cluster-only"]);
  t.equal(a.code, 0, a.stderr);
  t.notMatch(a.stdout, /this node/);
  const b = status(cib, ["--node", "elsewhere"]);
  t.match(b.stdout, /note: this host is not one of the cluster's nodes/);
});
