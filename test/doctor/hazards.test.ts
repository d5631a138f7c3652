// Every hazard `tsstor doctor` reports, each from a CIB built with pcs -f and a node root made
// of real-format configuration files (drbd.conf checked by drbdadm's own parser), next to the
// same configuration without the hazard. The two-node DRBD + iSCSI cluster of a widely copied how-to (upstream
// agents) is the base: fenced, it has no error and no warning.
import t, * as Tap from "tap";
import { spawnSync } from "node:child_process";
import { copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { scratchDir } from "../lib/harness.js";
import { STONITH, HOWTO_DRBD_ISCSI, buildCib, doctor, find, ids, nodeRoot, type RootEdits } from "./lib.js";

const tmp = scratchDir("doctor-hazards");
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

const seed = buildCib(join(tmp, "seed.xml"), [["property", "set", "stonith-enabled=false"], ...HOWTO_DRBD_ISCSI]);
/** fenced, and the target closed: initiator list, portal on the virtual IP (the fixture root sets ip_nonlocal_bind) */
const CLOSE_TARGET = ["resource", "update", "p_iSCSITarget", "allowed_initiators=iqn.1993-08.org.debian:01:client", "portals=192.168.23.100:3260"];
const fenced = buildCib(join(tmp, "fenced.xml"), [...HOWTO_DRBD_ISCSI, ...STONITH, CLOSE_TARGET]);
/** a copy of `base` with more pcs -f commands applied */
function variant(name: string, base: string, cmds: string[][]): string {
  const f = join(tmp, `${name}.xml`);
  copyFileSync(base, f);
  for (const c of cmds) {
    const r = spawnSync("pcs", ["-f", f, ...c], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`pcs -f ${name} ${c.join(" ")}: ${r.stdout}${r.stderr}`);
  }
  return f;
}
let n = 0;
const root = (edits: RootEdits = {}) => nodeRoot(join(tmp, `root${n++}`), edits);
const run = (cib: string, r: string, extra: string[] = []) => doctor(["-f", cib, "--root", r, ...extra]);
/** drbdadm parses the root's drbd.conf: the fixtures are real DRBD configuration */
function drbdadmAccepts(t: Tap.Test, r: string) {
  const d = spawnSync("drbdadm", ["-c", join(r, "etc/drbd.conf"), "dump", "all"], { encoding: "utf8" });
  t.equal(d.status, 0, `drbdadm accepts the fixture: ${d.stderr}`);
}
const res = (body: string) => ({ write: { "etc/drbd.d/r0.res": `resource "r0" {\n${body}\n}\n` } });
const HOSTS = `	on "n1" {\n		node-id 0;\n		address 10.233.0.1:7789;\n	}\n	on "n2" {\n		node-id 1;\n		address 10.233.0.2:7789;\n	}`;
const BASE = `	device minor 1;\n	disk "/dev/vdb";\n	meta-disk internal;`;
const HANDLERS = `	handlers {\n		fence-peer "/usr/lib/drbd/crm-fence-peer.9.sh";\n		unfence-peer "/usr/lib/drbd/crm-unfence-peer.9.sh";\n	}`;

t.test("fenced seed-003 cluster with a clean node: no errors, no warnings, migration offers", async (t) => {
  const r = root();
  drbdadmAccepts(t, r);
  const d = run(fenced, r);
  t.equal(d.code, 0);
  t.same(ids(d.report, "error"), []);
  t.same(ids(d.report, "warning"), []);
  t.same(find(d.report, "migrate-to-tsstor").map((f) => f.subject), ["resource p_DRBD", "resource p_iSCSITarget", "resource p_iSCSI_lun1", "resource ClusterIP"], "in configuration order");
});

t.test("the two-node DRBD + iSCSI how-to as published: no fencing, two_node, the LIO restore service, DRBD 9 auto-promote", async (t) => {
  // the how-to's drbd resource (fencing resource-only + crm-fence-peer.9.sh), and its `systemctl enable target.service`
  const r = root({
    ...res(
      `	device minor 1;\n	meta-disk internal;\n\n	net {\n		protocol C;\n		fencing resource-only;\n	}\n${HANDLERS}\n	on "n1" {\n		node-id 0;\n		disk "/dev/vdb";\n	}\n	on "n2" {\n		node-id 1;\n		disk "/dev/vdb";\n	}\n	connection {\n		host "n1" address 10.192.6.74:7789;\n		host "n2" address 10.192.6.75:7789;\n	}`,
    ),
    enable: ["multi-user.target.wants/rtslib-fb-targetctl.service"],
  });
  drbdadmAccepts(t, r);
  const d = run(seed, r);
  t.equal(d.code, 1, "errors: exit 1");
  t.same(ids(d.report, "error"), ["lio-restore-enabled", "stonith-disabled", "target-open", "two-node-no-fencing"]);
  t.same(ids(d.report, "warning"), ["drbd-auto-promote", "target-portal-wildcard"]);
  const s = find(d.report, "stonith-disabled")[0]!;
  t.match(s.reason, /both nodes promote DRBD and both answer ARP for the virtual IP/, "cites the rig's link-cut result");
  t.match(s.reason, /how-tos/);
  t.notMatch(JSON.stringify(d.report.findings), /seed/i, "users never saw our seeds: findings describe setups by what they are");
  t.match(s.fix.join("\n"), /pcs stonith create fence-n1 fence_ipmilan .*pcmk_host_list=n1 pcmk_delay_max=15s\n.*fence-n2 .*pcmk_host_list=n2\n/, "one device per node, delay on one (two-node)");
  t.match(s.fix[s.fix.length - 1], "pcs property set stonith-enabled=true");
  t.match(find(d.report, "two-node-no-fencing")[0]!.subject, /corosync\.conf$/);
  const lio = find(d.report, "lio-restore-enabled")[0]!;
  t.same(lio.fix, ["systemctl disable rtslib-fb-targetctl.service    # not --now: stopping it runs targetctl clear and drops the running targets"]);
  t.match(lio.message, /p_iSCSITarget, p_iSCSI_lun1/);
  t.notOk(find(d.report, "drbd-resource-only").length, "resource-only is only a warning when STONITH exists");
  t.match(find(d.report, "drbd-auto-promote")[0]!.fix[0], /options \{ auto-promote no; \}/);
});

t.test("fencing: enabled without a device; disabled with devices; two-node fence race", async (t) => {
  const nodev = buildCib(join(tmp, "nodev.xml"), [...HOWTO_DRBD_ISCSI, CLOSE_TARGET]);
  const r = root();
  const a = run(nodev, r);
  t.same(ids(a.report, "error"), ["stonith-no-device", "two-node-no-fencing"]);
  t.notMatch(find(a.report, "stonith-no-device")[0]!.fix.join("\n"), /stonith-enabled/, "already enabled: only the devices are missing");
  const off = variant("off", fenced, [["property", "set", "stonith-enabled=false"]]);
  const b = run(off, r);
  t.same(ids(b.report, "error"), ["stonith-disabled", "two-node-no-fencing"]);
  t.same(find(b.report, "stonith-disabled")[0]!.fix, ["pcs property set stonith-enabled=true"], "devices exist: just enable");
  const race = variant("race", fenced, [["stonith", "update", "fence-n1", "pcmk_delay_max="]]);
  const c = run(race, r);
  t.same(ids(c.report, "warning"), ["two-node-fence-race"]);
  t.same(find(c.report, "two-node-fence-race")[0]!.fix, ["pcs stonith update fence-n1 pcmk_delay_max=15s"]);
  // not a two-node cluster: no race
  const three = root({ write: { "etc/corosync/corosync.conf": "totem {\n\tversion: 2\n\tcluster_name: tsstor\n}\n\nquorum {\n\tprovider: corosync_votequorum\n}\n" } });
  t.same(ids(run(race, three).report, "warning"), []);
});

t.test("DRBD clone meta: notify, promoted-max without allow-two-primaries, node-max; not promotable; unknown resource", async (t) => {
  const bad = variant("drbdmeta", fenced, [
    ["resource", "meta", "p_DRBD-clone", "notify=false", "promoted-max=2", "clone-node-max=2"],
    ["resource", "create", "p_plain", "ocf:linbit:drbd", "drbd_resource=r0", "--force"], // pcs: drbd_resource is unique
    ["resource", "create", "p_ghost", "ocf:linbit:drbd", "drbd_resource=ghost", "promotable", "notify=true"],
  ]);
  const r = root();
  const d = run(bad, r);
  t.equal(d.code, 1);
  t.same(ids(d.report, "error"), ["drbd-clone-notify", "drbd-node-max", "drbd-not-promotable", "drbd-promoted-max"]);
  t.same(find(d.report, "drbd-clone-notify")[0]!.fix, ["pcs resource meta p_DRBD-clone notify=true"]);
  t.same(find(d.report, "drbd-promoted-max")[0]!.fix[0], "pcs resource meta p_DRBD-clone promoted-max=1");
  t.same(find(d.report, "drbd-node-max")[0]!.fix, ["pcs resource meta p_DRBD-clone clone-node-max=1"]);
  // the clone's meta attributes on the clone: given to `resource promotable`, pcs 0.12 warns
  t.same(find(d.report, "drbd-not-promotable")[0]!.fix, ["pcs resource promotable p_plain", "pcs resource meta p_plain-clone promoted-max=1 promoted-node-max=1 clone-max=2 clone-node-max=1 notify=true"]);
  t.match(find(d.report, "drbd-resource-missing")[0]!.message, /"ghost"/);
  // dual primary allowed by DRBD: promoted-max 2 is what the user meant
  const dual = root(res(`${BASE}\n	options {\n		auto-promote no;\n	}\n	net {\n		fencing resource-and-stonith;\n		allow-two-primaries yes;\n	}\n${HANDLERS}\n${HOSTS}`));
  drbdadmAccepts(t, dual);
  t.notOk(find(run(bad, dual).report, "drbd-promoted-max").length);
});

t.test("drbd.conf: no fencing policy, policy without handler, no unfence handler, resource-only with STONITH, auto-promote", async (t) => {
  const cases: Array<{ name: string; body: string; want: string[]; severity: "error" | "warning" }> = [
    { name: "no fencing", body: `${BASE}\n	options {\n		auto-promote no;\n	}\n${HOSTS}`, want: ["drbd-no-fencing"], severity: "error" },
    { name: "dont-care", body: `${BASE}\n	options {\n		auto-promote no;\n	}\n	net {\n		fencing dont-care;\n	}\n${HANDLERS}\n${HOSTS}`, want: ["drbd-no-fencing"], severity: "error" },
    { name: "no handler", body: `${BASE}\n	options {\n		auto-promote no;\n	}\n	net {\n		fencing resource-and-stonith;\n	}\n${HOSTS}`, want: ["drbd-no-fence-handler"], severity: "error" },
    {
      name: "no unfence",
      body: `${BASE}\n	options {\n		auto-promote no;\n	}\n	net {\n		fencing resource-and-stonith;\n	}\n	handlers {\n		fence-peer "/usr/lib/drbd/crm-fence-peer.9.sh";\n	}\n${HOSTS}`,
      want: ["drbd-no-unfence-handler"],
      severity: "warning",
    },
    { name: "resource-only", body: `${BASE}\n	options {\n		auto-promote no;\n	}\n	net {\n		fencing resource-only;\n	}\n${HANDLERS}\n${HOSTS}`, want: ["drbd-resource-only"], severity: "warning" },
    { name: "auto-promote yes", body: `${BASE}\n	options {\n		auto-promote yes;\n	}\n	net {\n		fencing resource-and-stonith;\n	}\n${HANDLERS}\n${HOSTS}`, want: ["drbd-auto-promote"], severity: "warning" },
    { name: "auto-promote default", body: `${BASE}\n	net {\n		fencing resource-and-stonith;\n	}\n${HANDLERS}\n${HOSTS}`, want: ["drbd-auto-promote"], severity: "warning" },
    // DRBD 9 quorum instead of fencing: what ocf:linbit:drbd's own description recommends
    { name: "quorum", body: `${BASE}\n	options {\n		auto-promote no;\n		quorum majority;\n		on-no-quorum io-error;\n	}\n${HOSTS}`, want: [], severity: "error" },
  ];
  for (const c of cases) {
    const r = root(res(c.body));
    drbdadmAccepts(t, r);
    const d = run(fenced, r);
    t.same(ids(d.report, c.severity), c.want, c.name);
    if (c.severity === "warning") t.same(ids(d.report, "error"), [], `${c.name}: no error`);
    for (const f of d.report.findings.filter((x) => x.id.startsWith("drbd-") && x.severity !== "info")) {
      t.match(f.fix[f.fix.length - 1], /^drbdadm adjust r0/, `${c.name}: the fix applies the change`);
      t.match(f.fix.join("\n"), /etc\/drbd\.d\/r0\.res:1/, `${c.name}: the fix names the file and line`);
    }
  }
  const noFence = run(fenced, root(res(`${BASE}\n	options {\n		auto-promote no;\n	}\n${HOSTS}`)));
  t.match(find(noFence.report, "drbd-no-fencing")[0]!.fix.join("\n"), /net \{ fencing resource-and-stonith; \}\n#   handlers \{ fence-peer "\/usr\/lib\/drbd\/crm-fence-peer\.9\.sh"; unfence-peer "\/usr\/lib\/drbd\/crm-unfence-peer\.9\.sh"; \}/);
});

t.test("DRBD 8.4: fencing in the disk section, no auto-promote check, 8.4 handler names in fixes", async (t) => {
  const r = root({
    write: {
      ...res(`${BASE}\n	disk {\n		fencing resource-and-stonith;\n	}\n	handlers {\n		fence-peer "/usr/lib/drbd/crm-fence-peer.sh";\n	}\n	on n1 {\n		address 10.233.0.1:7789;\n	}\n	on n2 {\n		address 10.233.0.2:7789;\n	}`).write,
      "proc/drbd": "version: 8.4.11 (api:1/proto:86-101)\nsrcversion: 211FB288A383ED945B83420\n",
    },
  });
  // drbd-utils 9's drbdadm refuses 8.4's disk-section fencing; its drbdadm-84 checks 8.4 configs
  const v = spawnSync("/usr/lib/drbd/drbdadm-84", ["-c", join(r, "etc/drbd.conf"), "dump", "all"], { encoding: "utf8" });
  t.equal(v.status, 0, `drbdadm-84 accepts the fixture: ${v.stderr}`);
  const d = run(fenced, r);
  t.same(ids(d.report, "warning"), ["drbd-no-unfence-handler"], "no auto-promote on 8.4");
  t.match(find(d.report, "drbd-no-unfence-handler")[0]!.fix[0], /after-resync-target "\/usr\/lib\/drbd\/crm-unfence-peer\.sh";/);
});

t.test("drbd.service and the LIO restore units enabled at boot; masked is fine", async (t) => {
  const r = root({ enable: ["multi-user.target.wants/drbd.service", "multi-user.target.wants/target.service"] });
  const d = run(fenced, r);
  t.same(ids(d.report, "error"), ["lio-restore-enabled"]);
  t.same(ids(d.report, "warning"), ["drbd-service-enabled"]);
  t.same(find(d.report, "drbd-service-enabled")[0]!.fix, ["systemctl disable drbd.service"]);
  const masked = root({ enable: ["multi-user.target.wants/rtslib-fb-targetctl.service"] });
  spawnSync("ln", ["-s", "/dev/null", join(masked, "etc/systemd/system/rtslib-fb-targetctl.service")]);
  t.same(ids(run(fenced, masked).report, "error"), [], "masked: never starts");
  // tgt: LIO's restore service is irrelevant
  const tgt = variant("tgt", fenced, [
    ["resource", "update", "p_iSCSITarget", "implementation=tgt", "tid=1"],
    ["resource", "update", "p_iSCSI_lun1", "implementation=tgt"],
  ]);
  t.same(ids(run(tgt, root({ enable: ["multi-user.target.wants/rtslib-fb-targetctl.service"] })).report, "error"), []);
});

t.test("iSCSI targets open to strangers: no initiator list, no CHAP, a secret in the CIB, portals on every address or the cluster's, a VIP portal without ip_nonlocal_bind", async (t) => {
  const targetIds = (d: ReturnType<typeof run>) => d.report.findings.filter((f) => f.id.startsWith("target-")).map((f) => `${f.severity}:${f.id}`).sort();
  const r = root();
  t.same(targetIds(run(fenced, r)), ["info:target-no-chap"], "initiator list, portal on the VIP: only the CHAP note");
  const open = run(variant("open", fenced, [["resource", "update", "p_iSCSITarget", "allowed_initiators="]]), r);
  t.equal(open.code, 1, "an open target is an error");
  t.same(targetIds(open), ["error:target-open"]);
  const o = find(open.report, "target-open")[0]!;
  t.match(o.message, /every host that reaches a portal can read and write every LUN/);
  t.match(o.reason, /demo mode/);
  t.match(o.fix[0], /^pcs resource update p_iSCSITarget allowed_initiators=/);
  const tgtOpen = run(variant("tgt-open", fenced, [["resource", "update", "p_iSCSITarget", "allowed_initiators=", "implementation=tgt", "tid=1"]]), r);
  t.match(find(tgtOpen.report, "target-open")[0]!.reason, /tgt binds the target to ALL/);
  t.same(targetIds(tgtOpen), ["error:target-open", "warning:target-portal-wildcard"], "tgt listens on every address whatever portals says");
  const cib = run(variant("chap-cib", fenced, [["resource", "update", "p_iSCSITarget", "incoming_username=storage", "incoming_password=s3cr3t-in-the-cib"]]), r);
  t.same(targetIds(cib), ["warning:target-chap-in-cib"], "CHAP set: no CHAP note, but the secret sits in the CIB");
  const c = find(cib.report, "target-chap-in-cib")[0]!;
  t.match(c.message, /incoming_password/);
  t.notMatch(JSON.stringify(cib.report.findings), /s3cr3t/, "the doctor never repeats a secret");
  const wild = run(variant("wild", fenced, [["resource", "update", "p_iSCSITarget", "portals=0.0.0.0:3260"]]), r);
  t.same(targetIds(wild), ["info:target-no-chap", "warning:target-portal-wildcard"]);
  const w = find(wild.report, "target-portal-wildcard")[0]!;
  t.match(w.message, /portal 0\.0\.0\.0:3260 listens on every address of the node that runs it, the corosync cluster network \(10\.233\.0\.1, 10\.233\.0\.2\)/);
  t.same(w.fix[0], "pcs resource update p_iSCSITarget portals=192.168.23.100:3260    # the service address the initiators use", "the fix names the cluster's virtual IP");
  const v6 = run(variant("wild6", fenced, [["resource", "update", "p_iSCSITarget", "portals=[::]:3260"]]), r);
  t.same(targetIds(v6), ["info:target-no-chap", "warning:target-portal-wildcard"], "[::] too");
  // the replication link: a DRBD 9 connection's addresses (host ... address), not corosync's
  const repl = root(res(`${BASE}\n	on "n1" {\n		node-id 0;\n	}\n	on "n2" {\n		node-id 1;\n	}\n	connection {\n		host "n1" address 10.233.7.1:7789;\n		host "n2" address ipv4 10.233.7.2:7789;\n	}`));
  drbdadmAccepts(t, repl);
  const rl = run(variant("repl", fenced, [["resource", "update", "p_iSCSITarget", "portals=10.233.7.2:3260"]]), repl);
  t.same(targetIds(rl), ["info:target-no-chap", "warning:target-portal-cluster-net"]);
  t.match(find(rl.report, "target-portal-cluster-net")[0]!.message, /portal 10\.233\.7\.2:3260 is an address of DRBD r0's replication link/);
  const ring = run(variant("ring", fenced, [["resource", "update", "p_iSCSITarget", "portals=10.233.0.1:3260 192.168.23.100:3260"]]), r);
  t.same(targetIds(ring), ["info:target-no-chap", "warning:target-portal-cluster-net"]);
  t.match(find(ring.report, "target-portal-cluster-net")[0]!.message, /10\.233\.0\.1:3260 is an address of the corosync cluster network/);
  // the VIP portal needs ip_nonlocal_bind=1 at boot: absent, then 0 in /etc/sysctl.conf (read after sysctl.d)
  const nosys = root({ remove: ["etc/sysctl.d/90-tsstor-iscsi.conf"] });
  const nb = find(run(fenced, nosys).report, "target-nonlocal-bind");
  t.equal(nb.length, 1);
  t.match(nb[0]!.message, /portal 192\.168\.23\.100:3260 is the virtual IP of ClusterIP, and net\.ipv4\.ip_nonlocal_bind is not set to 1 at boot/);
  t.match(nb[0]!.fix[0], /^echo net\.ipv4\.ip_nonlocal_bind=1 > \/etc\/sysctl\.d\//);
  const zero = root({ write: { "etc/sysctl.conf": "# overrides sysctl.d\nnet/ipv4/ip_nonlocal_bind=0\n" } });
  t.match(find(run(fenced, zero).report, "target-nonlocal-bind")[0]!.message, /ip_nonlocal_bind is 0 \(.*etc\/sysctl\.conf\)/, "slash spelling, /etc/sysctl.conf last");
  const tgt = run(variant("tgt-vip", fenced, [["resource", "update", "p_iSCSITarget", "implementation=tgt", "tid=1"]]), nosys);
  t.same(find(tgt.report, "target-nonlocal-bind"), [], "tgt does not bind per target: no nonlocal-bind finding");
});

t.test("multipath.conf: DRBD devices not blacklisted, claimed by an exception, one-line sections, invalid regexes", async (t) => {
  const mp = (text: string, more: RootEdits = {}) => run(fenced, root({ ...more, write: { "etc/multipath.conf": text, ...(more.write ?? {}) } })).report;
  const none = mp("defaults {\n\tuser_friendly_names yes\n}\n");
  t.same(ids(none, "warning"), ["multipath-drbd"]);
  t.match(find(none, "multipath-drbd")[0]!.message, /\(drbd1\)/, "the minor comes from drbd.conf");
  t.same(find(none, "multipath-drbd")[0]!.fix.slice(-4), ["#   blacklist {", '#       devnode "^drbd[0-9]+"', "#   }", "multipathd reconfigure"]);
  const exc = mp('blacklist {\n\tdevnode "^drbd[0-9]+"\n}\nblacklist_exceptions {\n\tdevnode "^(sd|drbd)"\n}\n');
  t.same(ids(exc, "error"), ["multipath-drbd"], "exceptions win over the blacklist");
  const one = mp('defaults {\n\tfind_multipaths yes\n}\nblacklist { devnode "^drbd[0-9]+" }\n');
  t.same(ids(one, "warning"), ["multipath-drbd", "multipath-ignored-line"], "multipath drops the rest of a `name {` line");
  t.same(find(one, "multipath-ignored-line")[0]!.fix.slice(1, 4), ["#   blacklist {", '#       devnode "^drbd[0-9]+"', "#   }"]);
  const star = mp('blacklist {\n\tdevnode "*"\n}\n');
  t.same(ids(star, "warning"), ["multipath-bad-regex", "multipath-drbd"], 'devnode "*" does not compile (REG_BADRPT): multipath drops it');
  const comment = mp('blacklist {\n\tdevnode "^drbd[0-9]+" ! the DRBD devices\n\t# wwid 36001405aaaa\n}\n');
  t.same(ids(comment, "warning"), [], '"!" outside quotes starts a comment');
  const confd = mp("defaults {\n\tfind_multipaths yes\n}\n", { write: { "etc/multipath/conf.d/drbd.conf": 'blacklist {\n\tdevnode "^drbd"\n}\n' } });
  t.same(ids(confd, "warning"), [], "config_dir files count");
  // no multipath.conf: only a finding when multipathd runs
  t.same(ids(run(fenced, root({ remove: ["etc/multipath.conf"] })).report, "warning"), []);
  const bare = run(fenced, root({ remove: ["etc/multipath.conf"], enable: ["sysinit.target.wants/multipathd.service"] })).report;
  t.same(ids(bare, "warning"), ["multipath-drbd"]);
});

t.test("LVM on DRBD: backing disk visible to LVM; lvmlockd users without use_lvmlockd", async (t) => {
  const lv = variant("lv", fenced, [["resource", "create", "p_lv", "ocf:heartbeat:LVM-activate", "vgname=vg0", "lvname=data", "vg_access_mode=system_id", "activation_mode=exclusive"]]);
  const open = root({ write: { "etc/lvm/lvm.conf": "devices {\n\t# global_filter = [ \"a|.*|\" ]\n}\nglobal {\n\tuse_lvmlockd = 1\n}\n" } });
  const d = run(lv, open);
  t.same(ids(d.report, "warning"), ["lvm-filter-drbd-backing"]);
  t.match(find(d.report, "lvm-filter-drbd-backing")[0]!.fix[1], /global_filter = \[ "r\|\^\/dev\/vdb\$\|" \]/);
  t.same(ids(run(lv, root()).report, "warning"), [], "the fixture's global_filter rejects /dev/vdb");
  const devicesfile = root({ write: { "etc/lvm/lvm.conf": "devices {\n\tuse_devicesfile = 1\n}\n" } });
  t.same(ids(run(lv, devicesfile).report, "warning"), [], "with the devices file, filters do not matter");

  const locked = variant("lockd", fenced, [
    ["resource", "create", "p_lockd", "ocf:heartbeat:lvmlockd", "clone", "interleave=true"],
    ["resource", "create", "p_shared", "ocf:heartbeat:LVM-activate", "vgname=vgs", "vg_access_mode=lvmlockd", "activation_mode=shared", "clone", "interleave=true"],
  ]);
  const nolockd = root({ write: { "etc/lvm/lvm.conf": 'global {\n\t# use_lvmlockd = 0\n}\ndevices {\n\tglobal_filter = [ "r|^/dev/vdb$|" ]\n}\n' } });
  const l = run(locked, nolockd);
  t.same(ids(l.report, "warning"), ["lvm-no-lvmlockd"], "heartbeat lvmlockd rewrites lvm.conf at start: a warning");
  t.match(find(l.report, "lvm-no-lvmlockd")[0]!.fix[0], /^sed -i -E .*use_lvmlockd = 1/);
  // the sed really fixes Debian's commented default line
  const conf = join(nolockd, "etc/lvm/lvm.conf");
  const sed = spawnSync("sh", ["-c", find(l.report, "lvm-no-lvmlockd")[0]!.fix[0]!.split("    #")[0]!], { encoding: "utf8" });
  t.equal(sed.status, 0, sed.stderr);
  t.same(ids(run(locked, nolockd).report, "warning"), [], `after the fix's sed on ${conf}`);
  const onlyActivate = variant("lockd2", fenced, [["resource", "create", "p_shared", "ocf:heartbeat:LVM-activate", "vgname=vgs", "vg_access_mode=lvmlockd", "activation_mode=shared", "clone", "interleave=true"]]);
  t.same(ids(run(onlyActivate, root({ write: { "etc/lvm/lvm.conf": "global {\n}\n" } })).report, "error"), ["lvm-no-lvmlockd"], "nothing rewrites it: an error");
});

t.test("unparsable configuration is reported, not fatal", async (t) => {
  const r = root({ write: { "etc/corosync/corosync.conf": "totem {\n\tversion: 2\n", "etc/drbd.d/r0.res": 'resource "r0" {\n\tdevice minor 1\n}\n' } });
  const d = run(fenced, r);
  t.equal(d.code, 0);
  t.same(ids(d.report, "warning"), ["config-unreadable"]);
  t.equal(find(d.report, "config-unreadable").length, 2);
  t.match(find(d.report, "config-unreadable").map((f) => f.message).join("\n"), /corosync\.conf: unexpected end of file[\s\S]*r0\.res: line 2: "device minor 1" is missing its ";"/);
  t.same(ids(d.report, "info").filter((i) => i.startsWith("drbd")), ["drbd-conf-unreadable"]);
});
