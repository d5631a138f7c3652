// Reading what Pacemaker passes an agent: OCF variables, meta attributes and notify lists.
// Handlers get the parsed result; only this module reads process.env.

export type Env = Readonly<Record<string, string | undefined>>;

/** OCF booleans: yes|true|1|on|ja in any case. */
export function ocfIsTrue(v: string | undefined): boolean {
  if (v === undefined) return false;
  return /^(yes|true|1|on|ja)$/i.test(v.trim());
}

/** The values OCF treats as false; anything else is a malformed boolean. */
export function ocfIsFalse(v: string): boolean {
  return /^(no|false|0|off|nein)$/i.test(v.trim());
}

export interface NotifyLists {
  resource: string[];
  uname: string[];
}

export interface NotifyEnv {
  type: "pre" | "post" | "";
  operation: string;
  start: NotifyLists;
  stop: NotifyLists;
  promote: NotifyLists;
  demote: NotifyLists;
  active: NotifyLists;
  promoted: NotifyLists;
  unpromoted: NotifyLists;
  inactive: NotifyLists;
  all: NotifyLists;
}

export interface MetaEnv {
  /** ms; undefined when Pacemaker did not pass one */
  timeout: number | undefined;
  /** ms; 0 for probes and one-shot actions */
  interval: number;
  name: string | undefined;
  onNode: string | undefined;
  /** CRM_meta_on_node_uuid: the corosync node id in a corosync cluster */
  onNodeUuid: string | undefined;
  clone: number | undefined;
  cloneMax: number | undefined;
  cloneNodeMax: number | undefined;
  promotedMax: number | undefined;
  promotedNodeMax: number | undefined;
  notify: boolean;
  globallyUnique: boolean;
  /** true when any clone meta is present */
  isClone: boolean;
}

export interface OcfEnv {
  root: string;
  raVersion: { major: number; minor: number } | undefined;
  instance: string;
  type: string | undefined;
  provider: string | undefined;
  /** OCF_CHECK_LEVEL as asked, before fallback */
  checkLevel: number;
  exitReasonPrefix: string;
  trace: boolean;
  rscTmp: string;
  meta: MetaEnv;
  notify: NotifyEnv;
  /** raw OCF_RESKEY_<name> values of non-meta parameters */
  reskeys: Record<string, string>;
  /**
   * Roots of kernel interfaces the agents read. Only tests move them (TSSTOR_*_ROOT), to run
   * the same agent code against an emulation where this kernel lacks the subsystem.
   * `tgtIpcSocket` is tgt's own TGT_IPC_SOCKET (tgtadm and tgtd honour it too); undefined means
   * tgt's compiled-in default. `proc` is the root of /proc reads (/proc/drbd, which the DRBD
   * simulator writes). `sys` and `dev` are the roots of /sys and /dev reads (the iSCSI initiator's
   * sessions, disks and udev links); `iscsiDb` is open-iscsi's node database directory (undefined:
   * the one iscsiadm was built with, lib/iscsi/initiator.ts iscsiDbOf) and `iscsiLock` its lock
   * directory (iscsiadm's compiled-in /run/lock/iscsi).
   */
  paths: { configfs: string; tgtIpcSocket?: string; lvm: string; proc: string; sys: string; dev: string; iscsiDb?: string; iscsiLock: string };
}

function num(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === "") return undefined;
  const n = Number(v.trim());
  return Number.isFinite(n) ? n : undefined;
}

/** Notify lists are space separated; an empty list is a single space. */
export function splitList(v: string | undefined): string[] {
  if (v === undefined) return [];
  return v.split(/\s+/).filter((s) => s !== "");
}

function lists(env: Env, key: string, legacy?: string): NotifyLists {
  const get = (suffix: string) => {
    const k = `OCF_RESKEY_CRM_meta_notify_${key}_${suffix}`;
    if (env[k] !== undefined || legacy === undefined) return splitList(env[k]);
    return splitList(env[`OCF_RESKEY_CRM_meta_notify_${legacy}_${suffix}`]);
  };
  return { resource: get("resource"), uname: get("uname") };
}

export function parseNotify(env: Env): NotifyEnv {
  const t = (env.OCF_RESKEY_CRM_meta_notify_type ?? "").trim();
  return {
    type: t === "pre" || t === "post" ? t : "",
    operation: (env.OCF_RESKEY_CRM_meta_notify_operation ?? "").trim(),
    start: lists(env, "start"),
    stop: lists(env, "stop"),
    promote: lists(env, "promote"),
    demote: lists(env, "demote"),
    active: lists(env, "active"),
    promoted: lists(env, "promoted", "master"),
    unpromoted: lists(env, "unpromoted", "slave"),
    inactive: lists(env, "inactive"),
    all: lists(env, "all"),
  };
}

export function parseMeta(env: Env): MetaEnv {
  const m = (k: string) => env[`OCF_RESKEY_CRM_meta_${k}`];
  const clone = num(m("clone"));
  const cloneMax = num(m("clone_max"));
  return {
    timeout: num(m("timeout")),
    interval: num(m("interval")) ?? 0,
    name: m("name"),
    onNode: m("on_node")?.trim() || undefined,
    onNodeUuid: m("on_node_uuid")?.trim() || undefined,
    clone,
    cloneMax,
    cloneNodeMax: num(m("clone_node_max")),
    promotedMax: num(m("promoted_max")) ?? num(m("master_max")),
    promotedNodeMax: num(m("promoted_node_max")) ?? num(m("master_node_max")),
    notify: ocfIsTrue(m("notify")),
    globallyUnique: ocfIsTrue(m("globally_unique")),
    isClone: clone !== undefined || cloneMax !== undefined,
  };
}

export function parseEnv(env: Env): OcfEnv {
  const reskeys: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined && k.startsWith("OCF_RESKEY_") && !k.startsWith("OCF_RESKEY_CRM_meta_")) {
      reskeys[k.slice("OCF_RESKEY_".length)] = v;
    }
  }
  const major = num(env.OCF_RA_VERSION_MAJOR);
  const minor = num(env.OCF_RA_VERSION_MINOR);
  return {
    root: env.OCF_ROOT || "/usr/lib/ocf",
    raVersion: major === undefined ? undefined : { major, minor: minor ?? 0 },
    instance: env.OCF_RESOURCE_INSTANCE || "default",
    type: env.OCF_RESOURCE_TYPE,
    provider: env.OCF_RESOURCE_PROVIDER,
    checkLevel: num(env.OCF_CHECK_LEVEL) ?? 0,
    exitReasonPrefix: env.OCF_EXIT_REASON_PREFIX || "ocf-exit-reason:",
    trace: ocfIsTrue(env.OCF_TRACE_RA) || ocfIsTrue(env.HA_debug),
    rscTmp: env.HA_RSCTMP || "/run/resource-agents",
    meta: parseMeta(env),
    notify: parseNotify(env),
    reskeys,
    // LVM_SYSTEM_DIR is LVM's own variable: the LVM tools we run read the same lvm.conf we check.
    paths: {
      configfs: env.TSSTOR_CONFIGFS_ROOT || "/sys/kernel/config",
      tgtIpcSocket: env.TGT_IPC_SOCKET || undefined,
      lvm: env.LVM_SYSTEM_DIR || "/etc/lvm",
      proc: env.TSSTOR_PROC_ROOT || "/proc",
      sys: env.TSSTOR_SYS_ROOT || "/sys",
      dev: env.TSSTOR_DEV_ROOT || "/dev",
      iscsiDb: env.TSSTOR_ISCSI_DB || undefined,
      iscsiLock: env.TSSTOR_ISCSI_LOCK_DIR || "/run/lock/iscsi",
    },
  };
}

/** Metadata in OCF 1.1 form when the caller says it speaks 1.1 (Pacemaker >= 2.1). */
export function speaks11(e: OcfEnv): boolean {
  const v = e.raVersion;
  return v !== undefined && (v.major > 1 || (v.major === 1 && v.minor >= 1));
}

/** A probe is a monitor with interval 0 or unset. */
export function isProbe(action: string, meta: MetaEnv): boolean {
  return action === "monitor" && meta.interval === 0;
}

/** The highest supported level that is not above the asked one (0 when none is). */
export function effectiveLevel(asked: number, supported: readonly number[]): number {
  let best = 0;
  for (const l of supported) if (l <= asked && l > best) best = l;
  return best;
}
