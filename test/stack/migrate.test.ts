// tsstor stack migrate: heartbeat v1 (haresources) + IET (ietd.conf, initiators.allow) + drbd.conf
// to a failover stack file. The seed 004 setup (two haresources lines preferring node1, two DRBD
// resources, an ext3 config volume, the VIP, IET with one target) loads as tsstor's own stack file;
// CHAP secrets never reach the output, the notes or an error; hostile input is refused with
// FILE:LINE and nothing generated; tgt renumbers LUN 0; initiators.allow becomes the initiator list.
import t from "tap";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yargs from "yargs";
import { MigrateError, migrateCommand, migrateToStack, type MigrateOptions } from "../../cli/stack/migrate.js";
import { StackFileError, parseStack } from "../../cli/stack/file.js";
import { REPO } from "../lib/xml.js";

const FIX = join(REPO, "test/stack/fixtures/heartbeat-iet");
const fx = (f: string) => readFileSync(join(FIX, f), "utf8");
const SECRET = "Fake-Chap-Secret-4711xyz";
const DRBD_SECRET = "Fake-Drbd-Secret-0815abc";
const SEED: MigrateOptions = { haresources: fx("haresources"), ietd: fx("ietd.conf"), drbdconf: fx("drbd.conf"), implementation: "lio-t", name: "storage", fencing: "sbd" };

const tmp = mkdtempSync(join(tmpdir(), "tsstor-migrate-"));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
/** a CHAP secret file as the operator creates it (root only, mode 0600) */
const secretFile = join(tmp, "chap");
writeFileSync(secretFile, "Operator-New-Secret-1\n");
chmodSync(secretFile, 0o600);

/** The generated file as apply would load it on a node: fencing none (as test/stack/file.test.ts), the CHAP secret files created. */
function load(text: string) {
  const probe = text.replace(/^fencing:\n(?: {2}.*\n)+/m, "fencing:\n  method: none\n").replace(/(secret-file: )\/etc\/tsstor\/\S+/g, `$1${secretFile}`);
  return parseStack(probe, "migrated.yaml");
}
const cmds = (text: string) => load(text).plan.commands.map((c) => c.join(" "));
function problems(o: Partial<MigrateOptions>): string[] {
  try {
    migrateToStack({ ...SEED, ...o });
  } catch (e) {
    if (e instanceof MigrateError) return e.problems;
    throw e;
  }
  return [];
}

t.test("seed 004: two haresources lines, two DRBD resources, IET: one failover stack that tsstor loads", async (t) => {
  const r = migrateToStack(SEED);
  const s = load(r.text);
  t.equal(s.kind, "failover");
  const c = s.plan.commands.map((x) => x.join(" "));
  t.match(c[0], /^resource create storage-drbd-iscsi\.config ocf:tsstor:drbd drbd_resource=iscsi\.config .*promotable/, "DRBD iscsi.config, promotable");
  t.match(c[2], /^resource create storage-drbd-iscsi\.target\.0 ocf:tsstor:drbd drbd_resource=iscsi\.target\.0 .*promotable/, "DRBD iscsi.target.0, promotable");
  const members = (g: string) => s.plan.commands.filter((x) => x.slice(0, 4).join(" ") === `resource group add ${g}`).flatMap((x) => x.slice(4));
  t.same(members("storage-group"), ["storage-fs-data", "storage-target-storage.disk.0"], "mount, target");
  t.same(members("storage-front"), ["storage-ip-10.11.55.50"], "then the VIP");
  t.ok(c.includes("constraint order start storage-target-storage.disk.0-lun0 then start storage-front kind=Optional"), "the VIP after LUN 0");
  t.ok(c.some((x) => /Filesystem device=\/dev\/drbd0 directory=\/srv\/data fstype=ext3/.test(x)), "the ext3 config volume");
  t.ok(c.some((x) => /iSCSITarget iqn=iqn\.2011-08\.local\.demo:storage\.disk\.0 portals=0\.0\.0\.0:3260 incoming_username=geekshlby incoming_password_file=\S+ implementation=lio-t/.test(x)), "the target: CHAP user, secret from a file, LIO");
  t.ok(c.some((x) => /iSCSILogicalUnit target_iqn=iqn\.2011-08\.local\.demo:storage\.disk\.0 lun=0 path=\/dev\/drbd1 implementation=lio-t/.test(x)), "LUN 0 on /dev/drbd1 with LIO");
  t.ok(c.some((x) => /IPaddr2 ip=10\.11\.55\.50 cidr_netmask=8 nic=eth0/.test(x)), "IPaddr::10.11.55.50/8/eth0");
  for (const d of ["iscsi.config", "iscsi.target.0"]) {
    t.ok(c.includes(`constraint colocation add storage-group with Promoted storage-drbd-${d}-clone score=INFINITY`), `group with Promoted ${d}`);
    t.ok(c.includes(`constraint order promote storage-drbd-${d}-clone then start storage-group`), `promote ${d} first`);
  }
  t.match(r.text, /^ {2}- resource: iscsi\.config {3}# \/dev\/drbd0, haresources line 3$/m, "drbddisk mapped to its device through drbd.conf");
  t.match(r.text, /^ {2}- resource: iscsi\.target\.0 {3}# \/dev\/drbd1, haresources line 4$/m);
  t.match(r.text, /^ {4}chap-secret-file: \/etc\/tsstor\/chap-storage\.disk\.0 /m, "CHAP: the secret file's path");
  t.match(r.text, /# WARNING: no initiators\.allow was given[^\n]*\n[^\n]*\n {4}allow-any-initiator: true/, "open target: a WARNING comment above allow-any-initiator");
  t.match(r.text, /^fencing:\n {2}method: sbd\n {2}# sbd-device: .*REQUIRED/m, "the fencing method, with what it still needs");

  const notes = r.notes.join("\n");
  t.match(notes, /The 2 haresources lines \(lines 3, 4\) are ONE group now: everything runs on one node and fails over together/);
  t.match(notes, /Preferred node: node1 .*pcs constraint location storage-group prefers node1=50/);
  t.match(notes, /line 4 started IPaddr::10\.11\.55\.50\/8\/eth0 before iscsitarget; the stack starts targets first/);
  t.match(notes, /CHAP user geekshlby \(ietd\.conf line 4\)\. The secret was NOT copied: on EVERY node create \/etc\/tsstor\/chap-storage\.disk\.0 .*install -m 0600/);
  for (const p of ["Alias disk0", "MaxConnections 1", "InitialR2T Yes", "HeaderDigest CRC32C,None", "Wthreads 8"]) t.ok(notes.includes(p), `IET setting listed: ${p}`);
  t.match(notes, /ESXi names them t10\.IET.*snapshot.*esxcli storage vmfs snapshot mount/s, "the LUN identity change for ESXi");
  t.match(notes, /DRBD 8\.3 syntax/);
  t.match(notes, /dopd \(drbd-peer-outdater\)/);
  t.match(notes, /DRBD iscsi\.config, iscsi\.target\.0: no "fencing resource-and-stonith"/, "apply will check DRBD's fencing with sbd");
  t.match(notes, /stop heartbeat on every node/);
  // every note is in the file too
  for (const n of r.notes) t.ok(r.text.replace(/\n# {1,3}/g, " ").includes(n.split(" ").slice(0, 6).join(" ")), `note in the file: ${n.slice(0, 50)}`);

  // as written, once the secret file exists: refused only for the sbd devices the operator fills in
  try {
    parseStack(r.text.replace(/(secret-file: )\/etc\/tsstor\/\S+/g, `$1${secretFile}`), "migrated.yaml");
    t.fail("sbd without sbd-device must not load");
  } catch (e) {
    t.ok(e instanceof StackFileError);
    const p = (e as StackFileError).problems;
    t.ok(p.length && p.every((x) => /fencing|sbd|corosync|drbd/i.test(x)), `only fencing problems: ${p.join(" | ")}`);
  }
});

t.test("secrets: the CHAP and DRBD secrets are in no output, note or error", async (t) => {
  const outs: string[] = [];
  for (const implementation of ["lio-t", "tgt"] as const)
    for (const fencing of ["sbd", "none", "agent"]) {
      const r = migrateToStack({ ...SEED, implementation, fencing, initiatorsAllow: fx("initiators.allow") });
      outs.push(r.text, ...r.notes);
    }
  const mutual = { ...SEED, ietd: fx("ietd.conf").replace("# OutgoingUser geekshlby password", `OutgoingUser target-user ${SECRET}`) };
  const m = migrateToStack(mutual);
  outs.push(m.text, ...m.notes);
  t.match(m.notes.join("\n"), /WARNING: .*the outgoing \(mutual\) CHAP secret must differ from the incoming one/, "the same secret both ways is reported, not shown");
  t.match(m.text, /mutual-chap-secret-file: \/etc\/tsstor\/chap-storage\.disk\.0-mutual/);
  const bad = [
    fx("ietd.conf").replace(`IncomingUser geekshlby ${SECRET}`, `IncomingUser geekshlby ${SECRET} more words`),
    fx("ietd.conf").replace("Alias disk0", `${SECRET} x`),
    fx("ietd.conf").replace(`IncomingUser geekshlby ${SECRET}`, `IncomingUser ${SECRET}`),
  ];
  for (const ietd of bad) {
    const p = problems({ ietd });
    t.ok(p.length, `refused: ${p[0]}`);
    outs.push(...p);
  }
  for (const o of outs) {
    t.notOk(o.includes(SECRET), "no CHAP secret");
    t.notOk(o.includes(DRBD_SECRET), "no DRBD shared secret");
  }
  t.ok(outs.length > 40, `${outs.length} outputs checked`);
});

t.test("a single haresources line: DRBD -> ext4 -> VIP -> init scripts and MailTo as services", async (t) => {
  const r = migrateToStack({
    haresources: "nfs1 drbddisk::r0 Filesystem::/dev/drbd0::/srv/nfs::ext4::noatime IPaddr2::192.168.10.70/255.255.255.0/eth1 nfs-kernel-server MailTo::ops@example.com::nfs-failover\n",
    implementation: "lio-t",
    name: "nfs",
    fencing: "none",
  });
  const c = cmds(r.text);
  t.same(load(r.text).plan.commands.filter((x) => x[0] === "resource" && x[1] === "group").flatMap((x) => x.slice(4)), ["nfs-fs-nfs", "nfs-ip-192.168.10.70", "nfs-nfs-kernel-server", "nfs-MailTo"]);
  t.ok(c.some((x) => /Filesystem device=\/dev\/drbd0 directory=\/srv\/nfs fstype=ext4 options=noatime/.test(x)));
  t.ok(c.some((x) => /IPaddr2 ip=192\.168\.10\.70 cidr_netmask=24 nic=eth1/.test(x)), "a dotted netmask becomes a prefix");
  t.ok(c.some((x) => x.startsWith("resource create nfs-nfs-kernel-server systemd:nfs-kernel-server")));
  t.ok(c.some((x) => /ocf:heartbeat:MailTo email=ops@example\.com subject=nfs-failover/.test(x)));
  const notes = r.notes.join("\n");
  t.notMatch(notes, /ONE group/, "one line: nothing merged");
  t.match(notes, /Preferred node: nfs1 .*pcs constraint location nfs-group prefers nfs1=50/);
  t.match(notes, /init script nfs-kernel-server is now the systemd unit nfs-kernel-server\.service .*systemctl disable nfs-kernel-server/);
  t.match(notes, /WARNING: fencing none/);
  t.notOk(r.text.includes("targets:"), "no IET: no target");

  // continuation lines, a bare address (IPaddr), a comment at the end of a line
  const r2 = migrateToStack({ haresources: "# web\nweb1 10.0.0.9/24/eth0 \\\n   apache2   # the site\n", implementation: "lio-t", name: "web", fencing: "none" });
  t.same(load(r2.text).plan.commands.filter((x) => x[0] === "resource" && x[1] === "group").flatMap((x) => x.slice(4)), ["web-ip-10.0.0.9", "web-apache2"]);
  t.match(r2.text, /# haresources line 3: apache2/, "the continued line's resource keeps its own line number");
});

t.test("errors name the file and the line, and nothing is generated", async (t) => {
  const HA = "node1 drbddisk::iscsi.config Filesystem::/dev/drbd0::/srv/data::ext3\nnode1 IPaddr::10.11.55.50/8/eth0 drbddisk::iscsi.target.0 iscsitarget\n";
  const ha = (line2: string) => ({ haresources: `${HA.split("\n")[0]}\n${line2}\n`, files: { haresources: "/etc/ha.d/haresources" } });
  const ietd = (text: string) => ({ ietd: text, files: { ietd: "/etc/iet/ietd.conf" } });
  const IETD = fx("ietd.conf");
  const cases: Array<[string, Partial<MigrateOptions>, RegExp]> = [
    ["unknown resource with arguments", ha("node1 Foo::bar iscsitarget"), /^\/etc\/ha\.d\/haresources:2: "Foo::bar": unknown resource "Foo"/],
    ["heartbeat script without equivalent", ha("node1 LVM::vg0 iscsitarget"), /^\/etc\/ha\.d\/haresources:2: "LVM::vg0": heartbeat's LVM resource has no equivalent/],
    ["shell characters", ha("node1 apache2;reboot iscsitarget"), /^\/etc\/ha\.d\/haresources:2: "apache2;reboot": characters a heartbeat resource never has/],
    ["command substitution", ha("node1 $(reboot) iscsitarget"), /^\/etc\/ha\.d\/haresources:2: "\$\(reboot\)": characters/],
    ["backquotes in a path", ha("node1 Filesystem::/dev/drbd1::/srv/`id`::ext4 iscsitarget"), /^\/etc\/ha\.d\/haresources:2: .*characters/],
    ["not a node name", ha("-rf iscsitarget"), /^\/etc\/ha\.d\/haresources:2: "-rf" is not a node name/],
    ["a filesystem the stack does not mount", ha("node1 Filesystem::/dev/drbd1::/srv/x::jfs iscsitarget"), /^\/etc\/ha\.d\/haresources:2: .*filesystem type "jfs"/],
    ["no filesystem type", ha("node1 Filesystem::/dev/drbd1::/srv/x iscsitarget"), /haresources:2: .*no filesystem type/],
    ["a bad address", ha("node1 IPaddr::10.11.55.500/8/eth0 iscsitarget"), /haresources:2: .*"10\.11\.55\.500" is not an IPv4 address/],
    ["a bad netmask", ha("node1 IPaddr::10.11.55.50/255.0.255.0/eth0 iscsitarget"), /haresources:2: .*netmask "255\.0\.255\.0"/],
    ["DRBD resource not in drbd.conf", ha("node1 drbddisk::r9 iscsitarget"), /haresources:2: "drbddisk::r9": drbd\.conf has no resource "r9"/],
    ["drbddisk alone without drbd.conf", { ...ha("node1 drbddisk iscsitarget"), drbdconf: undefined }, /haresources:2: "drbddisk": drbddisk without a resource stands for every DRBD resource: give --drbdconf/],
    ["IET without ietd.conf", { ietd: undefined }, /^haresources:4: IET's init script starts the targets of ietd\.conf: give --ietd FILE/],
    ["ietd.conf without IET in haresources", { haresources: "node1 drbddisk::iscsi.config Filesystem::/dev/drbd0::/srv/data::ext3\n" }, /^ietd\.conf: given, but no haresources line starts IET/],
    ["invalid target IQN", ietd(IETD.replace("Target iqn.2011-08.local.demo:storage.disk.0", "Target IQN.2011-08.Local.Demo:storage")), /^\/etc\/iet\/ietd\.conf:3: Target: "IQN\.2011-08\.Local\.Demo:storage" is not an iSCSI name/],
    ["IQN with shell characters", ietd(IETD.replace("storage.disk.0", "disk;reboot")), /^\/etc\/iet\/ietd\.conf:3: Target: /],
    ["Path with a space", ietd(IETD.replace("Path=/dev/drbd1", "Path=/dev/my disk")), /^\/etc\/iet\/ietd\.conf:6: Lun 0: Path: "\/dev\/my disk" is not a plain absolute path/],
    ["Path with shell characters", ietd(IETD.replace("Path=/dev/drbd1", "Path=/dev/$(reboot)")), /^\/etc\/iet\/ietd\.conf:6: Lun 0: Path: .*not a plain absolute path/],
    ["unknown keyword", ietd(IETD.replace("Wthreads 8", "Wthreads 8\nRunCommand /bin/sh")), /^\/etc\/iet\/ietd\.conf:24: unknown keyword "RunCommand"/],
    ["unknown Lun parameter", ietd(IETD.replace("Type=blockio", "Type=blockio,Exec=/bin/sh")), /ietd\.conf:6: Lun 0: unknown parameter "Exec"/],
    ["nullio", ietd(IETD.replace("Type=blockio", "Type=nullio")), /ietd\.conf:6: Lun 0: Type=nullio is a test device/],
    ["a setting with shell characters", ietd(IETD.replace("Alias disk0", "Alias disk0;reboot")), /ietd\.conf:7: Alias: value "disk0;reboot" has characters that are refused here/],
    ["a target without LUN", ietd(IETD.replace("Lun 0 Path=/dev/drbd1,Type=blockio", "")), /ietd\.conf:3: Target iqn\.2011-08\.local\.demo:storage\.disk\.0 has no Lun/],
    ["duplicate LUN", ietd(IETD.replace("Alias disk0", "Lun 0 Path=/dev/drbd2,Type=blockio")), /ietd\.conf:7: Lun 0 of iqn\.2011-08\.local\.demo:storage\.disk\.0 is defined twice/],
    ["Lun outside a Target", ietd(`Lun 0 Path=/dev/drbd1\n${IETD}`), /ietd\.conf:1: Lun outside a Target/],
    ["initiators.allow: a target not in ietd.conf", { initiatorsAllow: "iqn.2011-08.local.demo:other iqn.1998-01.com.vmware:esx1\n" }, /^initiators\.allow:1: target iqn\.2011-08\.local\.demo:other is not in ietd\.conf/],
    ["initiators.allow: a regular expression", { initiatorsAllow: "ALL iqn.1998-01.com.vmware:.*\n" }, /^initiators\.allow:1: "iqn\.1998-01\.com\.vmware:\.\*" is not ALL, an initiator IQN/],
    ["drbd.conf syntax", { drbdconf: "resource r0 {\n  device /dev/drbd0\n}\n" }, /^drbd\.conf:2: "device \/dev\/drbd0" is missing its ";"/],
    ["bad name", { name: "9storage" }, /^--name: "9storage" is not a valid resource id/],
    ["bad fencing", { fencing: "stonith" }, /^--fencing: "stonith" is not one of sbd, watchdog, agent, drbd-quorum, none/],
  ];
  for (const [what, o, re] of cases) {
    const p = problems(o);
    t.ok(p.length, `${what}: refused`);
    t.match(p.join("\n"), re, what);
  }
  // every problem at once
  const many = problems({ ...ha("node1 Foo::bar apache2;x iscsitarget"), ...ietd(IETD.replace("Alias disk0", "Bogus 1")) });
  t.ok(many.length >= 3, `all problems listed (${many.length})`);
});

t.test("LIO keeps LUN 0; tgt reserves it: the target's LUNs move up by one, in order", async (t) => {
  const ietd = fx("ietd.conf").replace("Alias disk0", "Lun 1 Path=/dev/drbd2,Type=blockio,ScsiSN=IETSN0001,ScsiId=ietid01,IOMode=wb");
  const drbdconf = `${fx("drbd.conf")}resource r2 { device /dev/drbd2; }\n`;
  const haresources = fx("haresources").replace("iscsitarget", "drbddisk::r2 iscsitarget");
  const lio = migrateToStack({ ...SEED, ietd, drbdconf, haresources, fencing: "none" });
  const tgt = migrateToStack({ ...SEED, ietd, drbdconf, haresources, fencing: "none", implementation: "tgt" });
  const luns = (text: string) => cmds(text).flatMap((c) => /iSCSILogicalUnit .*lun=(\d+) path=(\S+) .*implementation=(\S+)/.exec(c)?.slice(1) ?? []);
  t.same(luns(lio.text), ["0", "/dev/drbd1", "lio-t", "1", "/dev/drbd2", "lio-t"], "LIO: LUN 0 and 1 as in IET");
  t.same(luns(tgt.text), ["1", "/dev/drbd1", "tgt", "2", "/dev/drbd2", "tgt"], "tgt: 0 -> 1, 1 -> 2");
  t.match(tgt.notes.join("\n"), /tgt reserves LUN 0 for its controller: LUNs renumbered 0 -> 1, 1 -> 2/);
  t.notMatch(lio.notes.join("\n"), /renumbered/);
  t.match(tgt.text, /- lun: 1 {3}# ietd\.conf line 6: IET LUN 0/);
  t.notOk(migrateToStack({ ...SEED, fencing: "none", implementation: "tgt" }).text.includes("lun: 0"), "seed 004 with tgt: no LUN 0");
  // the serial and id initiators know the disk by are carried over; what has no key is named, not dropped
  const notes = lio.notes.join("\n");
  t.match(lio.text, /path: \/dev\/drbd2\n\s+scsi-sn: IETSN0001 .*\n\s+scsi-id: ietid01/, "ScsiSN and ScsiId become scsi-sn and scsi-id");
  t.match(cmds(lio.text).join("\n"), /lun=1 path=\/dev\/drbd2 .*scsi_sn=IETSN0001 scsi_id=ietid01/, "and the agent's scsi_sn and scsi_id");
  t.notMatch(notes, /ScsiSN=IETSN0001 is not carried over/);
  t.match(notes, /IOMode=wb .* is not carried over/);
  const ro = migrateToStack({ ...SEED, fencing: "none", ietd: fx("ietd.conf").replace("Type=blockio", "Type=blockio,IOMode=ro") });
  t.match(ro.notes.join("\n"), /WARNING: LUN 0 .* was read-only \(IOMode=ro\).*can WRITE/);
});

t.test("initiators.allow: the target's IQNs become its initiator list; ALL or addresses only leave it open, with a WARNING", async (t) => {
  const r = migrateToStack({ ...SEED, fencing: "none", initiatorsAllow: fx("initiators.allow") });
  t.match(r.text, /^ {4}initiators:\n {6}- iqn\.1998-01\.com\.vmware:esx1-4c2a1f\n {6}- iqn\.1998-01\.com\.vmware:esx2-9b3e07\n/m);
  t.notMatch(r.text, /allow-any-initiator/);
  t.ok(cmds(r.text).some((c) => c.includes("allowed_initiators=iqn.1998-01.com.vmware:esx1-4c2a1f iqn.1998-01.com.vmware:esx2-9b3e07")), "the agents' allowed_initiators");
  t.match(r.notes.join("\n"), /address entries of initiators\.allow \(10\.11\.55\.0\/24 line 3\) are not carried over/);
  t.notMatch(r.notes.join("\n"), /WARNING: Target .* is open/);

  const any = migrateToStack({ ...SEED, fencing: "none", initiatorsAllow: "ALL ALL\n" });
  t.match(any.text, /# WARNING: initiators\.allow line 1 allows ALL initiators[^\n]*\n(?: {4}#[^\n]*\n)* {4}allow-any-initiator: true/);
  const addrs = migrateToStack({ ...SEED, fencing: "none", initiatorsAllow: "iqn.2011-08.local.demo:storage.disk.0 10.11.55.21, 10.11.55.22\n" });
  t.match(addrs.text, /allow-any-initiator: true/);
  t.match(addrs.notes.join("\n"), /WARNING: Target .* is open to any initiator .*lists only addresses/);
  for (const x of [any, addrs]) t.ok(load(x.text).plan.commands.length > 5, "loads");
});

t.test("resource ids that would clash get their own id; the file still loads", async (t) => {
  const r = migrateToStack({ haresources: "n1 Filesystem::/dev/sdb1::/srv/a/data::xfs Filesystem::/dev/sdc1::/srv/b/data::xfs apache2\n", implementation: "lio-t", name: "s", fencing: "none" });
  t.match(r.text, /directory: \/srv\/b\/data\n {4}fstype: xfs\n {4}id: s-fs-data-2/);
  t.same(load(r.text).plan.commands.filter((x) => x[0] === "resource" && x[1] === "group").flatMap((x) => x.slice(4)), ["s-fs-data", "s-fs-data-2", "s-apache2"]);
});

t.test("the command: prints the stack file, or writes it with the notes on stderr; bad input exits 2 and writes nothing", async (t) => {
  const run = async (args: string[]) => {
    let out = "";
    let err = "";
    let code = -1;
    const w1 = process.stdout.write.bind(process.stdout);
    const w2 = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
    try {
      await yargs(["stack", "migrate", ...args])
        .strict()
        .command("stack", "", (y) => y.command(migrateCommand((c) => (code = c))))
        .fail((msg) => {
          err += msg;
          code = 2;
        })
        .parseAsync();
    } finally {
      process.stdout.write = w1;
      process.stderr.write = w2;
    }
    return { out, err, code };
  };
  const f = (n: string) => join(FIX, n);
  const p = await run(["--haresources", f("haresources"), "--ietd", f("ietd.conf"), "--drbdconf", f("drbd.conf"), "--initiators-allow", f("initiators.allow"), "--fencing", "none"]);
  t.equal(p.code, 0, "exit 0");
  t.match(p.out, /^# tsstor failover stack migrated from heartbeat v1 .*\n[\s\S]*\nkind: failover\nname: storage\n/);
  t.ok(load(p.out).plan.commands.length > 5, "the printed file loads");
  t.notOk(p.out.includes(SECRET) || p.err.includes(SECRET), "no secret");

  const out = join(tmp, "stack.yaml");
  const w = await run(["--haresources", f("haresources"), "--ietd", f("ietd.conf"), "--drbdconf", f("drbd.conf"), "--implementation", "tgt", "--name", "esx", "--fencing", "sbd", "--out", out]);
  t.equal(w.code, 0, "exit 0");
  t.equal(w.out, "", "nothing on stdout");
  t.match(w.err, new RegExp(`tsstor: wrote ${out}; \\d+ notes`));
  t.match(readFileSync(out, "utf8"), /name: esx\n[\s\S]*implementation: tgt[\s\S]*- lun: 1 /);
  const again = await run(["--haresources", f("haresources"), "--ietd", f("ietd.conf"), "--fencing", "none", "--out", out]);
  t.equal(again.code, 2, "an existing file is not replaced");
  t.match(again.err, /exists .*--force/);
  t.match(readFileSync(out, "utf8"), /name: esx/, "unchanged");

  const bad = join(tmp, "haresources.bad");
  writeFileSync(bad, "node1 drbddisk::r0\nnode1 `reboot`\n");
  const out2 = join(tmp, "never.yaml");
  const e = await run(["--haresources", bad, "--fencing", "none", "--out", out2]);
  t.equal(e.code, 2);
  t.match(e.err, new RegExp(`^${bad}:2: "\`reboot\`": characters`));
  t.match(e.err, /nothing was written/);
  t.notOk(existsSync(out2), "no file");
  const missing = await run(["--haresources", join(tmp, "nope"), "--fencing", "none"]);
  t.equal(missing.code, 2);
  t.match(missing.err, /--haresources .*nope: cannot read it \(ENOENT\)/);
  const nofence = await run(["--haresources", f("haresources")]);
  t.equal(nofence.code, 2, "--fencing is required");
});
