// `tsstor stack ...` black box: the printed script, validation before any pcs command, --apply
// making exactly the script's calls (cib -> pcs -f ... -> cib-push diff-against) and stopping
// before the push on the first failure, and pcs -f accepting the commands with our agents.
import t from "tap";
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scratchDir } from "../lib/harness.js";
import { installAgents } from "../lib/install.js";
import { builtAgents } from "./agents.js";
import { cli, fakes, norm } from "./fake-pcs.js";

const tmp = scratchDir("stackcli");
const IQN = "iqn.2003-01.org.example:storage";
const built = builtAgents();
const { env: fakeEnv, calls } = fakes(tmp);

const ISCSI = ["stack", "iscsi", "--drbd-resource", "r0", "--iqn", IQN, "--lun", "1:/dev/drbd1", "--lun", "2:/dev/drbd2", "--ip", "10.233.1.200/24", "--initiator", "iqn.1993-08.org.debian:01:client", "--fencing", "none"];

t.test("iscsi prints a reviewable script that bash accepts", async (t) => {
  const r = cli(ISCSI);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^#!\/bin\/bash\n/);
  t.match(r.stdout, /WARNING: without fencing/);
  // the clone's meta attributes by `resource meta` on the clone: after `promotable` (0.12 warns, and with `meta` both put them on the primitive)
  t.match(r.stdout, /resource create iscsi-drbd ocf:tsstor:drbd drbd_resource=r0 .* promotable\npcs -f "\$work\/new.xml" resource meta iscsi-drbd-clone promoted-max=1 promoted-node-max=1 clone-max=2 clone-node-max=1 notify=true\n/);
  t.match(r.stdout, /allowed_initiators=iqn\.1993-08\.org\.debian:01:client/);
  t.match(r.stdout, /constraint colocation add iscsi-ip1 with iscsi-target score=INFINITY\n/, "the VIP constraints the published recipe forgot");
  t.match(r.stdout, /constraint order start iscsi-target then start iscsi-ip1\n/);
  t.match(r.stdout, /cib-push "\$work\/new.xml" diff-against="\$work\/orig.xml"/);
  t.equal(spawnSync("bash", ["-n"], { input: r.stdout }).status, 0, "bash -n");
});

t.test("gfs2 and drbd-fs scripts", async (t) => {
  const g = cli(["stack", "gfs2", "--fs", "vg1/lv1:/srv/gfs2", "--fs", "vg1/lv2:/srv/gfs2b", "--options", "noatime", "--fencing", "none"]);
  t.equal(g.code, 0, g.stderr);
  t.match(g.stdout, /property set no-quorum-policy=freeze/);
  t.match(g.stdout, /gfs2-dlm ocf:pacemaker:controld .* clone\npcs -f "\$work\/new.xml" resource meta gfs2-dlm-clone interleave=true\n/);
  t.match(g.stdout, /gfs2-lvmlockd ocf:tsstor:clvm lock_type=dlm/);
  t.match(g.stdout, /gfs2-lv2 ocf:tsstor:LVM-activate vgname=vg1 lvname=lv2 vg_access_mode=lvmlockd activation_mode=shared/);
  t.match(g.stdout, /gfs2-fs1 ocf:tsstor:Filesystem device=\/dev\/vg1\/lv1 directory=\/srv\/gfs2 fstype=gfs2 options=noatime/);
  const d = cli(["stack", "drbd-fs", "--drbd-resource", "r0", "--device", "/dev/drbd0", "--directory", "/srv/data", "--fstype", "xfs", "--ip", "10.233.1.210/24", "--service", "systemd:nfs-server", "--fencing", "none"]);
  t.equal(d.code, 0, d.stderr);
  t.match(d.stdout, /drbdfs-service systemd:nfs-server op monitor interval=20s\npcs -f "\$work\/new.xml" resource group add drbdfs-group drbdfs-fs drbdfs-ip drbdfs-service\n/);
  t.match(d.stdout, /constraint order promote drbdfs-drbd-clone then start drbdfs-group/);
  for (const s of [g.stdout, d.stdout]) t.equal(spawnSync("bash", ["-n"], { input: s }).status, 0);
});

t.test("every bad value is reported at once and no pcs command runs", async (t) => {
  const log = join(tmp, "bad.log");
  const r = cli(
    ["stack", "iscsi", "--iqn", "IQN.2003-13.Bad", "--lun", "1:/dev/a", "--lun", "1:rel/path", "--ip", "10.0.0.300", "--ip", "10.233.1.200/24", "--portal", "10.233.1.200:3260", "--initiator", "nope", "--prefix", "1bad", "--apply"],
    fakeEnv(log),
  );
  t.equal(r.code, 2);
  for (const m of [
    /--prefix: "1bad" is not a valid resource id/,
    /--drbd-resource is required \(or --no-drbd/,
    /--iqn: "IQN.2003-13.Bad" is not an iSCSI name/,
    /--lun 1:rel\/path: "rel\/path" is not a plain absolute path/,
    /--lun number: "1" given twice/,
    /--ip: "10.0.0.300" is not an IPv4 or IPv6 address/,
    /--portal 10.233.1.200:3260: a portal on a virtual IP needs --implementation lio-t/,
    /--initiator: "nope" is not an iSCSI name/,
    /nothing was run/,
  ])
    t.match(r.stderr, m);
  t.same(calls(log), [], "pcs never ran");
  const inj = cli(["stack", "drbd-fs", "--drbd-resource", "r0;reboot", "--device", "/dev/drbd0", "--directory", "/", "--fstype", "gfs2", "--ip", "10.233.1.210", "--service-param", "a=b"]);
  t.equal(inj.code, 2);
  t.match(inj.stderr, /"r0;reboot" is not a DRBD resource name/);
  t.match(inj.stderr, /refusing to mount over \//);
  t.match(inj.stderr, /"gfs2" is not ext4, xfs or ext3/);
  t.match(inj.stderr, /--service-param needs --service/);
  const san = cli(["stack", "iscsi", "--no-drbd", "--iqn", IQN, "--lun", "1:/dev/sdb", "--ip", "10.233.1.200", "--initiator", "iqn.1993-08.org.debian:01:client", "--fencing", "none"]);
  t.equal(san.code, 0, san.stderr);
  t.notMatch(san.stdout, /ocf:tsstor:drbd/, "--no-drbd: no DRBD resource");
  const miss = cli(["stack", "iscsi", "--iqn", IQN]);
  t.equal(miss.code, 2);
  t.match(miss.stderr, /Missing required arguments: lun, ip/);
});

t.test("--apply makes exactly the script's pcs calls, in one transaction", async (t) => {
  const logScript = join(tmp, "script.log");
  const script = cli(ISCSI).stdout;
  t.equal(spawnSync("bash", ["-c", script], { env: { ...process.env, ...fakeEnv(logScript) } }).status, 0);
  const logApply = join(tmp, "apply.log");
  const r = cli([...ISCSI, "--apply", "--quiet"], fakeEnv(logApply));
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /iscsi \(DRBD\) stack applied: iscsi-drbd-clone, iscsi-target, iscsi-lun1, iscsi-lun2, iscsi-ip1/);
  const a = norm(calls(logApply));
  t.same(a, norm(calls(logScript)), "same calls as the printed script");
  t.same(a[0], ["cluster", "cib", "<orig>"]);
  t.same(a[a.length - 1], ["cluster", "cib-push", "<new>", "diff-against=<orig>"]);
  t.ok(a.slice(1, -1).every((c) => c[0] === "-f" && c[1] === "<new>"), "everything else edits the copy");
});

t.test("a failing pcs -f command stops before cib-push: the cluster is untouched", async (t) => {
  const log = join(tmp, "fail.log");
  const r = cli([...ISCSI, "--apply", "--quiet"], fakeEnv(log, { FAIL_AT: "4" }));
  t.equal(r.code, 1);
  t.match(r.stderr, /failed, nothing was changed:\nError: injected failure/);
  const c = calls(log);
  t.equal(c.length, 4);
  t.notOk(c.some((a) => a[1] === "cib-push"), "no cib-push");
});

// secret files as an operator makes them: root-only, the secret on the first line
const CHAP_IN = join(tmp, "chap-in.secret");
const CHAP_OUT = join(tmp, "chap-out.secret");
const SECRET_IN = "In-s3cret-0123";
writeFileSync(CHAP_IN, `${SECRET_IN}\n`, { mode: 0o600 });
writeFileSync(CHAP_OUT, "Out-s3cret-456\n", { mode: 0o600 });
const SAN = ["stack", "iscsi", "--no-drbd", "--iqn", IQN, "--lun", "1:/dev/sdb", "--ip", "10.233.1.200/24", "--fencing", "none"];
const CHAP = ["--chap-user", "carol", "--chap-secret-file", CHAP_IN, "--mutual-chap-user", "target-side", "--mutual-chap-secret-file", CHAP_OUT];

t.test("closed by default: an initiator list or --allow-any-initiator; CHAP from root-only files; portals on the service address", async (t) => {
  const open = cli(SAN);
  t.equal(open.code, 2, "no initiator list: refused");
  t.match(open.stderr, /no initiator list: give the initiators allowed to log in \(--initiator IQN, repeat\), or --allow-any-initiator/);
  const both = cli([...SAN, "--initiator", "iqn.1993-08.org.debian:01:client", "--allow-any-initiator"]);
  t.equal(both.code, 2);
  t.match(both.stderr, /--initiator and --allow-any-initiator exclude each other/);
  const any = cli([...SAN, "--allow-any-initiator"]);
  t.equal(any.code, 0, any.stderr);
  t.notMatch(any.stdout, /allowed_initiators=/);
  t.match(any.stdout, /# Any initiator that reaches a portal may log in \(--allow-any-initiator\)/);
  t.match(any.stdout, /# No CHAP: WARNING: nothing but network reachability/);
  t.match(any.stdout, /# Portal 0\.0\.0\.0: the target listens on every address of the node, cluster and replication networks included/);

  const chap = cli([...SAN, "--initiator", "iqn.1993-08.org.debian:01:client", ...CHAP]);
  t.equal(chap.code, 0, chap.stderr);
  t.match(chap.stdout, new RegExp(`iSCSITarget .*incoming_username=carol incoming_password_file=${CHAP_IN} outgoing_username=target-side outgoing_password_file=${CHAP_OUT}`));
  t.notMatch(chap.stdout, SECRET_IN, "the secret is in no line of the script");
  t.notMatch(chap.stdout, /Out-s3cret/);
  t.match(chap.stdout, /# CHAP: initiators log in with CHAP, and the target answers with mutual CHAP\./);
  t.match(chap.stdout, /copy to the same path on every node \(root, mode 0600\); the CIB holds only the path/);

  chmodSync(CHAP_IN, 0o644);
  const loose = cli([...SAN, "--initiator", "iqn.1993-08.org.debian:01:client", ...CHAP]);
  chmodSync(CHAP_IN, 0o600);
  t.equal(loose.code, 2);
  t.match(loose.stderr, /--chap-secret-file: .*chap-in\.secret is accessible to group or others \(mode 644\): chmod 600 it/);
  const bad = [
    [["--chap-user", "carol"], /--chap-user and --chap-secret-file go together/],
    [["--chap-user", "carol", "--chap-secret-file", join(tmp, "none.secret")], /none\.secret does not exist on this node/],
    [["--mutual-chap-user", "t", "--mutual-chap-secret-file", CHAP_OUT], /--mutual-chap-user needs --chap-user/],
    [["--chap-user", "carol", "--chap-secret-file", CHAP_IN, "--mutual-chap-user", "t", "--mutual-chap-secret-file", CHAP_IN], /the outgoing \(mutual\) CHAP secret must differ from the incoming one/],
    [["--chap-user", "carol", "--chap-secret-file", CHAP_IN, "--mutual-chap-user", "carol", "--mutual-chap-secret-file", CHAP_OUT, "--implementation", "tgt"], /tgt keeps one secret per account name/],
    [["--chap-user", "car,ol", "--chap-secret-file", CHAP_IN, "--implementation", "tgt"], /tgt cannot take a .,. in the incoming CHAP user name/],
  ] as const;
  for (const [args, re] of bad) {
    const r = cli([...SAN, "--initiator", "iqn.1993-08.org.debian:01:client", ...args]);
    t.equal(r.code, 2, args.join(" "));
    t.match(r.stderr, re);
    t.notMatch(r.stderr, SECRET_IN, "never the secret");
  }
  for (const typed of [["--chap-secret", SECRET_IN], [`--chap-secret=${SECRET_IN}`], [`incoming_password=${SECRET_IN}`]]) {
    const r = cli([...SAN, "--initiator", "iqn.1993-08.org.debian:01:client", ...typed]);
    t.equal(r.code, 2, "a secret typed on the command line is refused");
    t.match(r.stderr, /a password on the command line .*--chap-secret-file FILE/);
    t.notMatch(r.stderr, SECRET_IN);
  }

  // the portal limited to the service address: a VIP portal, LIO with ip_nonlocal_bind
  const vip = cli([...SAN, "--initiator", "iqn.1993-08.org.debian:01:client", "--portal", "10.233.1.200:3260", "--implementation", "lio-t"]);
  t.equal(vip.code, 0, vip.stderr);
  t.match(vip.stdout, /portals=10\.233\.1\.200:3260/);
  t.match(vip.stdout, /net\.ipv4\.ip_nonlocal_bind=1 .* on EVERY node/);
  const tgt = cli([...SAN, "--initiator", "iqn.1993-08.org.debian:01:client", "--portal", "10.233.1.200:3260", "--implementation", "tgt"]);
  t.equal(tgt.code, 2);
  t.match(tgt.stderr, /needs --implementation lio-t \(tgt's portals belong to tgtd: start tgtd with --iscsi portal=10\.233\.1\.200:3260 instead\)/);
  const node = cli([...SAN, "--initiator", "iqn.1993-08.org.debian:01:client", "--portal", "10.233.9.1:3260"]);
  t.equal(node.code, 2);
  t.match(node.stderr, /--portal 10\.233\.9\.1:3260: not a virtual IP of this stack/);
});

t.test("san: one path per portal, the initiator's CHAP from files, every bad value refused at once", async (t) => {
  const base = ["stack", "san", "--target", IQN, "--portal", "10.233.10.5", "--portal", "10.233.11.5:3260", "--fencing", "none"];
  const ok = cli([...base, "--fs", "vg1/lv1:/srv/gfs2", ...CHAP]);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, new RegExp(`san-path1 ocf:tsstor:iscsi portal=10\\.233\\.10\\.5 target=${IQN.replace(/\./g, "\\.")} multipath=true chap_username=carol chap_password_file=${CHAP_IN} chap_username_in=target-side chap_password_in_file=${CHAP_OUT} .*clone\n.* resource meta san-path1-clone interleave=true\n`));
  t.match(ok.stdout, /constraint order start san-path2-clone then start san-lv-clone kind=Optional/);
  t.notMatch(ok.stdout, SECRET_IN, "no secret in the script");
  const bad = cli(["stack", "san", "--target", "array", "--portal", "san.example.com", "--portal", "10.233.11.5", "--portal", "10.233.11.5:3260", "--no-multipath", "--vm-vg", "bad vg", "--fencing", "none"]);
  t.equal(bad.code, 2);
  for (const m of [/--target/, /--portal: must be an IP address/, /--portal.*10\.233\.11\.5:3260/, /--no-multipath with several --portal/, /--vm-vg/]) t.match(bad.stderr, m);
  const none = cli(base);
  t.equal(none.code, 2);
  t.match(none.stderr, /--fs VG\/LV:\/mount\/point \(GFS2\) or --vm-vg VG \(a shared VG for VM disks\) is required/);
});

const stacks: Array<{ name: string; args: string[]; agents: string[] }> = [
  { name: "iscsi with mutual CHAP, any initiator", args: [...SAN, "--allow-any-initiator", ...CHAP], agents: ["iSCSITarget", "iSCSILogicalUnit", "IPaddr2"] },
  { name: "iscsi", args: ISCSI, agents: ["drbd", "iSCSITarget", "iSCSILogicalUnit", "IPaddr2"] },
  { name: "iscsi --no-drbd", args: ["stack", "iscsi", "--no-drbd", "--iqn", IQN, "--lun", "1:/dev/sdb", "--ip", "10.233.1.200/24", "--initiator", "iqn.1993-08.org.debian:01:client", "--fencing", "none"], agents: ["iSCSITarget", "iSCSILogicalUnit", "IPaddr2"] },
  { name: "gfs2", args: ["stack", "gfs2", "--fs", "vg1/lv1:/srv/gfs2", "--fencing", "none"], agents: ["clvm", "LVM-activate", "Filesystem"] },
  {
    name: "san",
    args: ["stack", "san", "--target", IQN, "--portal", "10.233.10.5", "--portal", "10.233.11.5:3260", "--fs", "vg1/lv1:/srv/gfs2", "--vm-vg", "vmvg", "--fencing", "none"],
    agents: ["iscsi", "clvm", "LVM-activate", "Filesystem"],
  },
  { name: "drbd-fs", args: ["stack", "drbd-fs", "--drbd-resource", "r0", "--device", "/dev/drbd0", "--directory", "/srv/data", "--ip", "10.233.1.210/24", "--fencing", "none"], agents: ["drbd", "Filesystem", "IPaddr2"] },
];
for (const s of stacks) {
  const missing = s.agents.filter((a) => !built.includes(a));
  t.test(`pcs -f accepts the ${s.name} stack with the ocf:tsstor agents`, { skip: missing.length ? `ocf:tsstor:{${missing.join(",")}} not in build/tsstor-agents --list yet` : false }, async (t) => {
    installAgents(s.agents);
    const cib = join(tmp, `${s.name.replace(/\W+/g, "-")}.xml`);
    writeFileSync(cib, spawnSync("cibadmin", ["--empty"], { encoding: "utf8" }).stdout);
    const r = cli([...s.args, "--apply", "--cib", cib, "--quiet"]);
    t.equal(r.code, 0, r.stderr);
    t.notMatch(r.stderr, /Warning/i, "no pcs warnings (unknown or deprecated parameters)");
    t.match(readFileSync(cib, "utf8"), /provider="tsstor"/);
  });
}
