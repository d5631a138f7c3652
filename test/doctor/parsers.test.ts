// The doctor's readers on real formats: drbd.conf as written and as `drbdadm dump` prints it,
// corosync.conf, lvm.conf, multipath.conf read the way multipath-tools' parser does, tunegfs2 and
// gfs2_edit output of a real mkfs.gfs2 image, systemd enablement links, and CIB corner cases
// (Pacemaker 1.1 <master>, id-ref, rules, rsc_defaults).
import t from "tap";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cloneMeta, parseCib } from "../../cli/doctor/cib.js";
import { ConfError, multipathLineTokens, parseDrbdSyntax, parseLvmSyntax, parseMultipathSyntax } from "../../cli/doctor/conf.js";
import { readCorosync } from "../../cli/doctor/corosync.js";
import { readDrbdConfig } from "../../cli/doctor/drbd.js";
import { probeGfs2 } from "../../cli/doctor/gfs2.js";
import { parseGfs2EditJindex, parseTunegfs2List } from "../../lib/fs/gfs2.js";
import { lvmAccepts, readLvmConf } from "../../cli/doctor/lvm.js";
import { DEFAULT_DEVNODE_BLACKLIST, classify, compileRegex, lastSetting, readMultipath } from "../../cli/doctor/multipath.js";
import { parseSysctl, readSysctl } from "../../cli/doctor/sysctl.js";
import { UnitDir } from "../../cli/doctor/systemd.js";
import { scratchDir } from "../lib/harness.js";
import { FIXTURE } from "./lib.js";

const tmp = scratchDir("doctor-parsers");
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

t.test("drbd.conf: includes, common merged under the resource, and drbdadm dump reads the same", async (t) => {
  const c = readDrbdConfig(join(FIXTURE, "etc/drbd.conf"));
  t.same(c.files.map((f) => f.slice(FIXTURE.length)), ["/etc/drbd.conf", "/etc/drbd.d/global_common.conf", "/etc/drbd.d/r0.res"]);
  const r = c.resources.get("r0")!;
  t.same(r.net, { protocol: "C", "verify-alg": "crc32c", fencing: "resource-and-stonith" }, "common's protocol C and verify-alg merged with the resource's net");
  t.same(r.options, { "auto-promote": "no" });
  t.same(r.handlers, { "split-brain": "/usr/lib/drbd/notify-split-brain.sh root", "fence-peer": "/usr/lib/drbd/crm-fence-peer.9.sh", "unfence-peer": "/usr/lib/drbd/crm-unfence-peer.9.sh" });
  t.same(r.minors, [1]);
  t.same(r.disks, ["/dev/vdb"]);
  t.same(r.hosts, ["n1", "n2"]);
  t.ok(r.drbd9Syntax);
  t.equal(r.line, 2);

  const dump = spawnSync("drbdadm", ["-c", join(FIXTURE, "etc/drbd.conf"), "dump", "all"], { encoding: "utf8" });
  t.equal(dump.status, 0, dump.stderr);
  writeFileSync(join(tmp, "dump.conf"), dump.stdout);
  const d = readDrbdConfig(join(tmp, "dump.conf")).resources.get("r0")!;
  for (const k of ["net", "options", "handlers", "minors", "disks", "hosts", "drbd9Syntax"] as const) t.same(d[k], r[k], `drbdadm dump: same ${k}`);
});

t.test("drbd.conf syntax: volumes, device forms, flags, skip, quoted words, errors with line numbers", async (t) => {
  mkdirSync(join(tmp, "d/drbd.d"), { recursive: true });
  writeFileSync(join(tmp, "d/drbd.conf"), 'global { usage-count no; }\ninclude "drbd.d/*.res";\ninclude "/etc/absent/*.res";\nskip { resource ignored { device minor 9; } }\n');
  writeFileSync(
    join(tmp, "d/drbd.d/a.res"),
    `resource a {
  net { allow-two-primaries; cram-hmac-alg "sha1"; } # 8.4 flag form
  volume 0 { device /dev/drbd10; disk /dev/sdb1; meta-disk internal; }
  volume 1 { device "/dev/drbd_a1" minor 11; disk none; meta-disk internal; }
  connection-mesh { hosts n1 n2 n3; net { fencing resource-only; } }
  on n1 { node-id 0; address ipv4 10.0.0.1:7000; }
  connection { host n2 address 10.0.0.2:7000; host n3 address 10.0.0.3:7000; }
  connection { path { host n1 address ipv6 [fd00::1]:7000; host n3 address ipv6 [fd00::3]:7000; } }
}
`,
  );
  writeFileSync(join(tmp, "d/drbd.d/.hidden.res"), "resource hidden { }\n");
  const c = readDrbdConfig(join(tmp, "d/drbd.conf"), tmp);
  t.same([...c.resources.keys()], ["a"], "skip sections, dot files and absent includes ignored");
  const a = c.resources.get("a")!;
  t.same(a.net, { "allow-two-primaries": "yes", "cram-hmac-alg": "sha1" });
  t.same(a.minors, [10, 11]);
  t.same(a.disks, ["/dev/sdb1"], "disk none is diskless");
  t.same(a.connectionNets, [{ fencing: "resource-only" }]);
  t.same(a.addresses, ["10.0.0.1", "10.0.0.2", "10.0.0.3", "fd00::1", "fd00::3"], "replication addresses from on, connection and path sections, without port or family");
  t.same(parseDrbdSyntax('handlers { split-brain "/usr/lib/drbd/notify-split-brain.sh root"; }')[0]!.children![0]!.words, ["split-brain", "/usr/lib/drbd/notify-split-brain.sh root"]);
  t.throws(() => parseDrbdSyntax("resource r {\n net { protocol C }\n}\n"), new ConfError('line 2: "protocol C" is missing its ";"'));
  t.throws(() => parseDrbdSyntax("resource r {\n"), /not closed/);
  t.throws(() => parseDrbdSyntax('resource r { disk "/dev/x; }'), /unterminated string/);
});

t.test("corosync.conf", async (t) => {
  const c = readCorosync(join(FIXTURE, "etc/corosync/corosync.conf"));
  t.same({ name: c.clusterName, twoNode: c.twoNode, qdevice: c.qdevice, nodes: c.nodes }, { name: "tsstor", twoNode: true, qdevice: false, nodes: ["n1", "n2"] });
  t.same(c.addresses, ["10.233.0.1", "10.233.0.2"], "every node's ringN_addr");
  // corosync's own parser agrees the fixture is well formed (it only misses this host in the nodelist)
  const v = spawnSync("corosync", ["-t", "-c", join(FIXTURE, "etc/corosync/corosync.conf")], { encoding: "utf8" });
  t.notMatch(`${v.stdout}${v.stderr}`, /parser error/);
  writeFileSync(join(tmp, "q.conf"), "totem {\n\tcluster_name: c\n}\nquorum {\n\tprovider: corosync_votequorum\n\tdevice {\n\t\tmodel: net\n\t\tnet {\n\t\t\thost: qnetd\n\t\t}\n\t}\n}\n");
  t.ok(readCorosync(join(tmp, "q.conf")).qdevice);
});

t.test("sysctl.d: directory precedence, file order, /etc/sysctl.conf last, slash keys", async (t) => {
  const r = join(tmp, "sysctl-root");
  const put = (f: string, text: string) => {
    mkdirSync(join(r, f, ".."), { recursive: true });
    writeFileSync(join(r, f), text);
  };
  put("usr/lib/sysctl.d/50-default.conf", "net.ipv4.ip_nonlocal_bind = 0\nkernel.panic=5\n");
  put("usr/lib/sysctl.d/90-vendor.conf", "kernel.panic = 7\n");
  put("etc/sysctl.d/90-vendor.conf", "# an admin's copy hides the vendor's file of the same name\n; old style comment\n");
  put("etc/sysctl.d/60-iscsi.conf", "-net/ipv4/ip_nonlocal_bind=1\nno equals sign here\n");
  put("etc/sysctl.d/README", "net.ipv4.ip_nonlocal_bind = 0\n");
  put("etc/sysctl.conf", "net.ipv6.ip_nonlocal_bind = 1\n");
  const s = readSysctl((p) => join(r, p));
  t.same(s.get("net.ipv4.ip_nonlocal_bind"), { value: "1", file: "/etc/sysctl.d/60-iscsi.conf" }, "60- after 50-; slashes and the leading - normalised; README is not *.conf");
  t.same(s.get("kernel.panic"), { value: "5", file: "/usr/lib/sysctl.d/50-default.conf" }, "/etc's 90-vendor.conf hides /usr/lib's");
  t.same(s.get("net.ipv6.ip_nonlocal_bind"), { value: "1", file: "/etc/sysctl.conf" });
  t.same(parseSysctl("a.b=1\na.b = 2\n", "f").get("a.b")!.value, "2", "the last setting wins");
});

t.test("lvm.conf: sections on one line, lists over several lines, filters", async (t) => {
  const n = parseLvmSyntax('devices { global_filter = [ "r|^/dev/vdb$|", # the DRBD backing disk\n   "a|.*|" ] use_devicesfile = 0 }\nglobal {\n\tuse_lvmlockd = 1\n}\n');
  t.same(n[0]!.children!.map((c) => c.words), [["global_filter", "r|^/dev/vdb$|", "a|.*|"], ["use_devicesfile", "0"]]);
  const c = readLvmConf(join(FIXTURE, "etc/lvm/lvm.conf"));
  t.same({ use: c.useLvmlockd, df: c.useDevicesfile, gf: c.globalFilter }, { use: true, df: false, gf: ["r|^/dev/vdb$|", "a|.*|"] });
  t.notOk(lvmAccepts(c.globalFilter, "/dev/vdb"));
  t.ok(lvmAccepts(c.globalFilter, "/dev/vdb1"));
  t.ok(lvmAccepts([], "/dev/sda"), "no filter accepts");
  t.notOk(lvmAccepts(["a|/dev/drbd.*|", "r|.*|"], "/dev/sdb"), "first match decides");
  t.throws(() => parseLvmSyntax("global {\n use_lvmlockd 1\n}\n"), /expected "="/);
  t.same(parseLvmSyntax("\uFEFFglobal {\n\fuse_lvmlockd = 1\n}\n")[0]!.children![0]!.words, ["use_lvmlockd", "1"], "a BOM and a form feed are whitespace");
});

t.test("multipath.conf read like libmultipath's parser", async (t) => {
  t.same(multipathLineTokens('\tdevnode "^drbd[0-9]+" # comment'), ["devnode", '"', "^drbd[0-9]+", '"']);
  t.same(multipathLineTokens('\tdevnode "!^(sd[a-z]|dasd[a-z])"'), ["devnode", '"', "!^(sd[a-z]|dasd[a-z])", '"'], '"!" inside quotes is the inversion');
  t.same(multipathLineTokens("! a comment line"), []);
  t.same(multipathLineTokens("blacklist {"), ["blacklist", "{"]);
  const p = parseMultipathSyntax('blacklist { devnode "^drbd" }\n\twwid 3600\n}\nblacklist_exceptions {\n\tdevnode "^sd"\n} extra\n');
  t.same(p.nodes.map((n) => [n.words[0], n.children!.map((c) => c.words)]), [
    ["blacklist", [["wwid", "3600"]]],
    ["blacklist_exceptions", [["devnode", "^sd"]]],
  ]);
  t.same(p.ignored.map((i) => [i.line, i.ignored]), [
    [1, 'devnode "^drbd" }'],
    [6, "extra"],
  ]);
  const f = (re: string, dev: string) => compileRegex(re)?.(dev);
  t.ok(f(DEFAULT_DEVNODE_BLACKLIST, "drbd1"), "the built-in default blacklists drbd");
  t.notOk(f(DEFAULT_DEVNODE_BLACKLIST, "sdb"));
  t.ok(f("^drbd[[:digit:]]+", "drbd12"));
  t.equal(compileRegex("*"), undefined, "regcomp: REG_BADRPT");
  t.ok(f(".*", "drbd0"));
  t.ok(f("\\!x", "!x"), "an escaped ! is literal");
  writeFileSync(join(tmp, "mp.conf"), 'blacklist {\n\tdevnode "^drbd"\n}\nblacklist_exceptions {\n\tdevnode "^drbd1$"\n}\n');
  const mp = readMultipath(join(tmp, "mp.conf"), undefined);
  t.equal(classify(mp, "drbd1", false).state, "excepted");
  t.equal(classify(mp, "drbd2", false).state, "blacklisted");
  t.equal(classify(mp, "sdc", false).state, "none");
  t.equal(classify(mp, "dm-3", true).state, "blacklisted", "with the built-in default");
});

t.test("multipath.conf settings for the SAN checks: defaults, overrides, device and multipath entries, non-devnode blacklist, config_dir order", async (t) => {
  const dir = join(tmp, "mp-san");
  mkdirSync(join(dir, "conf.d"), { recursive: true });
  writeFileSync(
    join(dir, "multipath.conf"),
    'defaults {\n\tno_path_retry 12\n\tfeatures "1 queue_if_no_path"\n}\noverrides {\n\tno_path_retry fail\n}\ndevices {\n\tdevice {\n\t\tvendor "NETAPP"\n\t\tproduct "LUN"\n\t\tno_path_retry queue\n\t}\n}\n' +
      'multipaths {\n\tmultipath {\n\t\twwid 3600a0980\n\t\talias data\n\t}\n}\nblacklist {\n\tdevnode "^drbd"\n\twwid "3600508b1"\n\tdevice {\n\t\tvendor "QEMU"\n\t}\n\tproperty "ID_ATA"\n}\n',
  );
  writeFileSync(join(dir, "conf.d", "z.conf"), "defaults {\n\tno_path_retry queue\n}\n");
  const mp = readMultipath(join(dir, "multipath.conf"), join(dir, "conf.d"));
  const kv = (l: Array<{ key: string; value: string; line: number }>) => l.map((x) => `${x.line}:${x.key}=${x.value}`);
  t.same(kv(mp.defaults), ["2:no_path_retry=12", "3:features=1 queue_if_no_path", "2:no_path_retry=queue"], "every file's defaults, in reading order");
  t.equal(lastSetting(mp.defaults, "no_path_retry")?.file, join(dir, "conf.d", "z.conf"), "config_dir is read last: it wins");
  t.same(kv(mp.overrides), ["6:no_path_retry=fail"]);
  t.same(mp.devices.map((d) => [d.line, kv(d.settings)]), [[9, ["10:vendor=NETAPP", "11:product=LUN", "12:no_path_retry=queue"]]]);
  t.same(mp.multipaths.map((d) => [d.line, kv(d.settings)]), [[16, ["17:wwid=3600a0980", "18:alias=data"]]]);
  t.same(mp.blacklistOther.map((b) => `${b.line}:${b.kind}=${b.value}`), ["23:wwid=3600508b1", '24:device=vendor "QEMU"', "27:property=ID_ATA"]);
  t.same(mp.blacklist.map((b) => b.regex), ["^drbd"], "devnode entries as before");
});

t.test("GFS2 facts from a real mkfs.gfs2 image; older tunegfs2 output", async (t) => {
  const img = join(tmp, "gfs2.img");
  writeFileSync(img, "");
  truncateSync(img, 96 << 20);
  const m = spawnSync("mkfs.gfs2", ["-O", "-J", "8", "-p", "lock_dlm", "-t", "alpha:fs1", "-j", "3", img], { encoding: "utf8" });
  t.equal(m.status, 0, m.stderr);
  t.same(probeGfs2(img), { lockProto: "lock_dlm", lockTable: "alpha:fs1", journals: 3 });
  const j = spawnSync("gfs2_edit", ["-p", "jindex", img], { encoding: "utf8" });
  t.equal(parseGfs2EditJindex(j.stdout), 3, "gfs2_edit -p jindex counts the same journals");
  // gfs2-utils before 3.5 printed no journal count and unquoted values
  t.match(parseTunegfs2List("tunegfs2 (Jan  1 2020 00:00:00) 3.2.0\nFile system volume name: alpha:fs1\nBlock size: 4096\nLock Protocol: lock_dlm\nLock table: alpha:fs1\n"), { lockProto: "lock_dlm", lockTable: "alpha:fs1", journals: undefined });
  // gfs2-utils 3.5: "Locking protocol", quoted values, a journal count
  t.match(parseTunegfs2List('Locking protocol: "lock_dlm"\nLock table: "alpha:fs1"\nJournals: 3\n'), { lockProto: "lock_dlm", lockTable: "alpha:fs1", journals: 3 });
  t.match(probeGfs2(join(tmp, "absent.img")), /^tunegfs2 -l .*absent\.img: /);
  writeFileSync(join(tmp, "zero.img"), Buffer.alloc(1 << 20));
  t.type(probeGfs2(join(tmp, "zero.img")), "string", "not GFS2");
});

t.test("systemd enablement from the unit directory", async (t) => {
  const d = join(tmp, "systemd");
  mkdirSync(join(d, "multi-user.target.wants"), { recursive: true });
  mkdirSync(join(d, "corosync.service.requires"), { recursive: true });
  symlinkSync("/lib/systemd/system/target.service", join(d, "multi-user.target.wants/target.service"));
  symlinkSync("/lib/systemd/system/drbd@.service", join(d, "multi-user.target.wants/drbd@r0.service"));
  symlinkSync("/lib/systemd/system/sbd.service", join(d, "corosync.service.requires/sbd.service"));
  symlinkSync("/lib/systemd/system/tgt.service", join(d, "multi-user.target.wants/tgt.service"));
  symlinkSync("/dev/null", join(d, "tgt.service"));
  const u = new UnitDir(d);
  t.same(u.enabledBy("target.service"), [join(d, "multi-user.target.wants/target.service")]);
  t.same(u.enabledBy("drbd@"), [join(d, "multi-user.target.wants/drbd@r0.service")], "instances by prefix");
  t.same(u.enabledBy("sbd.service"), [join(d, "corosync.service.requires/sbd.service")], ".requires counts");
  t.same(u.enabledBy("tgt.service"), [], "masked wins");
  t.same(new UnitDir(join(tmp, "none")).enabledBy("x.service"), []);
  t.notOk(new UnitDir(join(tmp, "none")).exists());
});

t.test("systemd ordering from a unit's copy and drop-ins in the unit directory", async (t) => {
  const d = join(tmp, "systemd-order");
  mkdirSync(join(d, "resource-agents-deps.target.d"), { recursive: true });
  writeFileSync(join(d, "resource-agents-deps.target.d", "b.conf"), "# SAN\n[Unit]\nAfter=iscsid.service \\\n  multipathd.service\n; After=ignored.service\nWants=iscsid.service\n[Install]\nAfter=not-unit.service\n");
  writeFileSync(join(d, "resource-agents-deps.target.d", "a.conf"), "[Unit]\nAfter=open-iscsi.service\n");
  writeFileSync(join(d, "resource-agents-deps.target.d", "c.txt"), "[Unit]\nAfter=txt.service\n");
  writeFileSync(join(d, "pacemaker.service"), "[Unit]\nDescription=a full copy\nAfter=corosync.service\n");
  symlinkSync("/lib/systemd/system/open-iscsi.service", join(d, "iscsi.service"));
  const u = new UnitDir(d);
  t.ok(u.exists());
  t.same(
    u.dropInAfter("resource-agents-deps.target").map((a) => `${a.file.slice(d.length + 1)}:${a.line}:${a.value}`),
    ["resource-agents-deps.target.d/a.conf:2:open-iscsi.service", "resource-agents-deps.target.d/b.conf:3:iscsid.service", "resource-agents-deps.target.d/b.conf:3:multipathd.service"],
    "*.conf in name order, [Unit] only, comments skipped, continued lines joined",
  );
  t.same(u.directives("resource-agents-deps.target", "Wants").map((a) => a.value), ["iscsid.service"]);
  t.same(u.dropInAfter("pacemaker.service").map((a) => a.value), ["corosync.service"], "a full copy of the unit counts");
  t.same(u.unitFiles("iscsi.service"), [], "an alias link is not a copy");
  t.same(new UnitDir(join(tmp, "none")).dropInAfter("pacemaker.service"), []);
});

t.test("CIB corner cases: Pacemaker 1.1 <master>, id-ref, rule sets, rsc_defaults", async (t) => {
  const cib = parseCib(`<cib validate-with="pacemaker-1.2"><configuration>
  <crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
  <nodes><node id="1" uname="a"/><node id="2" uname="b"/><node id="r" uname="remote1" type="remote"/></nodes>
  <resources>
    <master id="ms_drbd"><meta_attributes id="ms-m"><nvpair id="ms-m1" name="master-max" value="2"/><nvpair id="ms-m2" name="notify" value="true"/></meta_attributes>
      <primitive id="drbd" class="ocf" provider="linbit" type="drbd"><instance_attributes id="drbd-i"><nvpair id="drbd-i1" name="drbd_resource" value="r0"/></instance_attributes></primitive>
    </master>
    <group id="g"><primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr2">
      <instance_attributes id="ip-rule"><rule id="ip-r" score="0"><expression id="e" attribute="#uname" operation="eq" value="a"/></rule><nvpair id="ip-r1" name="ip" value="10.0.0.9"/></instance_attributes>
      <instance_attributes id="ip-i"><nvpair id="ip-i1" name="ip" value="10.0.0.1"/><nvpair id="ip-i2" id-ref="shared-nic"/></instance_attributes></primitive></group>
    <primitive id="other" class="ocf" provider="heartbeat" type="Dummy"><instance_attributes id="o-i"><nvpair id="shared-nic" name="nic" value="eth1"/></instance_attributes></primitive>
  </resources>
  <rsc_defaults><meta_attributes id="rd"><nvpair id="rd1" name="interleave" value="true"/></meta_attributes></rsc_defaults>
</configuration><status/></cib>`);
  t.same(cib.nodes, ["a", "b"], "remote nodes are not cluster members");
  t.equal(cib.properties["stonith-enabled"], "false");
  const ms = cib.clones[0]!;
  t.ok(ms.promotable, "<master> is promotable");
  t.equal(cloneMeta(cib, ms, "promoted-max"), "2", "master-max read as promoted-max");
  t.equal(cloneMeta(cib, ms, "interleave"), "true", "rsc_defaults fallback");
  const ip = cib.primitives.find((p) => p.id === "ip")!;
  t.same(ip.params, { ip: "10.0.0.1", nic: "eth1" }, "rule sets skipped, id-ref followed");
  t.equal(ip.group?.id, "g");
  t.same(cib.primitives.map((p) => p.id), ["drbd", "ip", "other"], "document order");
});
