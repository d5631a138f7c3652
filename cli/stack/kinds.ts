// Options, by their command-line names, to a stack plan: the one mapping both `tsstor stack KIND
// --options` and a stack file of that kind go through, so both give the same commands.
import type { FencingOptions } from "../fencing.js";
import { drbdFsStack, gfs2Stack, iscsiStack, sanStack, type Plan } from "../stacks.js";

/** Option values as yargs gives them: strings, numbers, booleans, lists. */
export type Args = Record<string, unknown>;

export const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);
/** a repeatable option: each value may also be a comma-separated list */
export const strs = (v: unknown): string[] => list(v).flatMap((s) => s.split(",")).filter(Boolean);
const s = (v: unknown) => (v === undefined ? undefined : String(v));
const n = (v: unknown) => (v === undefined ? undefined : Number(v));

export const fencingOptions = (a: Args): FencingOptions => ({
  method: s(a.fencing),
  corosyncConf: s(a["corosync-conf"]),
  sbdDevices: strs(a["sbd-device"]),
  sbdInit: a["sbd-init"] === true,
  sbdEnable: a["sbd-enable"] === true,
  watchdog: s(a.watchdog),
  sbdWatchdogTimeout: n(a["sbd-watchdog-timeout"]),
  sbdMsgwait: n(a["sbd-msgwait"]),
  fenceAgent: s(a["fence-agent"]),
  // not split at commas: a parameter value may hold one
  fenceParams: list(a["fence-param"]),
  fenceHostMap: strs(a["fence-host-map"]),
  fencePasswordFiles: strs(a["fence-password-file"]),
  onNoQuorum: s(a["on-no-quorum"]),
  skipDrbdCheck: a["skip-drbd-check"] === true,
});

const chapArgs = (a: Args) => ({
  chap: { user: s(a["chap-user"]), file: s(a["chap-secret-file"]) },
  mutualChap: { user: s(a["mutual-chap-user"]), file: s(a["mutual-chap-secret-file"]) },
});

const lockType = (a: Args) => s(a["lock-type"]) as "dlm" | "sanlock" | undefined;

/** The plan of a bundled stack from its options (`prefix` is the resource id prefix). */
export function bundledPlan(kind: "iscsi" | "gfs2" | "san" | "drbd-fs", a: Args): Plan {
  const prefix = String(a.prefix);
  const monitorInterval = s(a["monitor-interval"]);
  const f = fencingOptions(a);
  switch (kind) {
    case "iscsi":
      return iscsiStack({
        prefix,
        drbdResource: s(a["drbd-resource"]),
        drbdconf: s(a.drbdconf),
        san: a["no-drbd"] === true,
        iqn: String(a.iqn),
        luns: strs(a.lun),
        ips: strs(a.ip),
        nic: s(a.nic),
        portals: strs(a.portal),
        initiators: strs(a.initiator),
        allowAnyInitiator: a["allow-any-initiator"] === true,
        ...chapArgs(a),
        implementation: s(a.implementation),
        tid: n(a.tid),
        cloneMax: n(a["clone-max"]),
        monitorInterval,
      }, f);
    case "gfs2":
      return gfs2Stack({ prefix, filesystems: strs(a.fs), options: s(a.options), lockType: lockType(a), monitorInterval }, f);
    case "san":
      return sanStack({
        prefix,
        target: String(a.target),
        portals: strs(a.portal),
        filesystems: strs(a.fs),
        vmVgs: strs(a["vm-vg"]),
        options: s(a.options),
        lockType: lockType(a),
        multipath: a["no-multipath"] !== true,
        ...chapArgs(a),
        monitorInterval,
      }, f);
    case "drbd-fs":
      return drbdFsStack({
        prefix,
        drbdResource: String(a["drbd-resource"]),
        drbdconf: s(a.drbdconf),
        device: String(a.device),
        directory: String(a.directory),
        fstype: s(a.fstype) ?? "ext4",
        options: s(a.options),
        ip: String(a.ip),
        nic: s(a.nic),
        service: s(a.service),
        serviceParams: a["service-param"] === undefined ? undefined : list(a["service-param"]),
        cloneMax: n(a["clone-max"]),
        monitorInterval,
      }, f);
  }
}
