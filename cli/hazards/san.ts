// A SAN initiator cluster (ocf:tsstor:iscsi / ocf:heartbeat:iscsi logging the nodes in to an
// array): what multipath does when every path of a LUN is gone (no_path_retry, as libmultipath's
// propsel.c picks it: multipaths entry > overrides > device entry > defaults; a features
// queue_if_no_path counts only where no no_path_retry is set), whether multipath maps the local
// disks too, whether Pacemaker stops before iscsid/multipathd/open-iscsi at shutdown, the boot-time
// login service, and filesystems mounted on one path of a multipathed LUN.
import { cloneOf, isTrue, type Primitive } from "../doctor/cib.js";
import { lastSetting, type Multipath, type Setting } from "../doctor/multipath.js";
import { shq } from "../pcs.js";
import { isSharedLv } from "./clones.js";
import { isGfs2 } from "./gfs2.js";
import { unavailable, type Check, type Finding } from "./types.js";

/** The iSCSI initiator agents: ocf:tsstor:iscsi and its upstream original ocf:heartbeat:iscsi. */
export const isInitiator = (p: Primitive) => p.class === "ocf" && p.type === "iscsi" && (p.provider === "tsstor" || p.provider === "heartbeat");

/** Services that log in to every automatic node record at boot and out of every session at stop (Debian's open-iscsi.service has the alias iscsi.service). */
const BOOT_LOGIN = ["open-iscsi.service", "iscsi.service"];
/** The names an After= may use for a unit (Debian's aliases). */
const ALIASES: Record<string, string[]> = {
  "multipathd.service": ["multipathd.service", "multipath-tools.service"],
  "open-iscsi.service": ["open-iscsi.service", "iscsi.service"],
};
/** Names of local disks: a devnode blacklist entry matching one limits a greedy find_multipaths. */
const LOCAL_DISKS = ["sda", "vda", "xvda", "hda", "nvme0n1"];
/** Built-in device entries (libmultipath hwtable.c) that queue forever, for the messages. */
const BUILTIN_QUEUE = "NETAPP LUN, IBM 2145 (SVC/Storwize), COMPELNT, Nimble, DataCore, HITACHI DF";

const NPR_VALID = /^(queue|fail|\d+)$/;

interface Scope {
  where: string;
  settings: Setting[];
}

/** What a map whose settings come from `chain` (highest precedence first) does without paths. */
function queueSource(chain: Scope[]): { s: Setting; where: string } | undefined {
  for (const sc of chain) {
    const n = lastSetting(sc.settings, "no_path_retry");
    if (n && NPR_VALID.test(n.value)) return n.value === "queue" ? { s: n, where: sc.where } : undefined;
  }
  for (const sc of chain) {
    const f = lastSetting(sc.settings, "features");
    if (f) return /\bqueue_if_no_path\b/.test(f.value) ? { s: f, where: sc.where } : undefined;
  }
  return undefined;
}

const entryName = (kind: string, settings: Setting[], keys: string[]) => {
  const ids = keys.map((k) => lastSetting(settings, k)).filter((x): x is Setting => !!x).map((x) => `${x.key} "${x.value}"`);
  return `${kind} entry${ids.length ? ` (${ids.join(", ")})` : ""}`;
};

/** Every setting that makes some map queue forever, under multipath's precedence. */
function queueing(mp: Multipath): Array<{ s: Setting; where: string }> {
  const defaults: Scope = { where: "defaults", settings: mp.defaults };
  const overrides: Scope = { where: "overrides", settings: mp.overrides };
  const devices: Array<Scope | undefined> = [undefined, ...mp.devices.map((d) => ({ where: entryName("device", d.settings, ["vendor", "product"]), settings: d.settings }))];
  const maps: Array<Scope | undefined> = [undefined, ...mp.multipaths.map((m) => ({ where: entryName("multipath", m.settings, ["wwid", "alias"]), settings: m.settings }))];
  const found = new Map<string, { s: Setting; where: string }>();
  for (const m of maps)
    for (const d of devices) {
      const q = queueSource([m, overrides, d, defaults].filter((x): x is Scope => !!x));
      if (q) found.set(`${q.s.file}:${q.s.line}`, q);
    }
  return [...found.values()];
}

const where = (x: { s: Setting; where: string }) => `${x.s.key} ${x.s.key === "features" ? `"${x.s.value}"` : x.s.value} (${x.where}, ${x.s.file}:${x.s.line})`;

function pollingInterval(mp: Multipath | undefined): number {
  const v = mp ? lastSetting(mp.defaults, "polling_interval")?.value : undefined;
  return v !== undefined && /^[1-9]\d*$/.test(v) ? Number(v) : 5;
}

/** The fix lines that give every map a finite no_path_retry. */
function finiteFix(file: string, mp: Multipath | undefined, create: boolean): string[] {
  const poll = pollingInterval(mp);
  return [
    create ? `# create ${file} on every node with:` : `# in ${file} on every node (in the existing sections, or new ones):`,
    "#   defaults {",
    "#       no_path_retry 12",
    "#   }",
    "#   overrides {",
    "#       no_path_retry 12",
    "#   }",
    `# (12 checks x polling_interval ${poll} s: a map fails its I/O ${12 * poll} s after its last path is gone; overrides beat the built-in device entries, some of which queue)`,
  ];
}

export const checkSan: Check = (s) => {
  const out: Finding[] = [];
  const initiators = s.cib.primitives.filter(isInitiator);
  if (!initiators.length) return out;
  const mpInitiators = initiators.filter((p) => isTrue(p.params.multipath));
  const mp = unavailable(s.multipath) ? undefined : s.multipath;
  const confPath = unavailable(s.multipath) ? s.multipath.path : s.multipath.files[0]!;
  const mpdEnabled = [...s.units.enabledBy("multipathd.service"), ...s.units.enabledBy("multipath-tools.service")];
  const inUse = [
    ...(mpInitiators.length ? [`multipath=true on ${mpInitiators.map((p) => p.id).join(", ")}`] : []),
    ...(mpdEnabled.length ? ["multipathd enabled at boot"] : []),
    ...(mp ? [`${mp.files[0]} present`] : []),
  ];
  const ids = initiators.map((p) => p.id).join(", ");

  // 1. a map that queues forever once every path is gone
  let queued = false;
  if (mp) {
    const q = queueing(mp);
    if (q.length) {
      queued = true;
      const shared = s.cib.primitives.filter((p) => (isGfs2(p) || isSharedLv(p)) && cloneOf(p));
      out.push({
        id: "san-multipath-queue",
        severity: shared.length ? "error" : "warning",
        subject: confPath,
        message: `multipath queues I/O forever when every path of a LUN is gone: ${q.map(where).join("; ")}`,
        reason: shared.length
          ? `With the array unreachable from one node, its maps hold every I/O instead of failing it: the node's I/O freezes. GFS2 never sees an error, so it never withdraws, the node is never fenced, and the DLM locks it holds block GFS2 on every node of the cluster (${[...new Set(shared.map((p) => cloneOf(p)!.id))].join(", ")}). ` +
            "A finite no_path_retry fails the I/O: the filesystem withdraws, its monitor fails and the node is fenced; the others carry on."
          : "With the array unreachable from one node, its maps hold every I/O instead of failing it: whatever uses the LUN hangs in uninterruptible sleep, its stop hangs too, and Pacemaker recovers only when the stop times out and the node is fenced. A finite no_path_retry fails the I/O and the resource fails over.",
        fix: [...finiteFix(confPath, mp, false), `# and delete the queueing settings: ${q.map((x) => `${x.s.file}:${x.s.line}`).join(", ")}`, "multipathd reconfigure"],
      });
    }
  }

  // 2. no_path_retry left to the built-in per-array entries
  if (inUse.length && !queued) {
    const ovr = mp ? lastSetting(mp.overrides, "no_path_retry") : undefined;
    const def = mp ? lastSetting(mp.defaults, "no_path_retry") : undefined;
    const set = (x: Setting | undefined) => x !== undefined && NPR_VALID.test(x.value);
    if (!set(ovr)) {
      const what = !mp
        ? `multipath is in use (${inUse.join(", ")}) without ${confPath}: no_path_retry is not set`
        : set(def)
          ? `no_path_retry is set in defaults only (${def!.file}:${def!.line}), not in overrides`
          : `neither defaults nor overrides of ${confPath} set no_path_retry`;
      out.push({
        id: "san-multipath-retry-unset",
        severity: "warning",
        subject: confPath,
        message: `${what}: the built-in entry for the array decides what a LUN does when every path is gone`,
        reason:
          `multipath takes no_path_retry from a multipaths entry, then overrides, then the device entry for the array (multipath-tools has built-in ones for most arrays), and only then defaults. The built-in entries differ: some fail after a few checks, some queue forever (e.g. ${BUILTIN_QUEUE}), ` +
          "which freezes the node's I/O and, under GFS2, the cluster's; an array without one fails its I/O the moment the last path drops, so a path blip of one second already fails the filesystem. Say it in overrides.",
        fix: [...finiteFix(confPath, mp, !mp), "multipathd reconfigure"],
      });
    }
  }

  // 3. find_multipaths greedy: the local disks become maps too
  if (mp) {
    const fm = lastSetting(mp.defaults, "find_multipaths");
    if (fm && ["off", "no", "0", "greedy"].includes(fm.value)) {
      const limited = mp.blacklistOther.some((b) => b.kind === "wwid" || b.kind === "device") || mp.blacklist.some((e) => LOCAL_DISKS.some((d) => e.test?.(d)));
      if (!limited)
        out.push({
          id: "san-multipath-greedy",
          severity: "warning",
          subject: `${fm.file}:${fm.line}`,
          message: `find_multipaths ${fm.value} and no blacklist entry (wwid, device, or a devnode matching local disks) limits multipath to the array: every SCSI disk becomes a multipath map, the node's local system disk included`,
          reason:
            "With find_multipaths off or greedy, multipath makes a map of every disk it is not told to leave alone, not only of the LUNs it sees through several paths: the system disk's I/O then runs through dm-multipath under the SAN's path settings (a queueing no_path_retry freezes the node itself), and the node's own LVM and boot depend on multipathd.",
          fix: [
            `# in ${fm.file} line ${fm.line}:`,
            "#   find_multipaths strict",
            "multipath -a /dev/sdX    # once per LUN of the array, with one of its paths: adds its WWID to /etc/multipath/wwids",
            "multipathd reconfigure",
            `# or keep it, and blacklist the local disks by WWID (/lib/udev/scsi_id -g -u /dev/sda) in ${fm.file}:`,
            "#   blacklist {",
            '#       wwid "<WWID of the local disk>"',
            "#   }",
          ],
        });
    }
  }

  // 4. shutdown order: Pacemaker must stop before the iSCSI and multipath daemons
  const loginUnits = BOOT_LOGIN.filter((u) => s.units.enabledBy(u).length);
  if (s.units.exists()) {
    const need = ["iscsid.service", ...(inUse.length ? ["multipathd.service"] : []), ...loginUnits];
    const after = new Set([...s.units.dropInAfter("resource-agents-deps.target"), ...s.units.dropInAfter("pacemaker.service")].map((a) => a.value));
    const ordered = (u: string) =>
      (ALIASES[u] ?? [u]).some((n) => after.has(n) || s.units.directives(n, "Before").some((b) => b.value === "pacemaker.service" || b.value === "resource-agents-deps.target"));
    const missing = need.filter((u) => !ordered(u));
    if (missing.length) {
      const dir = `${s.units.dir}/resource-agents-deps.target.d`;
      out.push({
        id: "san-unit-order",
        severity: "warning",
        subject: dir,
        message: `Pacemaker is not ordered to stop before ${missing.join(", ")} at shutdown: no After= in a resource-agents-deps.target or pacemaker.service drop-in names ${missing.length > 1 ? "them" : "it"}`,
        reason:
          "systemd stops units in the reverse order of After=, and nothing orders Pacemaker against iscsid (nor against open-iscsi.service, which logs out of every session when it stops). At shutdown they can stop while Pacemaker still has GFS2 mounted, or LVs active, on the LUNs: " +
          "the unmount hangs on I/O that can no longer reach the array and the node hangs at shutdown (the old umountiscsi hang). pacemaker.service is After=resource-agents-deps.target for this: a drop-in there orders the daemons before Pacemaker at boot and after it at shutdown. " +
          "Wants=iscsid.service starts iscsid before Pacemaker (it is otherwise socket-activated by the first iscsiadm); not Requires=, which would stop the target, or in a pacemaker.service drop-in Pacemaker itself, whenever iscsid is stopped or restarted (a package upgrade).",
        fix: [
          `mkdir -p ${shq(dir)}`,
          `printf '%s\\n' '[Unit]' 'After=${need.join(" ")}' 'Wants=iscsid.service' > ${shq(`${dir}/tsstor-san.conf`)}    # on every node`,
          "systemctl daemon-reload",
        ],
      });
    }
  }

  // 5. the boot-time login service
  if (loginUnits.length) {
    const by = loginUnits.flatMap((u) => s.units.enabledBy(u));
    out.push({
      id: "san-open-iscsi-autologin",
      severity: "info",
      subject: by.join(", "),
      message: `${loginUnits.join(", ")} is enabled at boot while the cluster logs this node in to the array (${ids})`,
      reason:
        "At boot it logs in to every node record with node.startup = automatic, outside the cluster and before Pacemaker decides anything. ocf:tsstor:iscsi sets its own records to manual; records made by hand, or by ocf:heartbeat:iscsi's discovery (node.startup from iscsid.conf: manual on Debian, automatic on RHEL), are logged in. " +
        "At stop it logs out of every session, the cluster's included (see san-unit-order).",
      fix: [
        ...loginUnits.map((u) => `systemctl disable ${u}    # not --now: stopping it logs out of every session, the cluster's included`),
        "# or keep it, with every node record manual: iscsiadm -m node -o update -n node.startup -v manual",
      ],
    });
  }

  // 6. a filesystem on one path of a multipathed LUN
  if (mpInitiators.length) {
    for (const p of s.cib.primitives.filter((x) => x.class === "ocf" && x.type === "Filesystem")) {
      const dev = p.params.device ?? "";
      if (!/^\/dev\/sd[a-z]+\d*$/.test(dev) && !/^\/dev\/disk\/by-path\/ip-.*-iscsi-/.test(dev)) continue;
      const byPath = /^\/dev\/disk\/by-path\/ip-(.+)-iscsi-(.+)-lun-(\d+)(-part\d+)?$/.exec(dev);
      out.push({
        id: "san-single-path",
        severity: "warning",
        subject: `resource ${p.id}`,
        message: `${p.id} mounts ${dev}, ${byPath ? `LUN ${byPath[3]} of ${byPath[2]} through the portal ${byPath[1]} only` : "one SCSI path of a LUN"}, while the LUNs are multipathed (${mpInitiators.map((x) => x.id).join(", ")})`,
        reason:
          "The filesystem uses one path of the LUN, not the multipath map: when that path fails (a cut link, its portal's resource stopped), the filesystem loses its disk although the other paths are fine, and the path's stop is refused while it is mounted. /dev/sdX names also change between boots.",
        fix: [
          `multipath -ll "$(readlink -f ${shq(dev)})"    # names the map of the LUN this path belongs to`,
          `pcs resource update ${shq(p.id)} device=/dev/mapper/<map>    # or the LV on it (a partition: /dev/mapper/<map>-part1)`,
        ],
      });
    }
  }
  return out;
};
