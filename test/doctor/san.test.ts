// The SAN checks (cli/hazards/san.ts): iSCSI initiator clusters (ocf:tsstor:iscsi, and upstream's
// ocf:heartbeat:iscsi) against the node's multipath.conf and systemd directory. The base is
// `tsstor stack san` (two portals, multipath, GFS2) with fencing, through pcs -f, on a node set up
// the way the stack's notes say: nothing to report. Each rule then from both sides.
import t from "tap";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { sanStack } from "../../cli/stacks.js";
import { scratchDir } from "../lib/harness.js";
import { installAgents } from "../lib/install.js";
import { builtAgents, planAgents } from "../stack/agents.js";
import { HOWTO_DRBD_ISCSI, STONITH, buildCib, doctor, find, ids, nodeRoot, type Report, type RootEdits } from "./lib.js";

const tmp = scratchDir("doctor-san");
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

const IQN = "iqn.2026-01.com.example:array1";
const P1 = "192.168.10.5:3260";
const P2 = "192.168.20.5:3260";
const plan = sanStack({ prefix: "san", target: IQN, portals: [P1, P2], filesystems: ["vg1/lv1:/srv/gfs2"], vmVgs: [] }, { method: "none" });
installAgents(planAgents(plan).filter((a) => builtAgents().includes(a)));
/** tsstor stack san (GFS2 on a shared LV over two multipathed portals), fenced */
const gfs2 = buildCib(join(tmp, "san.xml"), [...plan.commands, ...STONITH]);
/** upstream's initiator, one portal, no multipath parameter, ext4 on the by-path link (a failover filesystem) */
const BY_PATH = `/dev/disk/by-path/ip-${P1}-iscsi-${IQN}-lun-1`;
const HB = [
  ["resource", "create", "p_iscsi", "ocf:heartbeat:iscsi", `portal=${P1}`, `target=${IQN}`],
  ["resource", "create", "p_fs", "ocf:heartbeat:Filesystem", `device=${BY_PATH}`, "directory=/srv/data", "fstype=ext4"],
  ["constraint", "order", "p_iscsi", "then", "p_fs"],
  ["constraint", "colocation", "add", "p_fs", "with", "p_iscsi", "INFINITY"],
];
const hb = buildCib(join(tmp, "hb.xml"), [...HB, ...STONITH]);
/** the same with a shared LV clone (VM disks over lvmlockd): queueing is an error there too */
const hbShared = buildCib(join(tmp, "hb-shared.xml"), [
  ...HB,
  ...STONITH,
  ["resource", "create", "p_vms", "ocf:heartbeat:LVM-activate", "vgname=vgs", "vg_access_mode=lvmlockd", "activation_mode=shared", "clone", "interleave=true"],
]);
/** ocf:tsstor:iscsi with multipath=true, a filesystem on one path */
const onePath = (id: string, device: string) =>
  buildCib(join(tmp, `${id}.xml`), [
    ["resource", "create", "p_path1", "ocf:tsstor:iscsi", `portal=${P1}`, `target=${IQN}`, "multipath=true", "clone", "interleave=true"],
    ["resource", "create", "p_path2", "ocf:tsstor:iscsi", `portal=${P2}`, `target=${IQN}`, "multipath=true", "clone", "interleave=true"],
    ["resource", "create", "p_fs", "ocf:tsstor:Filesystem", `device=${device}`, "directory=/srv/data", "fstype=ext4"],
    ...STONITH,
  ]);
/** no initiator at all: the DRBD + iSCSI target how-to, fenced */
const drbd = buildCib(join(tmp, "drbd.xml"), [...HOWTO_DRBD_ISCSI, ...STONITH]);

const MP_GOOD = 'defaults {\n\tuser_friendly_names yes\n\tfind_multipaths yes\n\tno_path_retry 12\n}\n\noverrides {\n\tno_path_retry 12\n}\n\nblacklist {\n\tdevnode "^drbd[0-9]+"\n}\n';
const DROPIN = "etc/systemd/system/resource-agents-deps.target.d/tsstor-san.conf";
const DROPIN_GOOD = "[Unit]\nAfter=iscsid.service multipathd.service\nWants=iscsid.service\n";
/** a node as the san stack's notes want it: multipathd on, finite no_path_retry, the drop-in */
const GOOD: RootEdits = { write: { "etc/multipath.conf": MP_GOOD, [DROPIN]: DROPIN_GOOD }, enable: ["sysinit.target.wants/multipathd.service"] };
const merge = (a: RootEdits, b: RootEdits): RootEdits => ({ write: { ...a.write, ...b.write }, remove: [...(a.remove ?? []), ...(b.remove ?? [])], enable: [...(a.enable ?? []), ...(b.enable ?? [])] });

let n = 0;
const root = (edits: RootEdits = {}) => nodeRoot(join(tmp, `root${n++}`), edits);
const good = (more: RootEdits = {}) => root(merge(GOOD, more));
const run = (cib: string, r: string) => doctor(["-f", cib, "--root", r]).report;
/** the SAN findings as severity:id */
const san = (r: Report) => r.findings.filter((f) => f.id.startsWith("san-")).map((f) => `${f.severity}:${f.id}`).sort();
const mp = (text: string, more: RootEdits = {}) => good(merge(more, { write: { "etc/multipath.conf": text } }));

t.test("tsstor stack san + fencing on a node set up as its notes say: nothing to report", async (t) => {
  const d = doctor(["-f", gfs2, "--root", good()]);
  t.equal(d.code, 0);
  t.same(ids(d.report, "error"), []);
  t.same(ids(d.report, "warning"), []);
  t.same(san(d.report), []);
  t.same(ids(d.report, "info"), ["gfs2-not-checked"], "only: the shared LV is not active here");
  t.same(san(run(hb, good())), [], "upstream's initiator too");
});

t.test("the stack on the plain fixture node: no_path_retry unset, no shutdown order", async (t) => {
  const r = root();
  const d = run(gfs2, r);
  t.same(san(d), ["warning:san-multipath-retry-unset", "warning:san-unit-order"]);
  const u = find(d, "san-multipath-retry-unset")[0]!;
  t.match(u.message, /neither defaults nor overrides of .*etc\/multipath\.conf set no_path_retry/);
  t.match(u.reason, /NETAPP LUN/);
  t.same(u.fix.slice(1, 7), ["#   defaults {", "#       no_path_retry 12", "#   }", "#   overrides {", "#       no_path_retry 12", "#   }"]);
  t.match(u.fix.join("\n"), /12 checks x polling_interval 5 s: a map fails its I\/O 60 s after its last path is gone/);
  const o = find(d, "san-unit-order")[0]!;
  t.match(o.message, /not ordered to stop before iscsid\.service, multipathd\.service at shutdown/);
  t.match(o.reason, /umountiscsi/);
  t.match(o.reason, /not Requires=/);
  t.equal(o.fix[o.fix.length - 1], "systemctl daemon-reload");
  // the fix's commands (all but daemon-reload) write the drop-in where the doctor reads it
  const sh = spawnSync("sh", ["-e", "-c", o.fix.slice(0, -1).map((l) => l.split("    #")[0]).join("\n")], { encoding: "utf8" });
  t.equal(sh.status, 0, sh.stderr);
  t.equal(readFileSync(join(r, DROPIN), "utf8"), "[Unit]\nAfter=iscsid.service multipathd.service\nWants=iscsid.service\n");
  t.same(san(run(gfs2, r)), ["warning:san-multipath-retry-unset"], "after the fix: ordered");
});

t.test("san-multipath-queue: queueing forever, with multipath's precedence", async (t) => {
  const q = (text: string, cib = gfs2, more: RootEdits = {}) => run(cib, mp(text, more));
  const defQueue = q("defaults {\n\tno_path_retry queue\n}\n");
  t.same(san(defQueue), ["error:san-multipath-queue"], "GFS2 clone: error (and not retry-unset as well)");
  const f = find(defQueue, "san-multipath-queue")[0]!;
  t.match(f.message, /no_path_retry queue \(defaults, .*etc\/multipath\.conf:2\)/);
  t.match(f.reason, /GFS2 never sees an error, so it never withdraws, the node is never fenced/);
  t.match(f.reason, /san-fs-clone/);
  t.match(f.fix.join("\n"), /delete the queueing settings: .*multipath\.conf:2\nmultipathd reconfigure$/);
  t.same(san(q("defaults {\n\tno_path_retry queue\n}\n", hb)), ["warning:san-multipath-queue"], "no GFS2, no shared LV: a warning");
  t.same(san(q("defaults {\n\tno_path_retry queue\n}\n", hbShared)), ["error:san-multipath-queue"], "a shared LVM-activate clone: error");
  t.same(san(q("defaults {\n\tno_path_retry queue\n}\n", drbd)), [], "no initiator: nothing");
  // features "1 queue_if_no_path": queues only where no no_path_retry is set (propsel.c)
  const feat = q('defaults {\n\tfeatures "1 queue_if_no_path"\n}\n');
  t.same(san(feat), ["error:san-multipath-queue"]);
  t.match(find(feat, "san-multipath-queue")[0]!.message, /features "1 queue_if_no_path" \(defaults,/);
  t.same(san(q('defaults {\n\tfeatures "1 queue_if_no_path"\n\tno_path_retry 12\n}\noverrides {\n\tno_path_retry 12\n}\n')), [], "no_path_retry set: the feature is ignored");
  t.same(san(q('defaults {\n\tfeatures "1 queue_if_no_path"\n}\noverrides {\n\tno_path_retry fail\n}\n')), [], "overrides' no_path_retry wins over defaults' features");
  // a device entry: beaten by overrides, not by defaults
  const dev = 'devices {\n\tdevice {\n\t\tvendor "NETAPP"\n\t\tproduct "LUN"\n\t\tno_path_retry queue\n\t}\n}\n';
  const d1 = q(`defaults {\n\tno_path_retry 12\n}\n${dev}`);
  t.same(san(d1), ["error:san-multipath-queue"]);
  t.match(find(d1, "san-multipath-queue")[0]!.message, /no_path_retry queue \(device entry \(vendor "NETAPP", product "LUN"\), .*multipath\.conf:8\)/);
  t.same(san(q(`defaults {\n\tno_path_retry 12\n}\noverrides {\n\tno_path_retry 12\n}\n${dev}`)), [], "overrides beat device entries");
  // a multipaths entry beats overrides
  const m = q('overrides {\n\tno_path_retry 12\n}\nmultipaths {\n\tmultipath {\n\t\twwid 3600a098038303053453f463045736f58\n\t\talias data\n\t\tno_path_retry queue\n\t}\n}\n');
  t.same(san(m), ["error:san-multipath-queue"]);
  t.match(find(m, "san-multipath-queue")[0]!.message, /multipath entry \(wwid "3600a098038303053453f463045736f58", alias "data"\)/);
  // config_dir: read after multipath.conf, a later setting wins
  const confd = q("defaults {\n\tno_path_retry 12\n}\n", gfs2, { write: { "etc/multipath/conf.d/array.conf": "defaults {\n\tno_path_retry queue\n}\n" } });
  t.same(san(confd), ["error:san-multipath-queue"]);
  t.match(find(confd, "san-multipath-queue")[0]!.message, /conf\.d\/array\.conf:2/);
});

t.test("san-multipath-retry-unset: overrides without no_path_retry, or no multipath.conf", async (t) => {
  const defOnly = run(gfs2, mp("defaults {\n\tpolling_interval 2\n\tno_path_retry 12\n}\n"));
  t.same(san(defOnly), ["warning:san-multipath-retry-unset"], "defaults alone: the built-in device entries beat it");
  const f = find(defOnly, "san-multipath-retry-unset")[0]!;
  t.match(f.message, /no_path_retry is set in defaults only \(.*multipath\.conf:3\), not in overrides/);
  t.match(f.fix.join("\n"), /12 checks x polling_interval 2 s: a map fails its I\/O 24 s/, "polling_interval from the file");
  t.same(san(run(gfs2, mp("overrides {\n\tno_path_retry fail\n}\n"))), [], "overrides set: fine");
  // no multipath.conf: multipath=true or multipathd enabled still means multipath is in use
  const none = run(gfs2, good({ remove: ["etc/multipath.conf"] }));
  t.same(san(none), ["warning:san-multipath-retry-unset"]);
  t.match(find(none, "san-multipath-retry-unset")[0]!.message, /multipath is in use \(multipath=true on san-path1, san-path2, multipathd enabled at boot\) without .*etc\/multipath\.conf/);
  t.match(find(none, "san-multipath-retry-unset")[0]!.fix[0], /^# create .*etc\/multipath\.conf on every node with:/);
  // upstream's initiator has no multipath parameter: without multipath.conf and multipathd, no multipath
  const plain = { remove: ["etc/multipath.conf"], write: { [DROPIN]: "[Unit]\nAfter=iscsid.service\n" } };
  t.same(san(run(hb, root(plain))), []);
  t.same(san(run(hb, root({ ...plain, enable: ["sysinit.target.wants/multipathd.service"] }))), ["warning:san-multipath-retry-unset", "warning:san-unit-order"], "multipathd enabled: in use");
  t.same(san(run(drbd, root())), [], "no initiator: nothing");
});

t.test("san-multipath-greedy: find_multipaths off/greedy without a blacklist that limits it", async (t) => {
  const g = (defaults: string, rest = "") => run(gfs2, mp(`defaults {\n${defaults}\tno_path_retry 12\n}\noverrides {\n\tno_path_retry 12\n}\n${rest}`));
  const off = g("\tfind_multipaths off\n", 'blacklist {\n\tdevnode "^drbd[0-9]+"\n}\n');
  t.same(san(off), ["warning:san-multipath-greedy"], "a DRBD devnode entry does not limit it");
  const f = find(off, "san-multipath-greedy")[0]!;
  t.match(f.subject, /multipath\.conf:2$/);
  t.match(f.message, /every SCSI disk becomes a multipath map, the node's local system disk included/);
  t.same(f.fix.slice(0, 4), [`# in ${f.subject.replace(/:2$/, "")} line 2:`, "#   find_multipaths strict", "multipath -a /dev/sdX    # once per LUN of the array, with one of its paths: adds its WWID to /etc/multipath/wwids", "multipathd reconfigure"]);
  t.same(san(g("\tfind_multipaths greedy\n")), ["warning:san-multipath-greedy"]);
  t.same(san(g("\tfind_multipaths no\n")), ["warning:san-multipath-greedy"]);
  t.same(san(g("\tfind_multipaths off\n", 'blacklist {\n\twwid ".*"\n}\nblacklist_exceptions {\n\twwid "3600a098038303053453f463045736f58"\n}\n')), [], "a wwid whitelist");
  t.same(san(g("\tfind_multipaths off\n", 'blacklist {\n\tdevice {\n\t\tvendor "QEMU"\n\t\tproduct ".*"\n\t}\n}\n')), [], "a device entry");
  t.same(san(g("\tfind_multipaths off\n", 'blacklist {\n\tdevnode "^vd[a-z]"\n}\n')), [], "a devnode entry matching the local disks (the lab's)");
  for (const v of ["yes", "strict", "smart"]) t.same(san(g(`\tfind_multipaths ${v}\n`)), [], `find_multipaths ${v}`);
  t.same(san(g("")), [], "unset: the compiled-in default is strict");
  t.same(san(run(drbd, mp("defaults {\n\tfind_multipaths off\n}\n"))), [], "no initiator: nothing");
});

t.test("san-unit-order: drop-ins of resource-agents-deps.target or pacemaker.service, aliases, Before=, open-iscsi", async (t) => {
  const order = (r: string, cib = gfs2) => find(run(cib, r), "san-unit-order");
  t.match(order(good({ write: { [DROPIN]: "[Unit]\nAfter=iscsid.service\n" } }))[0]!.message, /stop before multipathd\.service at shutdown/, "multipath in use: multipathd too");
  t.same(order(good({ remove: [DROPIN], write: { "etc/systemd/system/pacemaker.service.d/san.conf": "[Unit]\nAfter=iscsid.service multipath-tools.service\n" } })), [], "pacemaker.service drop-in; Debian's alias multipath-tools.service");
  t.same(order(good({ write: { [DROPIN]: "# ordering for the SAN\n[Unit]\nAfter=iscsid.service \\\n   multipathd.service\n" } })), [], "a continued line");
  t.match(order(good({ write: { [DROPIN]: "[Unit]\n# After=iscsid.service multipathd.service\n" } }))[0]!.message, /iscsid\.service, multipathd\.service/, "a comment orders nothing");
  t.match(order(good({ write: { [DROPIN]: "[Install]\nAfter=iscsid.service multipathd.service\n" } }))[0]!.message, /iscsid\.service, multipathd\.service/, "only [Unit] counts");
  t.same(
    order(good({ remove: [DROPIN], write: { "etc/systemd/system/iscsid.service.d/order.conf": "[Unit]\nBefore=pacemaker.service\n", "etc/systemd/system/multipathd.service.d/order.conf": "[Unit]\nBefore=resource-agents-deps.target\n" } })),
    [],
    "Before= from the daemons' side",
  );
  // open-iscsi.service enabled (Debian: sysinit.target.wants) must be ordered too
  const oi = order(good({ enable: ["sysinit.target.wants/open-iscsi.service"] }));
  t.match(oi[0]!.message, /stop before open-iscsi\.service at shutdown/);
  t.match(oi[0]!.fix[1]!, /'After=iscsid\.service multipathd\.service open-iscsi\.service' 'Wants=iscsid\.service'/);
  t.same(order(good({ enable: ["sysinit.target.wants/open-iscsi.service"], write: { [DROPIN]: "[Unit]\nAfter=iscsid.service multipathd.service iscsi.service\n" } })), [], "its alias iscsi.service");
  // no multipath: iscsid only
  t.match(order(root({ remove: ["etc/multipath.conf"] }), hb)[0]!.message, /stop before iscsid\.service at shutdown: .* names it$/);
  // no systemd directory here (a CIB host that is not a node): nothing to judge
  const bare = root();
  rmSync(join(bare, "etc/systemd"), { recursive: true, force: true });
  t.same(order(bare), []);
  t.same(order(root(), drbd), [], "no initiator: nothing");
});

t.test("san-open-iscsi-autologin: the boot-time login service", async (t) => {
  const d = run(gfs2, good({ enable: ["sysinit.target.wants/open-iscsi.service"], write: { [DROPIN]: "[Unit]\nAfter=iscsid.service multipathd.service open-iscsi.service\n" } }));
  t.same(san(d), ["info:san-open-iscsi-autologin"]);
  const f = find(d, "san-open-iscsi-autologin")[0]!;
  t.match(f.subject, /sysinit\.target\.wants\/open-iscsi\.service$/);
  t.match(f.message, /open-iscsi\.service is enabled at boot while the cluster logs this node in to the array \(san-path1, san-path2\)/);
  t.match(f.reason, /node\.startup = automatic/);
  t.same(f.fix, [
    "systemctl disable open-iscsi.service    # not --now: stopping it logs out of every session, the cluster's included",
    "# or keep it, with every node record manual: iscsiadm -m node -o update -n node.startup -v manual",
  ]);
  // RHEL's iscsi.service
  const rhel = run(hb, good({ enable: ["remote-fs.target.wants/iscsi.service"], write: { [DROPIN]: "[Unit]\nAfter=iscsid.service multipathd.service iscsi.service\n" } }));
  t.same(san(rhel), ["info:san-open-iscsi-autologin"]);
  t.match(find(rhel, "san-open-iscsi-autologin")[0]!.message, /^iscsi\.service is enabled/);
  // masked: never starts
  const masked = good({ enable: ["sysinit.target.wants/open-iscsi.service"] });
  symlinkSync("/dev/null", join(masked, "etc/systemd/system/open-iscsi.service"));
  t.same(san(run(gfs2, masked)), []);
  t.same(san(run(drbd, root({ enable: ["sysinit.target.wants/open-iscsi.service"] }))), [], "no initiator: nothing");
});

t.test("san-single-path: a filesystem on one path of a multipathed LUN", async (t) => {
  const r = good();
  const sd = run(onePath("sd", "/dev/sdb1"), r);
  t.same(san(sd), ["warning:san-single-path"]);
  const f = find(sd, "san-single-path")[0]!;
  t.equal(f.subject, "resource p_fs");
  t.match(f.message, /p_fs mounts \/dev\/sdb1, one SCSI path of a LUN, while the LUNs are multipathed \(p_path1, p_path2\)/);
  t.same(f.fix, ['multipath -ll "$(readlink -f /dev/sdb1)"    # names the map of the LUN this path belongs to', "pcs resource update p_fs device=/dev/mapper/<map>    # or the LV on it (a partition: /dev/mapper/<map>-part1)"]);
  const bp = run(onePath("bypath", BY_PATH), r);
  t.same(san(bp), ["warning:san-single-path"]);
  t.match(find(bp, "san-single-path")[0]!.message, new RegExp(`LUN 1 of ${IQN.replace(/\./g, "\\.")} through the portal 192\\.168\\.10\\.5:3260 only`));
  t.same(san(run(onePath("map", "/dev/mapper/mpatha"), r)), [], "the multipath map");
  t.same(san(run(onePath("lv", "/dev/vg1/data"), r)), [], "an LV");
  t.same(san(run(hb, r)), [], "upstream's initiator without multipath=true: one path is all there is");
});
