// Pure parts of the iSCSI agents: name/portal/initiator syntax, tgtadm output parsing, the
// tgtd request encoding, targetcli's token rules and the fake's command-line grammar.
import t from "tap";
import { chapError, chooseImplementation, defaultScsiId, defaultSerial, initiatorsError, iscsiNameError, iserMatches, parseNameValues, parsePortal, ownPortalsClash, parsePortals, portalOfKey, portalsClash, samePortal, tgtInitiatorKind } from "../../lib/iscsi/syntax.js";
import { encodeRequest, parseAccounts, parsePortals as tgtPortals, parseTargetParams, parseTargets, tgtError } from "../../lib/iscsi/tgtadm.js";
import { Batch, PREFS_LINE } from "../../lib/iscsi/targetcli.js";
import { OcfError } from "../../lib/ocf/codes.js";
import { parseLine } from "../fakes/targetcli.js";
import { iscsiDbOf } from "../../lib/iscsi/initiator.js";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

t.test("iSCSI names", async (t) => {
  for (const ok of ["iqn.2003-01.org.linux-iscsi.pcmk-1.x8664:sn.56c2d5f061b1", "iqn.2026-01.com.example", "IQN.2026-01.COM.Example:Disk.1", "eui.02004567A425678D", "naa.52004567ba64678d", "naa.600a0b80002616920000000000000000"]) {
    t.equal(iscsiNameError(ok), undefined, ok);
  }
  for (const bad of ["", "iqn", "iqn.2026-13.com.example", "iqn.26-01.com.x", "iqn.2026-01.com.example:a b", "iqn.2026-01.com_example", "iqn.2026-01.-bad.com", "eui.123", "naa.xyz", "$(reboot)", `iqn.2026-01.com.x:${"a".repeat(230)}`]) {
    t.type(iscsiNameError(bad), "string", JSON.stringify(bad));
  }
});

t.test("portals: IPv4 and [IPv6] with optional port, canonical IPv6, duplicates folded", async (t) => {
  t.same(parsePortal("0.0.0.0:3260"), { ip: "0.0.0.0", port: 3260 });
  t.same(parsePortal("10.231.0.1"), { ip: "10.231.0.1", port: 3260 });
  t.same(parsePortal("[FD31:0::1]:3261"), { ip: "[fd31::1]", port: 3261 });
  t.same(parsePortal("[::]"), { ip: "[::]", port: 3260 });
  for (const bad of ["fd00::1:3260", "300.1.1.1:3260", "10.0.0.1:0", "10.0.0.1:70000", "[zz::1]:3260", "host.example:3260", "[fd00::1"]) t.type(parsePortal(bad), "string", bad);
  t.same(parsePortals("10.0.0.1:3260  10.0.0.1 [::1]"), [{ ip: "10.0.0.1", port: 3260 }, { ip: "[::1]", port: 3260 }]);
  t.ok(iserMatches("10.0.0.1", { ip: "10.0.0.1", port: 3261 }), "address alone matches any port");
  t.notOk(iserMatches("10.0.0.1:3260", { ip: "10.0.0.1", port: 3261 }));
  t.ok(iserMatches("fd31::1", { ip: "[fd31::1]", port: 3260 }));
  t.ok(iserMatches("[fd31::1]:3260", { ip: "[fd31::1]", port: 3260 }));
});

t.test("initiators: names everywhere, addresses for tgt", async (t) => {
  t.equal(tgtInitiatorKind("iqn.1993-08.org.debian:01:abc"), "name");
  for (const a of ["ALL", "10.0.0.1", "10.0.0.0/24", "fd31::2", "fd31::/64"]) t.equal(tgtInitiatorKind(a), "address", a);
  t.equal(tgtInitiatorKind("10.0.0.0/33"), undefined);
  t.equal(initiatorsError("iqn.1993-08.org.debian:01:a 10.0.0.1"), undefined);
  t.match(initiatorsError("iqn.1993-08.org.debian:01:a ;reboot"), /neither an iSCSI name nor an address/);
});

t.test("name=value lists and CHAP credentials", async (t) => {
  t.same(parseNameValues("MaxRecvDataSegmentLength=65536  login_timeout=10"), [["MaxRecvDataSegmentLength", "65536"], ["login_timeout", "10"]]);
  t.type(parseNameValues("novalue"), "string");
  t.type(parseNameValues("a=b =c"), "string");
  t.equal(chapError("Secr3t!pass"), undefined);
  for (const bad of ["has space", "NULL", "tab\there", "x".repeat(256), "é"]) t.type(chapError(bad), "string", bad);
});

t.test("defaults shared with upstream: md5 serial, 16-byte scsi_id", async (t) => {
  t.equal(defaultSerial("p_lun1"), "6e9272f1", "echo -n p_lun1 | md5sum | cut -c1-8");
  t.equal(defaultScsiId("a-very-long-resource-name"), "a-very-long-reso");
});

t.test("implementation: configured, else lio-t with targetcli, else tgt with tgtadm", async (t) => {
  const which = (have: string[]) => (c: string) => (have.includes(c) ? `/usr/bin/${c}` : undefined);
  t.equal(chooseImplementation("tgt", which(["targetcli"])), "tgt");
  t.equal(chooseImplementation("", which(["targetcli", "tgtadm"])), "lio-t");
  t.equal(chooseImplementation("", which(["tgtadm"])), "tgt");
  t.equal(chooseImplementation("", which([])), undefined);
});

const SHOW = `Target 1: iqn.2026-01.test:t1
    System information:
        Driver: iscsi
        State: ready
    I_T nexus information:
        I_T nexus: 3
            Initiator: iqn.2008-11.org.linux-kvm alias: none
            Connection: 0
                IP Address: 10.231.0.1
    LUN information:
        LUN: 0
            Type: controller
            SCSI ID: IET     00010000
            SCSI SN: beaf10
            Size: 0 MB, Block size: 1
            Online: Yes
            Removable media: No
            Prevent removal: No
            Readonly: No
            SWP: No
            Thin-provisioning: No
            Backing store type: null
            Backing store path: None
            Backing store flags: 
        LUN: 1
            Type: disk
            SCSI ID: myid
            SCSI SN: abcd1234
            Size: 67 MB, Block size: 512
            Online: Yes
            Removable media: No
            Prevent removal: No
            Readonly: No
            SWP: No
            Thin-provisioning: No
            Backing store type: rdwr
            Backing store path: /tmp/tsi-exp/disk1.img
            Backing store flags: 
    Account information:
        bob
        carol (outgoing)
    ACL information:
        ALL
        iqn.2026-01.init:a
Target 2: iqn.2026-01.test:t2
    System information:
        Driver: iscsi
        State: ready
    I_T nexus information:
    LUN information:
        LUN: 0
            Type: controller
            SCSI ID: IET     00020000
            SCSI SN: beaf20
            Size: 0 MB, Block size: 1
            Backing store type: null
            Backing store path: None
            Backing store flags: 
    Account information:
    ACL information:
`;

t.test("tgtadm --op show --mode target (tgt 1.0.85 output)", async (t) => {
  const ts = parseTargets(SHOW);
  t.equal(ts.length, 2);
  const [a, b] = ts;
  t.same({ tid: a!.tid, iqn: a!.iqn, state: a!.state, acls: a!.acls, accounts: a!.accounts, outgoing: a!.outgoing }, { tid: 1, iqn: "iqn.2026-01.test:t1", state: "ready", acls: ["ALL", "iqn.2026-01.init:a"], accounts: ["bob"], outgoing: ["carol"] });
  t.same(a!.nexus, [{ sid: 3, initiator: "iqn.2008-11.org.linux-kvm", connections: [{ cid: 0, ip: "10.231.0.1" }] }]);
  t.same(a!.luns[1], { lun: 1, type: "disk", scsiId: "myid", scsiSn: "abcd1234", sizeMb: 67, blockSize: 512, bsType: "rdwr", path: "/tmp/tsi-exp/disk1.img" });
  t.same({ acls: b!.acls, accounts: b!.accounts, luns: b!.luns.length, nexus: b!.nexus }, { acls: [], accounts: [], luns: 1, nexus: [] });
  t.same(parseTargets(""), []);
  t.same([...parseTargetParams("MaxRecvDataSegmentLength=8192\nHeaderDigest=None\n")], [["MaxRecvDataSegmentLength", "8192"], ["HeaderDigest", "None"]]);
  t.same(tgtPortals("Portal: 10.231.0.1:3261,1\nPortal: [fd31::1]:3260,1\n"), ["10.231.0.1:3261", "[fd31::1]:3260"]);
  t.same(parseAccounts("Account list:\n    bob\n    alice\n"), ["bob", "alice"]);
  t.equal(tgtError(14), "this account already exists");
});

t.test("tgtd request: the 120-byte header tgtadm 1.0.85 sends (checked against strace)", async (t) => {
  const b = encodeRequest({ mode: 7, op: 0 }, "user=bob,password=s3cret");
  const hex = Buffer.from(b).toString("hex");
  // strace of `tgtadm --lld iscsi --mode account --op new --user bob --password s3cret`
  const expectHeader =
    "07000000" + "00000000" + Buffer.from("iscsi").toString("hex") + "00".repeat(59) + "91000000" + "ffffffff" + "00".repeat(8) + "ff".repeat(8) + "00".repeat(24);
  t.equal(hex.slice(0, 240), expectHeader);
  t.equal(Buffer.from(b.subarray(120)).toString(), "user=bob,password=s3cret\0");
  t.equal(b.length, 145);
});

t.test("targetcli batches: one line per command, tokens checked against configshell's grammar", async (t) => {
  const b = new Batch()
    .createTarget("iqn.2026-01.com.example:t1")
    .createPortal("iqn.2026-01.com.example:t1", "fd31::1", 3260)
    .createAcl("iqn.2026-01.com.example:t1", "iqn.1993-08.org.debian:01:ab")
    .createBackstore("block", "p_lun1", "/dev/drbd1", "6e9272f1")
    .createBackstore("fileio", "p_lun2", "/srv/x.img", "abc", false)
    .createLun("iqn.2026-01.com.example:t1", "block", "p_lun1", 1)
    .mapLun("iqn.2026-01.com.example:t1", "iqn.1993-08.org.debian:01:ab", 1, 1);
  t.same(b.lines, [
    "/iscsi create iqn.2026-01.com.example:t1",
    "/iscsi/iqn.2026-01.com.example:t1/tpg1/portals create fd31::1 3260",
    "/iscsi/iqn.2026-01.com.example:t1/tpg1/acls create iqn.1993-08.org.debian:01:ab add_mapped_luns=false",
    "/backstores/block create name=p_lun1 dev=/dev/drbd1 wwn=6e9272f1",
    "/backstores/fileio create name=p_lun2 file_or_dev=/srv/x.img wwn=abc write_back=false",
    "/iscsi/iqn.2026-01.com.example:t1/tpg1/luns create /backstores/block/p_lun1 1 add_mapped_luns=false",
    "/iscsi/iqn.2026-01.com.example:t1/tpg1/acls/iqn.1993-08.org.debian:01:ab create 1 1",
  ]);
  t.throws(() => new Batch().createBackstore("block", "x", "/dev/with space", "s"), OcfError);
  t.throws(() => new Batch().createBackstore("block", "x", "/dev/x'y", "s"), OcfError);
  t.throws(() => new Batch().createBackstore("block", "x", "/dev/x\nexit", "s"), OcfError);
  t.match(PREFS_LINE, /^set global auto_save_on_exit=false /);
  t.match(PREFS_LINE, /auto_add_default_portal=false/);
  t.match(PREFS_LINE, /auto_enable_tpgt=false/);
  t.match(PREFS_LINE, /auto_add_mapped_luns=false/);
});

t.test("portalsClash: which LIO portals the kernel cannot listen on together", async (t) => {
  t.ok(portalsClash("127.0.0.1:3260", "0.0.0.0:3260"), "IPv4 wildcard covers IPv4");
  t.ok(portalsClash("0.0.0.0:3260", "10.0.0.1:3260"));
  t.ok(portalsClash("[::]:3260", "0.0.0.0:3260"), "IPv6 wildcard is dual-stack");
  t.ok(portalsClash("127.0.0.1:3262", "[::]:3262"));
  t.ok(portalsClash("[::1]:3260", "[::]:3260"));
  t.notOk(portalsClash("[::1]:3260", "0.0.0.0:3260"), "IPv4 wildcard does not cover IPv6");
  t.notOk(portalsClash("0.0.0.0:3260", "0.0.0.0:3260"), "the same ip:port is shared");
  t.notOk(portalsClash("127.0.0.1:3260", "0.0.0.0:3261"), "another port");
  t.notOk(portalsClash("127.0.0.1:3260", "10.0.0.1:3260"), "two specific addresses");
  t.notOk(portalsClash("[0::0]:3260", "[::]:3260"), "one wildcard, two spellings");
  t.notOk(portalsClash("[0::1]:3260", "[::1]:3260"), "one address, two spellings");
  t.ok(portalsClash("[0:0::0]:3260", "[fd31::1]:3260"));
  t.ok(samePortal("[0::1]:3260", "[::1]:3260"), "one socket address, two spellings");
  t.notOk(samePortal("[::1]:3260", "[::1]:3261"));
  t.same(portalOfKey("[0::1]:3261"), { ip: "[0::1]", port: 3261 }, "spelled as in configfs (targetcli deletes by it)");
  const P = (ip: string, port: number) => ({ ip, port });
  t.match(ownPortalsClash([P("10.0.0.1", 3260), P("[::]", 3260)]), /portals 10.0.0.1:3260 and \[::\]:3260 cannot both exist/);
  t.equal(ownPortalsClash([P("10.0.0.1", 3260), P("[::]", 3261), P("0.0.0.0", 3262)]), undefined);
});

t.test("the fake targetcli parses like configshell: path, command, params; stops at an unknown character", async (t) => {
  t.same(parseLine("/iscsi create iqn.2026-01.x.y:z"), { path: "/iscsi", command: "create", pparams: ["iqn.2026-01.x.y:z"], kparams: {} });
  t.same(parseLine("set global a=b c="), { path: "", command: "set", pparams: ["global"], kparams: { a: "b", c: "" } });
  t.same(parseLine("/backstores/block create name=x dev=/dev/x'ignored"), { path: "/backstores/block", command: "create", pparams: [], kparams: { name: "x", dev: "/dev/x" } });
  t.same(parseLine("/iscsi"), { path: "/iscsi", command: "", pparams: [], kparams: {} });
  // no whitespace needed between tokens (pyparsing): a dash ends the command word
  t.same(parseLine("tsstor-barrier"), { path: "", command: "tsstor", pparams: ["-barrier"], kparams: {} });
  t.same(parseLine("..ls"), { path: "..", command: "ls", pparams: [], kparams: {} });
});

t.test("open-iscsi's node database: the one iscsiadm was built with", async (t) => {
  // (the strings as they sit in Debian 12's iscsiadm 2.1.8 and Debian 13's 2.1.11, among others)
  const dir = mkdtempSync(join(tmpdir(), "tsstor-iscsidb-"));
  const bin = (name: string, ...strings: string[]) => {
    const f = join(dir, name);
    writeFileSync(f, Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0]), ...strings.map((x) => Buffer.from(`${x}\0`))]));
    return f;
  };
  t.equal(iscsiDbOf(bin("deb12", "/etc/iscsi/iscsid.conf", "/etc/iscsi/nodes", "/etc/iscsi/send_targets", "/run/lock/iscsi")), "/etc/iscsi");
  t.equal(iscsiDbOf(bin("deb13", "/etc/iscsi/iscsid.conf", "/var/lib/iscsi/nodes", "/var/lib/iscsi/send_targets", "/run/lock/iscsi")), "/var/lib/iscsi");
});
