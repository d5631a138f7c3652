// The GFS2 guards of the Filesystem agent: everything that makes a GFS2 mount fail (or worse) on
// a cluster, checked before mounting and at validate-all: lock protocol, clone, lock table
// against the corosync cluster name, journals against clone-max, dlm_controld answering.

import type { ActionTools } from "../ocf/runner.js";
import { fail } from "../ocf/codes.js";
import { clusterName } from "../cluster/corosync.js";
import { dlmControldPids, dlmState } from "../cluster/dlm.js";
import { effectiveLocking, parseGfs2EditJindex, readGfs2, splitLockTable } from "./gfs2.js";

/**
 * Everything that makes a GFS2 mount fail (or worse) on a cluster, checked before mounting:
 * each failure is a reason an operator can act on, instead of what mount says (for a wrong
 * cluster name: "mount(2) system call failed: Invalid request descriptor", recorded in the lab).
 */
export function gfs2Guards(t: ActionTools, dev: string, options: string, strictClone: boolean): void {
  let info;
  try {
    info = readGfs2(dev);
  } catch (e) {
    throw fail.generic(`cannot read the GFS2 superblock of ${dev}: ${(e as Error).message}`);
  }
  if (!info) throw fail.generic(`${dev} holds no GFS2 filesystem (no GFS2 superblock at 64 KiB) but fstype is gfs2`);
  const { lockProto, lockTable } = effectiveLocking(info.super, options);
  const meta = t.env.meta;

  if (lockProto === "lock_nolock") {
    if (meta.isClone && (meta.cloneMax === undefined || meta.cloneMax > 1)) {
      throw fail.configured(`GFS2 on ${dev} uses lock_nolock: only one node may mount it; do not clone it (or make it lock_dlm: tunegfs2 -o lockproto=lock_dlm)`);
    }
    return;
  }
  if (lockProto !== "lock_dlm") throw fail.configured(`GFS2 on ${dev} has lock protocol ${JSON.stringify(lockProto)}; expected lock_dlm (or lock_nolock)`);

  if (!meta.isClone) {
    const msg = `GFS2 with lock_dlm on ${dev} must run as a clone (one instance per node that mounts it)`;
    if (strictClone) throw fail.configured(msg);
    t.log.warn(`${msg}; no clone meta attributes were given, so this cannot be checked here`);
  }
  const table = splitLockTable(lockTable);
  if (!table) throw fail.configured(`GFS2 lock table ${JSON.stringify(lockTable)} on ${dev} is not CLUSTER:FSNAME`);

  const cn = clusterName(t.run);
  if (cn.name === undefined) throw fail.generic(`cannot find the corosync cluster name (${cn.source}): GFS2 with lock_dlm needs a running corosync`);
  if (cn.name !== table.cluster) {
    throw fail.configured(
      `GFS2 lock table ${lockTable} on ${dev} names cluster ${JSON.stringify(table.cluster)} but the corosync cluster is ${JSON.stringify(cn.name)} (from ${cn.source}); mount would fail; fix with: tunegfs2 -o locktable=${cn.name}:${table.fsname} ${dev}`,
    );
  }

  let journals = info.journals;
  if (journals === undefined) {
    const r = t.run.run("gfs2_edit", ["-p", "jindex", dev], { timeoutMs: 20000 });
    if (r.code === 0) journals = parseGfs2EditJindex(r.stdout);
  }
  if (journals === undefined) t.log.warn(`could not count the journals of ${dev}`);
  else if (meta.cloneMax !== undefined && journals < meta.cloneMax) {
    throw fail.configured(
      `GFS2 on ${dev} has ${journals} journal${journals === 1 ? "" : "s"} but clone-max is ${meta.cloneMax}: each node that mounts it needs its own journal; add them with gfs2_jadd -j ${meta.cloneMax - journals} MOUNTPOINT where it is mounted, or lower clone-max`,
    );
  }

  const dlm = dlmState(t.run);
  if (!dlm.installed) throw fail.installed("dlm_tool not found: GFS2 with lock_dlm needs dlm_controld (package dlm-controld, run as the ocf:pacemaker:controld clone)");
  if (!dlm.reachable) {
    const pids = dlmControldPids(t.env.paths.proc);
    throw fail.generic(
      pids.length
        ? `dlm_controld (pid ${pids.join(", ")}) does not answer dlm_tool ls: DLM is not ready on this node`
        : "dlm_controld is not running on this node (dlm_tool ls cannot reach it): start the ocf:pacemaker:controld clone first and order this clone after it",
    );
  }
}
