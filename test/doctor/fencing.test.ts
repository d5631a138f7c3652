// `tsstor stack --fencing ...` through the doctor: the stacks with each method on a clean node
// report nothing but what the method means (drbd-quorum: a warning; none: errors), and the stack
// and the doctor agree on the DRBD half of fencing: the same drbd.conf fixtures get the same
// finding ids from `tsstor doctor` (on the CIB the stack builds) and from `tsstor stack` (which
// refuses exactly when the doctor reports one), because both call drbdFencingFindings.
import t from "tap";
import { spawnSync } from "node:child_process";
import { chmodSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DRBD_FENCING_IDS } from "../../cli/hazards/drbd.js";
import { scratchDir } from "../lib/harness.js";
import { installAgents } from "../lib/install.js";
import { builtAgents } from "../stack/agents.js";
import { cli, fakes } from "../stack/fake-pcs.js";
import { FIXTURE, buildCib, doctor, ids, nodeRoot, type Report } from "./lib.js";

const tmp = scratchDir("doctor-fencing");
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
const { sbdDir } = fakes(tmp);
const built = builtAgents();
const AGENTS = ["drbd", "Filesystem", "IPaddr2", "iSCSITarget", "iSCSILogicalUnit"];
const missing = AGENTS.filter((a) => !built.includes(a));
const skip = missing.length ? `ocf:tsstor:{${missing.join(",")}} not built` : false;
if (!skip) installAgents(AGENTS);

const COROSYNC2 = join(FIXTURE, "etc/corosync/corosync.conf");
const DRBD_GOOD = join(FIXTURE, "etc/drbd.conf");
const COROSYNC3 = join(tmp, "corosync3.conf");
writeFileSync(
  COROSYNC3,
  `totem {\n\tversion: 2\n\tcluster_name: tsstor\n}\nnodelist {\n${["n1", "n2", "n3"].map((n, i) => `\tnode {\n\t\tring0_addr: 10.233.0.${i + 1}\n\t\tname: ${n}\n\t\tnodeid: ${i + 1}\n\t}\n`).join("")}}\nquorum {\n\tprovider: corosync_votequorum\n}\n`,
);
const PW = join(tmp, "bmc.pw");
writeFileSync(PW, "not-on-the-command-line\n");
chmodSync(PW, 0o600);
const CHAP = join(tmp, "chap.secret");
writeFileSync(CHAP, "chap-secret-of-16\n");
chmodSync(CHAP, 0o600);

// ---- drbd.conf fixtures (each checked by drbdadm's own parser) ----
const HOSTS2 = `\ton "n1" {\n\t\tnode-id 0;\n\t\taddress 10.233.0.1:7789;\n\t}\n\ton "n2" {\n\t\tnode-id 1;\n\t\taddress 10.233.0.2:7789;\n\t}`;
const HOSTS3 = `${HOSTS2}\n\ton "n3" {\n\t\tnode-id 2;\n\t\tdisk none;\n\t\taddress 10.233.0.3:7789;\n\t}\n\tconnection-mesh {\n\t\thosts n1 n2 n3;\n\t}`;
const H9 = `\thandlers {\n\t\tfence-peer "/usr/lib/drbd/crm-fence-peer.9.sh";\n\t\tunfence-peer "/usr/lib/drbd/crm-unfence-peer.9.sh";\n\t}`;
const H84 = `\thandlers {\n\t\tfence-peer "/usr/lib/drbd/crm-fence-peer.sh";\n\t\tafter-resync-target "/usr/lib/drbd/crm-unfence-peer.sh";\n\t}`;
const opts = (...o: string[]) => `\toptions {\n\t\tauto-promote no;\n${o.map((x) => `\t\t${x};\n`).join("")}\t}`;
const net = (policy: string) => `\tnet {\n\t\tfencing ${policy};\n\t}`;
let nConf = 0;
function conf(body: string, drbd84 = false): string {
  const f = join(tmp, `drbd-${nConf++}.conf`);
  writeFileSync(f, `resource "r0" {\n\tdevice minor 1;\n\tdisk "/dev/vdb";\n\tmeta-disk internal;\n${body}\n}\n`);
  // drbd-utils 9's drbdadm refuses 8.4's disk-section fencing; drbdadm-84 checks 8.4 configs
  const v = spawnSync(drbd84 ? "/usr/lib/drbd/drbdadm-84" : "drbdadm", ["-c", f, "dump", "all"], { encoding: "utf8" });
  if (v.status !== 0) throw new Error(`drbdadm rejects fixture ${f}: ${v.stderr}`);
  return f;
}

// DRBD version from the configuration's syntax on both sides: no /proc/drbd in the doctor's root
// (this host has none for the stack)
const root = nodeRoot(join(tmp, "root"), { remove: ["proc/drbd"] });
const drbdIds = (r: Report) => ids(r).filter((i) => (DRBD_FENCING_IDS as readonly string[]).includes(i));
const stackIds = (stderr: string) => [...new Set([...stderr.matchAll(/\[(drbd-[a-z-]+)\]/g)].map((m) => m[1]!))].sort();

const DRBDFS = ["stack", "drbd-fs", "--drbd-resource", "r0", "--device", "/dev/drbd1", "--directory", "/srv/data", "--ip", "10.233.1.210/24"];
const ISCSI = ["stack", "iscsi", "--drbd-resource", "r0", "--iqn", "iqn.2003-01.org.example:storage", "--lun", "1:/dev/drbd1", "--ip", "10.233.1.200/24", "--initiator", "iqn.1993-08.org.debian:01:client",
  // closed: CHAP, and a portal on the service address only (LIO; the node root has ip_nonlocal_bind)
  "--chap-user", "client", "--chap-secret-file", CHAP, "--portal", "10.233.1.200:3260", "--implementation", "lio-t"];
const SBD = ["--fencing", "sbd", "--sbd-device", "/dev/loop0", "--corosync-conf", COROSYNC2];
const AGENT = ["--fencing", "agent", "--fence-agent", "fence_ipmilan", "--fence-param", "n1:ip=10.233.9.1", "--fence-param", "n2:ip=10.233.9.2", "--fence-param", "username=admin", "--fence-password-file", PW, "--corosync-conf", COROSYNC2];
/** the stand-in sbd prints a header with these timeouts (the real one needs the shared disk) */
const SBD_ENV = { PATH: `${sbdDir}:${process.env.PATH}`, SBD_WATCHDOG: "5", SBD_MSGWAIT: "10" };

/** The stack applied to a CIB file with nodes n1 n2, by the CLI. */
function stackCib(name: string, args: string[]): string {
  const f = buildCib(join(tmp, `${name}.xml`), []);
  const r = cli([...args, "--apply", "--cib", f, "--quiet"], SBD_ENV);
  if (r.code !== 0) throw new Error(`tsstor ${args.join(" ")}: ${r.stderr}`);
  return f;
}

t.test("the stacks with sbd or agent fencing on a clean node: nothing to report", { skip }, async (t) => {
  for (const [name, args] of [
    ["drbd-fs sbd", [...DRBDFS, "--drbdconf", DRBD_GOOD, ...SBD]],
    ["iscsi agent", [...ISCSI, "--drbdconf", DRBD_GOOD, ...AGENT]],
  ] as const) {
    const cib = stackCib(name.replace(" ", "-"), [...args]);
    const d = doctor(["-f", cib, "--root", nodeRoot(join(tmp, `clean-${name.replace(" ", "-")}`)), "--drbd-conf", DRBD_GOOD]);
    t.equal(d.code, 0, name);
    t.same(d.report.findings, [], `${name}: no error, no warning (the two-node fence race has its delay)`);
  }
});

t.test("drbd-quorum: a warning, not an error; none: the unfenced-cluster errors", { skip }, async (t) => {
  const q = conf(`${opts("quorum majority", "on-no-quorum io-error")}\n${HOSTS3}`);
  const three = nodeRoot(join(tmp, "root3"), { write: { "etc/corosync/corosync.conf": `totem {\n\tversion: 2\n\tcluster_name: tsstor\n}\nnodelist {\n${["n1", "n2", "n3"].map((n, i) => `\tnode {\n\t\tname: ${n}\n\t\tnodeid: ${i + 1}\n\t}\n`).join("")}}\n` } });
  const cib = stackCib("quorum", [...DRBDFS, "--drbdconf", q, "--fencing", "drbd-quorum"]);
  const d = doctor(["-f", cib, "--root", three, "--drbd-conf", q]);
  t.equal(d.code, 0);
  t.same(ids(d.report, "error"), []);
  t.same(ids(d.report, "warning"), ["stonith-disabled-drbd-quorum"]);
  // the bare fixture file has no common section: no split-brain handler, no verify-alg (drbd-policy.ts)
  t.same(ids(d.report, "info"), ["drbd-no-split-brain-handler", "drbd-no-verify-alg"]);
  t.match(d.report.findings[0]!.reason, /a resource whose stop fails stays blocked/);
  // the same CIB with a DRBD resource that quorum does not protect: the error again
  const noq = conf(`${opts()}\n${net("resource-only")}\n${H9}\n${HOSTS3}`);
  t.same(ids(doctor(["-f", cib, "--root", three, "--drbd-conf", noq]).report, "error"), ["stonith-disabled"]);
  const none = stackCib("none", [...DRBDFS, "--drbdconf", DRBD_GOOD, "--fencing", "none"]);
  const n = doctor(["-f", none, "--root", nodeRoot(join(tmp, "root-none")), "--drbd-conf", DRBD_GOOD]);
  t.equal(n.code, 1);
  t.same(ids(n.report, "error"), ["stonith-no-device", "two-node-no-fencing"], "none leaves stonith-enabled at its default: Pacemaker starts nothing, doctor says why");
});

// ---- one rule: the same fixtures, the same verdicts ----

const STONITH_CASES: Array<{ name: string; conf: () => string; want: string[] }> = [
  { name: "resource-and-stonith, DRBD 9 handlers", conf: () => conf(`${opts()}\n${net("resource-and-stonith")}\n${H9}\n${HOSTS2}`), want: [] },
  { name: "no fencing policy", conf: () => conf(`${opts()}\n${HOSTS2}`), want: ["drbd-no-fencing"] },
  { name: "fencing dont-care", conf: () => conf(`${opts()}\n${net("dont-care")}\n${H9}\n${HOSTS2}`), want: ["drbd-no-fencing"] },
  { name: "resource-only", conf: () => conf(`${opts()}\n${net("resource-only")}\n${H9}\n${HOSTS2}`), want: ["drbd-resource-only"] },
  { name: "no fence-peer handler", conf: () => conf(`${opts()}\n${net("resource-and-stonith")}\n${HOSTS2}`), want: ["drbd-no-fence-handler"] },
  {
    name: "no unfence handler",
    conf: () => conf(`${opts()}\n${net("resource-and-stonith")}\n\thandlers {\n\t\tfence-peer "/usr/lib/drbd/crm-fence-peer.9.sh";\n\t}\n${HOSTS2}`),
    want: ["drbd-no-unfence-handler"],
  },
  { name: "DRBD 8.4 handlers on DRBD 9", conf: () => conf(`${opts()}\n${net("resource-and-stonith")}\n${H84}\n${HOSTS2}`), want: ["drbd-fence-handler-version"] },
  { name: "DRBD quorum only, although the cluster has STONITH", conf: () => conf(`${opts("quorum majority", "on-no-quorum io-error")}\n${HOSTS3}`), want: ["drbd-no-fencing"] },
  {
    name: "DRBD 8.4: disk-section fencing, 8.4 handlers",
    conf: () => conf(`\tdisk {\n\t\tfencing resource-and-stonith;\n\t}\n${H84}\n\ton n1 {\n\t\taddress 10.233.0.1:7789;\n\t}\n\ton n2 {\n\t\taddress 10.233.0.2:7789;\n\t}`, true),
    want: [],
  },
];

t.test("with STONITH (--fencing sbd / agent): doctor and stack agree on every fixture", { skip }, async (t) => {
  const sbdCib = stackCib("agree-sbd", [...DRBDFS, "--drbdconf", DRBD_GOOD, ...SBD]);
  const agentCib = stackCib("agree-agent", [...ISCSI, "--drbdconf", DRBD_GOOD, ...AGENT]);
  for (const c of STONITH_CASES) {
    const f = c.conf();
    for (const [method, cib, args] of [
      ["sbd", sbdCib, [...DRBDFS, ...SBD]],
      ["agent", agentCib, [...ISCSI, ...AGENT]],
    ] as const) {
      const doc = drbdIds(doctor(["-f", cib, "--root", root, "--drbd-conf", f]).report);
      const st = cli([...args, "--drbdconf", f], SBD_ENV);
      t.same(doc, c.want, `${c.name}: doctor on the ${method} stack`);
      t.same(stackIds(st.stderr), c.want, `${c.name}: tsstor stack --fencing ${method}`);
      t.equal(st.code, c.want.length ? 2 : 0, `${c.name}: the stack ${c.want.length ? "refuses" : "accepts"}`);
    }
  }
});

const QUORUM_CASES: Array<{ name: string; conf: () => string; onNoQuorum: string; want: string[] }> = [
  { name: "quorum majority, io-error, 3 nodes (a diskless tiebreaker)", conf: () => conf(`${opts("quorum majority", "on-no-quorum io-error")}\n${HOSTS3}`), onNoQuorum: "io-error", want: [] },
  { name: "quorum majority, suspend-io, 3 nodes", conf: () => conf(`${opts("quorum majority", "on-no-quorum suspend-io")}\n${HOSTS3}`), onNoQuorum: "suspend-io", want: [] },
  { name: "quorum with two nodes", conf: () => conf(`${opts("quorum majority", "on-no-quorum io-error")}\n${HOSTS2}`), onNoQuorum: "io-error", want: ["drbd-quorum-two-nodes"] },
  { name: "quorum without on-no-quorum", conf: () => conf(`${opts("quorum majority")}\n${HOSTS3}`), onNoQuorum: "io-error", want: ["drbd-no-fencing"] },
  { name: "neither quorum nor a fencing policy", conf: () => conf(`${opts()}\n${HOSTS3}`), onNoQuorum: "io-error", want: ["drbd-no-fencing"] },
];

t.test("with DRBD quorum (--fencing drbd-quorum): doctor and stack agree on every fixture", { skip }, async (t) => {
  const cib = stackCib("agree-quorum", [...DRBDFS, "--drbdconf", QUORUM_CASES[0]!.conf(), "--fencing", "drbd-quorum"]);
  for (const c of QUORUM_CASES) {
    const f = c.conf();
    const doc = drbdIds(doctor(["-f", cib, "--root", root, "--drbd-conf", f]).report);
    const st = cli([...DRBDFS, "--drbdconf", f, "--fencing", "drbd-quorum", "--on-no-quorum", c.onNoQuorum]);
    t.same(doc, c.want, `${c.name}: doctor`);
    t.same(stackIds(st.stderr), c.want, `${c.name}: tsstor stack`);
    t.equal(st.code, c.want.length ? 2 : 0);
  }
  // on-no-quorum is the stack's choice (the doctor accepts either): the one verdict only the stack has
  const suspend = QUORUM_CASES[1]!.conf();
  t.same(drbdIds(doctor(["-f", cib, "--root", root, "--drbd-conf", suspend]).report), []);
  t.same(stackIds(cli([...DRBDFS, "--drbdconf", suspend, "--fencing", "drbd-quorum"]).stderr), ["drbd-on-no-quorum"], "drbd-fs wants io-error");
});
