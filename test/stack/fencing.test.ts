// `tsstor stack ... --fencing METHOD` black box: what each method prints, --apply making exactly the
// script's calls (node steps, the live-CIB check, one transaction) against stand-in pcs/sbd, the
// real pcs accepting every method's CIB commands (pcs -f on a CIB file), every bad input refused
// with exit 2 before any pcs call, and no password ever in the script, the pcs argv or an error.
import t from "tap";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scratchDir } from "../lib/harness.js";
import { installAgents } from "../lib/install.js";
import { REPO } from "../lib/xml.js";
import { builtAgents } from "./agents.js";
import { cli, fakes, norm } from "./fake-pcs.js";

const tmp = scratchDir("stackfence");
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
const { env: fakeEnv, calls, sbdDir } = fakes(tmp);
const built = builtAgents();
let logs = 0;
const newLog = () => join(tmp, `pcs-${logs++}.log`);

// ---- fixtures: corosync.conf of 2 nodes (two_node), 3 nodes, 2 nodes + quorum device; drbd.conf ----
const FIX = join(REPO, "test/doctor/fixtures/node/etc");
const COROSYNC2 = join(FIX, "corosync/corosync.conf");
const nodelist = (names: string[]) => names.map((n, i) => `\tnode {\n\t\tring0_addr: 10.233.0.${i + 1}\n\t\tname: ${n}\n\t\tnodeid: ${i + 1}\n\t}\n`).join("");
function write(name: string, text: string, mode = 0o644): string {
  const f = join(tmp, name);
  writeFileSync(f, text);
  chmodSync(f, mode);
  return f;
}
const COROSYNC3 = write("corosync3.conf", `totem {\n\tversion: 2\n\tcluster_name: tsstor\n}\nnodelist {\n${nodelist(["n1", "n2", "n3"])}}\nquorum {\n\tprovider: corosync_votequorum\n}\n`);
const COROSYNCQ = write(
  "corosyncq.conf",
  `totem {\n\tversion: 2\n\tcluster_name: tsstor\n}\nnodelist {\n${nodelist(["n1", "n2"])}}\nquorum {\n\tprovider: corosync_votequorum\n\tdevice {\n\t\tmodel: net\n\t\tnet {\n\t\t\thost: 10.233.0.9\n\t\t\talgorithm: ffsplit\n\t\t}\n\t}\n}\n`,
);
/** the fixture node's DRBD 9 r0: resource-and-stonith with the .9.sh handlers */
const DRBD_STONITH = join(FIX, "drbd.conf");
const drbdRes = (body: string) => `resource "r0" {\n\tdevice minor 1;\n\tdisk "/dev/vdb";\n\tmeta-disk internal;\n${body}\n}\n`;
const HOSTS3 = `\ton "n1" {\n\t\tnode-id 0;\n\t\taddress 10.233.0.1:7789;\n\t}\n\ton "n2" {\n\t\tnode-id 1;\n\t\taddress 10.233.0.2:7789;\n\t}\n\ton "n3" {\n\t\tnode-id 2;\n\t\tdisk none;\n\t\taddress 10.233.0.3:7789;\n\t}\n\tconnection-mesh {\n\t\thosts n1 n2 n3;\n\t}`;
const quorumConf = (onNoQuorum: string) => write(`drbd-q-${onNoQuorum}.conf`, drbdRes(`\toptions {\n\t\tauto-promote no;\n\t\tquorum majority;\n\t\ton-no-quorum ${onNoQuorum};\n\t}\n${HOSTS3}`));
const DRBD_Q_IOERR = quorumConf("io-error");
const DRBD_Q_SUSPEND = quorumConf("suspend-io");
const DRBD_NOFENCE = write("drbd-nofence.conf", drbdRes(`\toptions {\n\t\tauto-promote no;\n\t}\n${HOSTS3}`));

const SECRET = "Sup3r-s3cret-BMC-pw";
const PWFILE = write("bmc.pw", `${SECRET}\n`, 0o600);
const PWFILE_OPEN = write("bmc-open.pw", `${SECRET}\n`, 0o644);
const PWFILE_EMPTY = write("bmc-empty.pw", "\n", 0o600);

const IQN = "iqn.2003-01.org.example:storage";
const ISCSI = ["stack", "iscsi", "--drbd-resource", "r0", "--iqn", IQN, "--lun", "1:/dev/drbd1", "--ip", "10.233.1.200/24", "--initiator", "iqn.1993-08.org.debian:01:client"];
const DRBDFS = ["stack", "drbd-fs", "--drbd-resource", "r0", "--device", "/dev/drbd1", "--directory", "/srv/data", "--ip", "10.233.1.210/24"];
const GFS2 = ["stack", "gfs2", "--fs", "vg1/lv1:/srv/gfs2"];
const SBD3 = ["--fencing", "sbd", "--sbd-device", "/dev/loop0", "--sbd-device", "/dev/loop1", "--sbd-device", "/dev/loop2"];
const AGENT = ["--fencing", "agent", "--fence-agent", "fence_ipmilan", "--fence-param", "n1:ip=10.233.9.1", "--fence-param", "n2:ip=10.233.9.2", "--fence-param", "username=admin", "--fence-param", "lanplus=1", "--fence-password-file", PWFILE];

const bashOk = (script: string) => spawnSync("bash", ["-n"], { input: script }).status === 0;
const pcsLines = (script: string) => script.split("\n").filter((l) => /^pcs /.test(l));

/** A CIB as `pcs cluster cib` returns it from a cluster where sbd runs (or not). */
function liveCib(name: string, haveWatchdog: boolean): string {
  const f = join(tmp, `${name}.xml`);
  writeFileSync(f, execFileSync("cibadmin", ["--empty"]));
  if (haveWatchdog) execFileSync("crm_attribute", ["-t", "crm_config", "-n", "have-watchdog", "-v", "true"], { env: { ...process.env, CIB_file: f } });
  return f;
}
const SBD_LIVE = liveCib("live-sbd", true);
const NO_SBD_LIVE = liveCib("live-nosbd", false);

t.test("no --fencing: refused with the five methods, one line each, and nothing runs", async (t) => {
  for (const args of [ISCSI, GFS2, DRBDFS]) {
    const log = newLog();
    const r = cli([...args, "--apply"], fakeEnv(log));
    t.equal(r.code, 2, args[1]!);
    t.match(r.stderr, /--fencing is required/);
    for (const m of ["sbd", "watchdog", "agent", "drbd-quorum", "none"]) t.match(r.stderr, new RegExp(`\\n  --fencing ${m} +\\S.*\\n`), `${args[1]}: ${m} explained`);
    t.match(r.stderr, /nothing was run\.\n$/);
    t.same(calls(log), [], "no pcs call");
  }
  for (const m of ["stonith", "toString"]) {
    const bad = cli([...GFS2, "--fencing", m]);
    t.equal(bad.code, 2);
    t.match(bad.stderr, new RegExp(`--fencing: "${m}" is not a fencing method; one of:\\n  --fencing sbd`));
  }
});

t.test("--fencing none: the WARNING lines, and the cluster's fencing left as it is", async (t) => {
  for (const args of [ISCSI, GFS2, DRBDFS]) {
    const r = cli([...args, "--fencing", "none"]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /# WARNING: without fencing/, `${args[1]}: the warning stays`);
    t.match(r.stdout, /--fencing none: this stack adds no fencing and leaves the cluster's fencing settings as they are/);
    t.notMatch(r.stdout, /pcs -f "\$work\/new.xml" (stonith|property set stonith)/, "no stonith command, no stonith-enabled change");
    t.ok(bashOk(r.stdout));
  }
});

t.test("--fencing sbd: device setup and enabling only when asked, fence_sbd, timeouts derived", async (t) => {
  const full = cli([...ISCSI, "--drbdconf", DRBD_STONITH, ...SBD3, "--sbd-init", "--sbd-enable", "--corosync-conf", COROSYNC2]);
  t.equal(full.code, 0, full.stderr);
  const s = full.stdout;
  t.match(s, /# Initialise SBD on \/dev\/loop0, \/dev\/loop1, \/dev\/loop2 \(--sbd-init\): ERASES the start of each device/);
  t.same(pcsLines(s).slice(0, 4), [
    "pcs stonith sbd device setup device=/dev/loop0 device=/dev/loop1 device=/dev/loop2 watchdog-timeout=5 msgwait-timeout=10 --force",
    "pcs stonith sbd enable watchdog=/dev/watchdog device=/dev/loop0 device=/dev/loop1 device=/dev/loop2 SBD_WATCHDOG_TIMEOUT=5",
    "pcs cluster stop --all",
    "pcs cluster start --all --wait=300",
  ], "node steps first, in order");
  t.match(s, /# EVERY RESOURCE OF THE CLUSTER STOPS until the cluster is back/);
  t.match(s, /crm_attribute --type crm_config --name have-watchdog --query --quiet .*\|\| \{ echo 'tsstor: the cluster does not report sbd running/, "the push waits for sbd");
  t.match(s, /\npcs -f "\$work\/new.xml" stonith create fence-sbd fence_sbd devices=\/dev\/loop0,\/dev\/loop1,\/dev\/loop2 pcmk_delay_max=15s\n/, "two nodes: a random delay");
  // max(1.2 x (10 + 15), 60) + token 3 + consensus 3.6 = 66.6; 2 x msgwait = 20
  t.match(s, /\npcs -f "\$work\/new.xml" property set stonith-enabled=true stonith-timeout=67s\n/);
  t.match(s, /DRBD r0 \(.*DRBD 9\): fencing resource-and-stonith with the crm-fence-peer handlers: checked/);
  t.notMatch(s, /WARNING: without fencing/, "the warning is for --fencing none only");
  t.ok(bashOk(s));
  t.ok(s.indexOf("device setup") < s.indexOf('pcs cluster cib "$work/orig.xml"'), "node steps before the CIB transaction");

  // without --sbd-init the timeouts come from the devices' headers (here: 30 s / 60 s)
  const hdr = cli([...GFS2, ...SBD3, "--corosync-conf", COROSYNC2], fakeEnv(newLog(), { SBD_WATCHDOG: "30", SBD_MSGWAIT: "60" }));
  t.equal(hdr.code, 0, hdr.stderr);
  t.same(pcsLines(hdr.stdout).filter((l) => !/^pcs (-f|cluster cib)/.test(l)), [], "no node step unless asked");
  t.match(hdr.stdout, /watchdog timeout 30 s, msgwait 60 s \(read from the devices' headers\)/);
  // sbd(8)'s 2 x msgwait (120) beats max(1.2 x 75, 60) + 6.6 = 96.6
  t.match(hdr.stdout, /property set stonith-enabled=true stonith-timeout=120s\n/);
  t.match(hdr.stdout, /sbd must already run on every node/);
  const mismatch = cli([...GFS2, ...SBD3, "--sbd-watchdog-timeout", "10", "--corosync-conf", COROSYNC2], fakeEnv(newLog(), { SBD_WATCHDOG: "30", SBD_MSGWAIT: "60" }));
  t.equal(mismatch.code, 2);
  t.match(mismatch.stderr, /was initialised with watchdog 30 s and msgwait 60 s: drop --sbd-watchdog-timeout/);

  // three nodes: no delay; token 3000 + 650 ms, consensus 1.2 x that: max(12, 60) + 8.03 = 68.03
  const three = cli([...GFS2, "--fencing", "sbd", "--sbd-device", "/dev/loop0", "--sbd-init", "--corosync-conf", COROSYNC3]);
  t.equal(three.code, 0, three.stderr);
  t.match(three.stdout, /stonith create fence-sbd fence_sbd devices=\/dev\/loop0\n/);
  t.match(three.stdout, /stonith-timeout=69s\n/);
  t.match(three.stdout, /One SBD device: losing it does not fence anyone/);
});

t.test("--fencing sbd --apply: the script's calls exactly; refused before the push while sbd is not running", async (t) => {
  const args = [...ISCSI, "--drbdconf", DRBD_STONITH, ...SBD3, "--sbd-init", "--sbd-enable", "--corosync-conf", COROSYNC2];
  const logScript = newLog();
  const script = cli(args).stdout;
  t.equal(spawnSync("bash", ["-c", script], { env: { ...process.env, ...fakeEnv(logScript, { FAKE_CIB: SBD_LIVE }) } }).status, 0);
  const logApply = newLog();
  const r = cli([...args, "--apply", "--quiet"], fakeEnv(logApply, { FAKE_CIB: SBD_LIVE }));
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /stack applied: iscsi-drbd-clone, .*; fencing sbd: fence-sbd\n/);
  const a = norm(calls(logApply));
  t.same(a, norm(calls(logScript)), "same calls as the printed script");
  t.same(a.slice(0, 4).map((c) => c.slice(0, 4).join(" ")), ["stonith sbd device setup", "stonith sbd enable watchdog=/dev/watchdog", "cluster stop --all", "cluster start --all --wait=300"]);
  t.same(a[4], ["cluster", "cib", "<orig>"]);
  t.same(a[a.length - 1], ["cluster", "cib-push", "<new>", "diff-against=<orig>"]);

  const noSbd = newLog();
  const n = cli([...GFS2, ...SBD3, "--corosync-conf", COROSYNC2, "--apply"], fakeEnv(noSbd, { FAKE_CIB: NO_SBD_LIVE, SBD_WATCHDOG: "5", SBD_MSGWAIT: "10" }));
  t.equal(n.code, 1);
  t.match(n.stderr, /the cluster does not report sbd running \(have-watchdog is not true\)/);
  t.same(calls(noSbd), [["cluster", "cib", calls(noSbd)[0]![2]!]], "only the CIB was read: no pcs -f, no cib-push");
  const sh = newLog();
  const viaScript = spawnSync("bash", ["-c", cli([...GFS2, ...SBD3, "--corosync-conf", COROSYNC2], fakeEnv(newLog(), { SBD_WATCHDOG: "5", SBD_MSGWAIT: "10" })).stdout], {
    encoding: "utf8",
    env: { ...process.env, ...fakeEnv(sh, { FAKE_CIB: NO_SBD_LIVE }) },
  });
  t.equal(viaScript.status, 1, "the script stops too");
  t.match(viaScript.stderr, /tsstor: the cluster does not report sbd running/);
  t.equal(calls(sh).length, 1);

  const failing = newLog();
  const f = cli([...args, "--apply", "--quiet"], fakeEnv(failing, { FAKE_CIB: SBD_LIVE, FAIL_AT: "2" }));
  t.equal(f.code, 1);
  t.match(f.stderr, /pcs stonith sbd enable .* failed \(after: pcs stonith sbd device setup .*\); the CIB was not changed/);
  t.equal(calls(failing).length, 2, "nothing after the failed node step");
  const onFile = cli([...args, "--apply", "--cib", join(tmp, "x.xml")]);
  t.equal(onFile.code, 2);
  t.match(onFile.stderr, /--sbd-init and --sbd-enable act on the cluster nodes, not on a CIB file/);
});

t.test("--fencing sbd refusals: device count, not a block device, missing, no header, msgwait, options of other methods", async (t) => {
  const cases: Array<{ args: string[]; env?: Record<string, string>; want: RegExp[] }> = [
    { args: ["--fencing", "sbd", "--corosync-conf", COROSYNC2], want: [/--sbd-device: SBD uses one to three shared devices/] },
    { args: [...SBD3, "--sbd-device", "/dev/loop3", "--sbd-init", "--corosync-conf", COROSYNC2], want: [/--sbd-device: 4 devices given; SBD uses one to three/] },
    {
      args: ["--fencing", "sbd", "--sbd-device", "/dev/null", "--sbd-device", "/dev/tsstor-no-such-disk", "--sbd-device", "/dev/null", "--sbd-init", "--corosync-conf", COROSYNC2],
      want: [/--sbd-device \/dev\/null: not a block device/, /--sbd-device \/dev\/tsstor-no-such-disk: no such device here/, /--sbd-device: "\/dev\/null" given twice/],
    },
    { args: ["--fencing", "sbd", "--sbd-device", "dev/loop0", "--sbd-init", "--corosync-conf", COROSYNC2], want: [/--sbd-device: "dev\/loop0" is not a plain absolute path/] },
    { args: [...SBD3, "--corosync-conf", COROSYNC2], want: [/\/dev\/loop0 has no readable SBD header \(sbd -d \/dev\/loop0 dump failed\): pass --sbd-init/] },
    { args: [...SBD3, "--corosync-conf", COROSYNC2], env: { PATH: "/nonexistent" }, want: [/cannot read the SBD header of \/dev\/loop0: sbd is not installed here/] },
    { args: [...SBD3, "--sbd-init", "--sbd-watchdog-timeout", "10", "--sbd-msgwait", "15", "--corosync-conf", COROSYNC2], want: [/--sbd-msgwait 15: must be at least twice the watchdog timeout \(20\)/] },
    { args: [...SBD3, "--sbd-init", "--corosync-conf", join(tmp, "nonexistent.conf")], want: [/cannot read .*nonexistent\.conf \(ENOENT\): --fencing sbd needs the cluster's corosync\.conf .*pass a copy with --corosync-conf FILE/] },
    {
      args: [...SBD3, "--sbd-init", "--corosync-conf", COROSYNC2, "--fence-agent", "fence_ipmilan", "--fence-param", "n1:ip=10.0.0.1", "--on-no-quorum", "io-error"],
      want: [/--fence-agent is an option of --fencing agent, not of --fencing sbd/, /--fence-param is an option of --fencing agent/, /--on-no-quorum is an option of --fencing drbd-quorum, not of --fencing sbd/],
    },
  ];
  for (const c of cases) {
    const log = newLog();
    const r = cli([...GFS2, ...c.args, "--apply"], { ...fakeEnv(log), ...(c.env ?? {}) });
    t.equal(r.code, 2, c.args.join(" "));
    for (const w of c.want) t.match(r.stderr, w);
    t.match(r.stderr, /nothing was run\.\n$/);
    t.same(calls(log), [], "no pcs call");
  }
  const other = cli([...GFS2, "--fencing", "agent", "--fence-agent", "fence_ipmilan", "--fence-param", "n1:ip=1", "--fence-param", "n2:ip=2", "--sbd-device", "/dev/loop0", "--sbd-enable", "--corosync-conf", COROSYNC2]);
  t.equal(other.code, 2);
  t.match(other.stderr, /--sbd-device is an option of --fencing sbd, not of --fencing agent/);
  t.match(other.stderr, /--sbd-enable is an option of --fencing sbd\|watchdog, not of --fencing agent/);
});

t.test("--fencing watchdog: three nodes or a quorum device; stonith-watchdog-timeout = 2 x SBD_WATCHDOG_TIMEOUT", async (t) => {
  const r = cli([...GFS2, "--fencing", "watchdog", "--corosync-conf", COROSYNC3, "--sbd-enable"]);
  t.equal(r.code, 0, r.stderr);
  t.same(pcsLines(r.stdout).slice(0, 3), ["pcs stonith sbd enable watchdog=/dev/watchdog SBD_WATCHDOG_TIMEOUT=5", "pcs cluster stop --all", "pcs cluster start --all --wait=300"]);
  // max(1.2 x 10, 60) + 3.65 + 4.38
  t.match(r.stdout, /\npcs -f "\$work\/new.xml" property set stonith-enabled=true stonith-watchdog-timeout=10s stonith-timeout=69s\n/);
  t.match(r.stdout, /have-watchdog/);
  t.notMatch(r.stdout, /stonith create/);
  const q = cli([...GFS2, "--fencing", "watchdog", "--corosync-conf", COROSYNCQ]);
  t.equal(q.code, 0, q.stderr);
  // with a quorum device the watchdog must outlast qdevice's sync_timeout (30 s): 35; 1.2 x 70 + 6.6
  t.match(q.stdout, /stonith-watchdog-timeout=70s stonith-timeout=91s\n/);
  const short = cli([...GFS2, "--fencing", "watchdog", "--corosync-conf", COROSYNCQ, "--sbd-watchdog-timeout", "20"]);
  t.equal(short.code, 2);
  t.match(short.stderr, /--sbd-watchdog-timeout 20: with a quorum device it must exceed the qdevice sync_timeout \(30 s\)/);
  const two = cli([...GFS2, "--fencing", "watchdog", "--corosync-conf", COROSYNC2, "--apply"], fakeEnv(newLog()));
  t.equal(two.code, 2);
  t.match(two.stderr, /--fencing watchdog needs three or more nodes or a quorum device: .* lists 2 node\(s\) and no quorum device/);
  const none = cli([...GFS2, "--fencing", "watchdog", "--corosync-conf", join(tmp, "missing/corosync.conf")]);
  t.equal(none.code, 2);
  t.match(none.stderr, /cannot read .*missing\/corosync\.conf \(ENOENT\): --fencing watchdog needs the cluster's corosync\.conf .*--corosync-conf FILE/);
  const init = cli([...GFS2, "--fencing", "watchdog", "--corosync-conf", COROSYNC3, "--sbd-init", "--sbd-device", "/dev/loop0"]);
  t.equal(init.code, 2);
  t.match(init.stderr, /--sbd-device is an option of --fencing sbd, not of --fencing watchdog/);
  t.match(init.stderr, /--sbd-init is an option of --fencing sbd, not of --fencing watchdog/);
});

t.test("--fencing agent: one device per node, password only as password_script, delay on one device", async (t) => {
  const log = newLog();
  const r = cli([...DRBDFS, "--drbdconf", DRBD_STONITH, ...AGENT, "--corosync-conf", COROSYNC2]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, new RegExp(`\\npcs -f "\\$work/new.xml" stonith create fence-n1 fence_ipmilan username=admin lanplus=1 ip=10.233.9.1 'password_script=cat ${PWFILE}' pcmk_host_list=n1 pcmk_delay_max=15s\\n`));
  t.match(r.stdout, new RegExp(`\\npcs -f "\\$work/new.xml" stonith create fence-n2 fence_ipmilan username=admin lanplus=1 ip=10.233.9.2 'password_script=cat ${PWFILE}' pcmk_host_list=n2\\n`));
  t.match(r.stdout, /property set stonith-enabled=true\n/);
  t.ok(bashOk(r.stdout));
  const a = cli([...DRBDFS, "--drbdconf", DRBD_STONITH, ...AGENT, "--corosync-conf", COROSYNC2, "--apply"], fakeEnv(log));
  t.equal(a.code, 0, a.stderr);
  t.match(a.stderr, /fencing agent: fence-n1, fence-n2/);
  for (const out of [r.stdout, r.stderr, a.stdout, a.stderr, readFileSync(log, "utf8")]) t.notMatch(out, SECRET, "the password is nowhere: script, output, pcs argv");

  const map = cli([...GFS2, "--fencing", "agent", "--fence-agent", "fence_apc_snmp", "--fence-param", "ip=10.233.9.50", "--fence-host-map", "n1:1", "--fence-host-map", "n2:2", "--corosync-conf", COROSYNC2]);
  t.equal(map.code, 0, map.stderr);
  t.match(map.stdout, /stonith create fence-apc_snmp fence_apc_snmp ip=10.233.9.50 'pcmk_host_map=n1:1;n2:2' pcmk_delay_max=15s\n/);
  const three = cli([...GFS2, "--fencing", "agent", "--fence-agent", "fence_ipmilan", "--fence-param", "n1:ip=1.0.0.1", "--fence-param", "n2:ip=1.0.0.2", "--fence-param", "n3:ip=1.0.0.3", "--corosync-conf", COROSYNC3]);
  t.equal(three.code, 0, three.stderr);
  t.notMatch(three.stdout, /pcmk_delay_max/, "no fence race with three nodes");
});

t.test("--fencing agent refusals; a password on the command line is refused and never echoed", async (t) => {
  const cases: Array<{ args: string[]; want: RegExp[] }> = [
    { args: ["--fencing", "agent", "--fence-agent", "fence_tsstor_nope", "--fence-param", "n1:ip=1", "--fence-param", "n2:ip=2"], want: [/--fence-agent fence_tsstor_nope: no such fence agent in \/usr\/sbin/] },
    { args: ["--fencing", "agent", "--fence-agent", "../sbin/fence_ipmilan", "--fence-param", "n1:ip=1", "--fence-param", "n2:ip=2"], want: [/--fence-agent: "..\/sbin\/fence_ipmilan" is not a fence agent name/] },
    { args: ["--fencing", "agent", "--fence-param", "n1:ip=1"], want: [/--fencing agent needs --fence-agent NAME/] },
    { args: ["--fencing", "agent", "--fence-agent", "fence_ipmilan", "--fence-param", "n1:ip=1"], want: [/node n2 \(.*corosync\.conf\) has no fence device: add --fence-param n2:KEY=VALUE/] },
    { args: ["--fencing", "agent", "--fence-agent", "fence_ipmilan", "--fence-param", "n1:ip=1", "--fence-param", "n2:ip=2", "--fence-param", "n9:ip=9"], want: [/"n9" is not a node of .*corosync\.conf \(n1, n2\)/] },
    { args: ["--fencing", "agent", "--fence-agent", "fence_ipmilan", "--fence-param", "n1:ip=1", "--fence-param", "n2:ip=2", "--fence-param", "pcmk_host_list=n1"], want: [/--fence-param pcmk_host_list: set by tsstor/] },
    { args: ["--fencing", "agent", "--fence-agent", "fence_ipmilan", "--fence-param", "n1:ip=1", "--fence-param", "n2:ip=2", "--fence-password-file", PWFILE_OPEN], want: [/--fence-password-file: .*bmc-open\.pw is accessible to group or others \(mode 644\): chmod 600 it/] },
    { args: ["--fencing", "agent", "--fence-agent", "fence_ipmilan", "--fence-param", "n1:ip=1", "--fence-param", "n2:ip=2", "--fence-password-file", join(tmp, "none.pw")], want: [/--fence-password-file: .*none\.pw does not exist on this node \(the file must exist at this path on every node, mode 0600\)/] },
    { args: ["--fencing", "agent", "--fence-agent", "fence_ipmilan", "--fence-param", "n1:ip=1", "--fence-param", "n2:ip=2", "--fence-password-file", PWFILE_EMPTY], want: [/--fence-password-file: .*bmc-empty\.pw is empty \(the secret is its first line\)/] },
    { args: ["--fencing", "agent", "--fence-agent", "fence_ipmilan", "--fence-host-map", "n1:1", "--fence-param", "n1:ip=1"], want: [/--fence-host-map makes one device for every node: give its parameters as --fence-param KEY=VALUE/] },
    { args: ["--fencing", "agent", "--fence-agent", "fence_ipmilan"], want: [/--fencing agent: give each node's parameters \(--fence-param NODE:KEY=VALUE/] },
  ];
  for (const c of cases) {
    const log = newLog();
    const r = cli([...GFS2, ...c.args, "--corosync-conf", COROSYNC2, "--apply"], fakeEnv(log));
    t.equal(r.code, 2, c.args.join(" "));
    for (const w of c.want) t.match(r.stderr, w);
    t.same(calls(log), [], "no pcs call");
  }
  // a password anywhere in argv: as a fence parameter (any case), as a service parameter, as an option
  for (const extra of [
    ["--fence-param", `n1:password=${SECRET}`],
    ["--fence-param", `n1:PassWD=${SECRET}`],
    ["--fence-param", `snmp_priv_passwd=${SECRET}`],
    ["--fence-param", `n1:ip=1,password=${SECRET}`],
    ["--password", SECRET],
    [`password=${SECRET}`],
  ]) {
    const log = newLog();
    const r = cli([...GFS2, ...AGENT, ...extra, "--corosync-conf", COROSYNC2, "--apply"], fakeEnv(log));
    t.equal(r.code, 2, extra[0]!);
    t.match(r.stderr, /a password on the command line .*use --fence-password-file FILE/);
    t.match(r.stderr, /nothing was run\.\n$/);
    t.notMatch(r.stderr + r.stdout, SECRET, "the secret is not echoed");
    t.same(calls(log), [], "no pcs call");
  }
  const svc = cli([...DRBDFS, "--fencing", "none", "--service", "ocf:heartbeat:mysql", "--service-param", `password=${SECRET}`]);
  t.equal(svc.code, 2, "any stack option");
  t.notMatch(svc.stderr, SECRET);
});

t.test("--fencing drbd-quorum: DRBD 9 quorum with 3+ nodes, on-no-quorum per stack", async (t) => {
  const fs = cli([...DRBDFS, "--drbdconf", DRBD_Q_IOERR, "--fencing", "drbd-quorum"]);
  t.equal(fs.code, 0, fs.stderr);
  t.match(fs.stdout, /\npcs -f "\$work\/new.xml" property set stonith-enabled=false\n/);
  t.match(fs.stdout, /on-no-quorum io-error: a Primary that loses quorum fails its I\/O/);
  t.notMatch(fs.stdout, /stonith create/);
  const iscsi = cli([...ISCSI, "--drbdconf", DRBD_Q_SUSPEND, "--fencing", "drbd-quorum"]);
  t.equal(iscsi.code, 0, iscsi.stderr);
  t.match(iscsi.stdout, /on-no-quorum suspend-io: a Primary that loses quorum freezes I\/O; initiators retry/);
  const wrong = cli([...ISCSI, "--drbdconf", DRBD_Q_IOERR, "--fencing", "drbd-quorum", "--apply"], fakeEnv(newLog()));
  t.equal(wrong.code, 2);
  t.match(wrong.stderr, /has "on-no-quorum io-error", this stack needs suspend-io \[drbd-on-no-quorum\]\n.*\n  # in resource r0 \(.*:1\) on every node: options \{ on-no-quorum suspend-io; \}/);
  t.equal(cli([...ISCSI, "--drbdconf", DRBD_Q_IOERR, "--fencing", "drbd-quorum", "--on-no-quorum", "io-error"]).code, 0, "--on-no-quorum io-error chooses it");
  const noQ = cli([...DRBDFS, "--drbdconf", DRBD_NOFENCE, "--fencing", "drbd-quorum"]);
  t.equal(noQ.code, 2);
  t.match(noQ.stderr, /has no DRBD quorum .*\[drbd-no-fencing\][\s\S]*# in resource r0 .* options \{ quorum majority; on-no-quorum io-error; \}\n  drbdadm adjust r0/);
  const two = cli([...DRBDFS, "--drbdconf", DRBD_STONITH, "--fencing", "drbd-quorum"]);
  t.equal(two.code, 2);
  t.match(two.stderr, /has no DRBD quorum/);
  const twoQ = write("drbd-q2.conf", readFileSync(DRBD_Q_IOERR, "utf8").replace(/\ton "n3" \{[^}]*\}\n/, "").replace("hosts n1 n2 n3", "hosts n1 n2"));
  const t2 = cli([...DRBDFS, "--drbdconf", twoQ, "--fencing", "drbd-quorum"]);
  t.equal(t2.code, 2);
  t.match(t2.stderr, /relies on quorum with 2 node\(s\) \[drbd-quorum-two-nodes\]/);
  for (const args of [GFS2, ["stack", "iscsi", "--no-drbd", "--iqn", IQN, "--lun", "1:/dev/sdb", "--ip", "10.233.1.200", "--initiator", "iqn.1993-08.org.debian:01:client"]]) {
    const r = cli([...args, "--fencing", "drbd-quorum"]);
    t.equal(r.code, 2);
    t.match(r.stderr, /--fencing drbd-quorum needs DRBD: the (gfs2|iscsi --no-drbd) stack has none/);
  }
  t.match(cli([...DRBDFS, "--drbdconf", DRBD_Q_IOERR, "--fencing", "drbd-quorum", "--on-no-quorum", "panic"]).stderr, /--on-no-quorum: "panic" is not io-error or suspend-io/);
});

t.test("the DRBD half of fencing: wrong configurations refused with the change; unreadable ones need --skip-drbd-check", async (t) => {
  const bad = cli([...DRBDFS, "--drbdconf", DRBD_NOFENCE, ...AGENT, "--corosync-conf", COROSYNC2, "--apply"], fakeEnv(newLog()));
  t.equal(bad.code, 2);
  t.match(bad.stderr, /drbd-nofence\.conf: DRBD resource r0 has no fencing policy \[drbd-no-fencing\]/);
  t.match(bad.stderr, /#   net \{ fencing resource-and-stonith; \}\n  #   handlers \{ fence-peer "\/usr\/lib\/drbd\/crm-fence-peer\.9\.sh"; unfence-peer "\/usr\/lib\/drbd\/crm-unfence-peer\.9\.sh"; \}\n  drbdadm adjust r0/);
  const missing = join(tmp, "nowhere/drbd.conf");
  const unread = cli([...ISCSI, "--drbdconf", missing, ...SBD3, "--sbd-init", "--corosync-conf", COROSYNC2]);
  t.equal(unread.code, 2);
  t.match(unread.stderr, /cannot read the DRBD configuration .*nowhere\/drbd\.conf \(ENOENT\).*or pass --skip-drbd-check/);
  const skipped = cli([...ISCSI, "--drbdconf", missing, ...SBD3, "--sbd-init", "--corosync-conf", COROSYNC2, "--skip-drbd-check"]);
  t.equal(skipped.code, 0, skipped.stderr);
  t.match(skipped.stdout, /# WARNING: .*nowhere\/drbd\.conf NOT checked \(ENOENT, --skip-drbd-check\)\. DRBD resource r0 must have, on every node:\n#   net \{ fencing resource-and-stonith; \}  handlers \{ fence-peer "\/usr\/lib\/drbd\/crm-fence-peer\.9\.sh"/);
  const noDrbd = cli([...GFS2, ...AGENT, "--corosync-conf", COROSYNC2, "--skip-drbd-check"]);
  t.equal(noDrbd.code, 2);
  t.match(noDrbd.stderr, /--skip-drbd-check: the gfs2 stack has no DRBD to check/);
  const readable = cli([...DRBDFS, "--drbdconf", DRBD_NOFENCE, ...AGENT, "--corosync-conf", COROSYNC2, "--skip-drbd-check"]);
  t.equal(readable.code, 2, "a readable configuration is always checked");
  const ghost = cli(["stack", "drbd-fs", "--drbd-resource", "ghost", "--drbdconf", DRBD_STONITH, "--device", "/dev/drbd1", "--directory", "/srv/data", "--ip", "10.233.1.210/24", ...AGENT, "--corosync-conf", COROSYNC2]);
  t.equal(ghost.code, 2);
  t.match(ghost.stderr, /--drbd-resource ghost: not defined in .*drbd\.conf or its includes/);
  const san = cli(["stack", "iscsi", "--no-drbd", "--iqn", IQN, "--lun", "1:/dev/sdb", "--ip", "10.233.1.200", "--initiator", "iqn.1993-08.org.debian:01:client", ...AGENT, "--corosync-conf", COROSYNC2]);
  t.equal(san.code, 0, `--no-drbd: no DRBD to check: ${san.stderr}`);
});

// The real pcs on a CIB file: every method's commands accepted (fence agents' metadata included).
const methods: Array<{ name: string; args: string[]; env?: Record<string, string>; expect: RegExp[] }> = [
  { name: "sbd", args: [...ISCSI, "--drbdconf", DRBD_STONITH, ...SBD3, "--corosync-conf", COROSYNC2], env: { SBD_WATCHDOG: "5", SBD_MSGWAIT: "10" }, expect: [/<primitive id="fence-sbd" class="stonith" type="fence_sbd">/, /name="stonith-timeout" value="67s"/] },
  { name: "watchdog", args: [...GFS2, "--fencing", "watchdog", "--corosync-conf", COROSYNC3], expect: [/name="stonith-watchdog-timeout" value="10s"/, /name="stonith-enabled" value="true"/] },
  { name: "agent", args: [...DRBDFS, "--drbdconf", DRBD_STONITH, ...AGENT, "--corosync-conf", COROSYNC2], expect: [/<primitive id="fence-n1" class="stonith" type="fence_ipmilan">/, /name="password_script" value="cat /, /name="pcmk_host_list" value="n2"/] },
  { name: "drbd-quorum", args: [...DRBDFS, "--drbdconf", DRBD_Q_IOERR, "--fencing", "drbd-quorum"], expect: [/name="stonith-enabled" value="false"/] },
  { name: "none", args: [...GFS2, "--fencing", "none"], expect: [] },
];
for (const m of methods) {
  const agents = m.args[1] === "gfs2" ? ["clvm", "LVM-activate", "Filesystem"] : m.args[1] === "iscsi" ? ["drbd", "iSCSITarget", "iSCSILogicalUnit", "IPaddr2"] : ["drbd", "Filesystem", "IPaddr2"];
  const missing = agents.filter((a) => !built.includes(a));
  t.test(`pcs -f accepts the ${m.name} plan`, { skip: missing.length ? `ocf:tsstor:{${missing.join(",")}} not built` : false }, async (t) => {
    installAgents(agents);
    const cib = join(tmp, `pcs-${m.name}.xml`);
    copyFileSync(NO_SBD_LIVE, cib);
    // the real pcs; only sbd's header reading is a stand-in
    const r = cli([...m.args, "--apply", "--cib", cib, "--quiet"], { PATH: `${sbdDir}:${process.env.PATH}`, ...(m.env ?? {}) });
    t.equal(r.code, 0, r.stderr);
    t.notMatch(r.stderr, /Warning/i, "no pcs warnings");
    const xml = readFileSync(cib, "utf8");
    for (const e of m.expect) t.match(xml, e);
    t.notMatch(xml, SECRET);
    if (m.name === "none") t.notMatch(xml, /stonith/, "none: no fencing change at all");
  });
}
