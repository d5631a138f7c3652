// What `tsstor status` reads on the node it runs on, through the same lib/ adapters and parsers
// the agents use: DRBD (drbdsetup events2 / sh-status via lib/drbd/tools.ts), tgt (tgtd's management
// socket via lib/iscsi/tgtadm.ts), LIO (configfs via lib/iscsi/configfs.ts), mounts (/proc/self/mountinfo),
// GFS2 (/sys/fs/gfs2), DLM (dlm_tool ls), lvmlockd (lvmlockctl --info), local addresses
// (rtnetlink). Each reader returns data or an error text; nothing here throws at the caller.
// Roots move only in tests, as for the agents: TSSTOR_PROC_ROOT, TSSTOR_CONFIGFS_ROOT,
// TGT_IPC_SOCKET, plus TSSTOR_MOUNTINFO and TSSTOR_SYSFS_ROOT.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Budget } from "../../lib/ocf/budget.js";
import { Drbd } from "../../lib/drbd/tools.js";
import type { DrbdState } from "../../lib/drbd/state.js";
import { Lio, listDir, readValue } from "../../lib/iscsi/configfs.js";
import { parseDlmToolLs, type Lockspace as DlmLockspace } from "../../lib/cluster/dlm.js";
import { Lockctl, daemonPid, LVMLOCKD_PIDFILE, type Lockspace as LvmLockspace } from "../../lib/lvm/lockd.js";
import { Logger } from "../../lib/ocf/log.js";
import { parseMountinfo, type Mount } from "../../lib/fs/mounts.js";
import { dumpAddrs } from "../../lib/net/netlink.js";
import { Runner } from "../../lib/system/run.js";
import { Tgt, type TgtTarget } from "../../lib/iscsi/tgtadm.js";

export interface LocalPaths {
  proc: string;
  configfs: string;
  tgtSocket: string | undefined;
  mountinfo: string;
  sys: string;
}

export function localPaths(env: NodeJS.ProcessEnv = process.env): LocalPaths {
  return {
    proc: env.TSSTOR_PROC_ROOT || "/proc",
    configfs: env.TSSTOR_CONFIGFS_ROOT || "/sys/kernel/config",
    tgtSocket: env.TGT_IPC_SOCKET || undefined,
    mountinfo: env.TSSTOR_MOUNTINFO || "/proc/self/mountinfo",
    sys: env.TSSTOR_SYSFS_ROOT || "/sys",
  };
}

/** A runner for the lib adapters: quiet logger, a generous budget (status is no Pacemaker action). */
export function quietRunner(totalMs = 60_000): { runner: Runner; budget: Budget; log: Logger } {
  const budget = new Budget(totalMs, undefined, totalMs);
  const log = new Logger("tsstor-status", "status", false, () => {});
  return { runner: new Runner(budget, log), budget, log };
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

// ---- DRBD ---------------------------------------------------------------------------------------

export function readDrbd(resource: string, conf: string, paths: LocalPaths): DrbdState | { error: string } {
  const { runner } = quietRunner(20_000);
  const d = new Drbd({ runner, resource, conf, procRoot: paths.proc });
  const k = d.kernel();
  if (!k) return { error: `DRBD module not loaded on this node (${join(paths.proc, "drbd")})` };
  try {
    return d.state(k);
  } catch (e) {
    return { error: message(e) };
  }
}

// ---- iSCSI targets ------------------------------------------------------------------------------

export interface LocalLun {
  lun: number;
  path: string;
  sizeMb?: number;
  /** tgt SCSI serial / LIO unit serial */
  serial?: string;
}

export interface LocalSession {
  initiator: string;
  addresses: string[];
}

export interface LocalTarget {
  iqn: string;
  implementation: "tgt" | "lio-t";
  tid?: number;
  state?: string;
  luns: LocalLun[];
  sessions: LocalSession[];
}

/** tgtd's targets (over its socket, no tgtadm process); undefined when tgtd does not run here. */
export function readTgt(paths: LocalPaths): LocalTarget[] | { error: string } | undefined {
  const { runner, budget, log } = quietRunner(10_000);
  let targets: TgtTarget[] | undefined;
  try {
    targets = new Tgt(runner, log, budget, paths.tgtSocket).targets();
  } catch (e) {
    return { error: message(e) };
  }
  if (!targets) return undefined;
  return targets.map((t) => ({
    iqn: t.iqn,
    implementation: "tgt",
    tid: t.tid,
    state: t.state,
    // LUN 0 is tgt's controller LUN, not storage
    luns: t.luns.filter((l) => l.type !== "controller").map((l) => ({ lun: l.lun, path: l.path, sizeMb: l.sizeMb, serial: l.scsiSn || undefined })),
    sessions: t.nexus.map((n) => ({ initiator: n.initiator, addresses: n.connections.map((c) => c.ip).filter((x): x is string => !!x) })),
  }));
}

/**
 * An ACL's `info` (lio_target_nacl_info_show): "No active iSCSI Session for Initiator Endpoint: X"
 * or "InitiatorName: X ... Session State: TARG_SESS_STATE_LOGGED_IN ... Address 10.0.0.2 TCP ...".
 */
export function parseAclInfo(text: string): LocalSession | undefined {
  if (/^No active iSCSI Session/m.test(text)) return undefined;
  const name = /^InitiatorName: (\S+)/m.exec(text)?.[1];
  if (!name) return undefined;
  if (/^Session State: /m.test(text) && !/^Session State: TARG_SESS_STATE_LOGGED_IN/m.test(text)) return undefined;
  return { initiator: name, addresses: [...text.matchAll(/^\s+Address (\S+) /gm)].map((m) => m[1]!) };
}

/** LIO targets from configfs; undefined when target_core_mod is not loaded here. */
export function readLio(paths: LocalPaths): LocalTarget[] | undefined {
  const lio = new Lio(paths.configfs);
  if (!lio.loaded()) return undefined;
  const out: LocalTarget[] = [];
  for (const iqn of listDir(join(lio.target, "iscsi"))) {
    if (iqn === "discovery_auth" || iqn === "lio_version" || !iqn.includes(".")) continue;
    const luns: LocalLun[] = lio.luns(iqn).sort((a, b) => a - b).map((lun) => {
      const so = lio.lunObject(iqn, lun);
      const dev = so ? readValue(join(so.dir, "udev_path")) : undefined;
      const serial = so ? readValue(join(so.dir, "wwn", "vpd_unit_serial"))?.replace(/^.*:\s*/, "") : undefined;
      return { lun, path: dev ?? (so ? `${so.plugin}/${so.name}` : "?"), serial };
    });
    const sessions: LocalSession[] = [];
    for (const acl of lio.acls(iqn)) {
      const s = parseAclInfo(readValue(join(lio.aclDir(iqn, acl), "info")) ?? "");
      if (s) sessions.push(s);
    }
    // demo mode (generate_node_acls=1): sessions without an ACL are listed here
    for (const name of (readValue(join(lio.tpg(iqn), "dynamic_sessions")) ?? "").split("\n").map((s) => s.trim()).filter(Boolean)) {
      if (!sessions.some((s) => s.initiator === name)) sessions.push({ initiator: name, addresses: [] });
    }
    out.push({ iqn, implementation: "lio-t", state: readValue(join(lio.tpg(iqn), "enable")) === "1" ? "ready" : "disabled", luns, sessions });
  }
  return out;
}

// ---- mounts, GFS2, DLM, lvmlockd ----------------------------------------------------------------

export function readMountTable(paths: LocalPaths): Mount[] {
  try {
    return parseMountinfo(readFileSync(paths.mountinfo, "utf8"));
  } catch {
    return [];
  }
}

/** /sys/fs/gfs2/<CLUSTER:FSNAME>/ of a mounted GFS2 (by device number): its lock table and withdrawal. */
export function gfs2Sys(major: number, minor: number, paths: LocalPaths): { lockTable: string; withdrawn: boolean } | undefined {
  const root = join(paths.sys, "fs", "gfs2");
  for (const n of listDir(root)) {
    if (readValue(join(root, n, "id")) !== `${major}:${minor}`) continue;
    return { lockTable: n, withdrawn: readValue(join(root, n, "withdraw")) === "1" };
  }
  return undefined;
}

/** dlm_tool ls: lockspaces with their member node ids; an error text when dlm_controld does not answer. */
export function readDlm(): DlmLockspace[] | { error: string } {
  const { runner } = quietRunner(10_000);
  const r = runner.run("dlm_tool", ["ls"], { timeoutMs: 10_000 });
  if (r.missing) return { error: "dlm_tool not installed" };
  if (r.code !== 0) return { error: "dlm_controld does not answer (dlm_tool ls)" };
  return parseDlmToolLs(r.stdout);
}

/** lvmlockd's lockspaces (lvmlockctl --info); undefined when lvmlockd does not run here. */
export function readLvmlockd(): LvmLockspace[] | { error: string } | undefined {
  if (daemonPid(LVMLOCKD_PIDFILE, "lvmlockd") === undefined) return undefined;
  const { runner } = quietRunner(10_000);
  const q = new Lockctl(runner).info(10_000);
  return q.lockspaces ?? { error: `lvmlockctl --info failed (rc=${q.r.code})` };
}

// ---- addresses ----------------------------------------------------------------------------------

/** Every address on this node's interfaces (netlink; `ip -o addr` where FFI is unavailable). */
export function localAddresses(): Set<string> {
  const out = new Set<string>();
  const v4 = dumpAddrs(4);
  const v6 = dumpAddrs(6);
  if (v4 && v6) {
    for (const a of [...v4, ...v6]) out.add(a.address);
    return out;
  }
  const { runner } = quietRunner(5_000);
  const r = runner.run("ip", ["-o", "addr", "show"]);
  for (const m of r.stdout.matchAll(/\binet6? ([0-9a-fA-F:.]+)\//g)) out.add(m[1]!);
  return out;
}
