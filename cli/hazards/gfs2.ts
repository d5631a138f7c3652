// GFS2: no-quorum-policy, the DLM it needs, and the superblock (lock protocol, lock table
// against the cluster name, journals against the number of nodes mounting it).
import { cloneMax, cloneOf, type Primitive } from "../doctor/cib.js";
import { shq } from "../pcs.js";
import { unavailable, type Check, type Finding } from "./types.js";

export const isGfs2 = (p: Primitive) => p.class === "ocf" && p.type === "Filesystem" && (p.params.fstype ?? "").toLowerCase() === "gfs2";
export const isDlm = (p: Primitive) => p.class === "ocf" && p.provider === "pacemaker" && p.type === "controld";
/** lvmlockd (heartbeat lvmlockd, ocf:tsstor:clvm/lvmlockd) or clvmd (heartbeat clvm) */
export const isLockManager = (p: Primitive) =>
  p.class === "ocf" && ((p.provider === "heartbeat" && (p.type === "lvmlockd" || p.type === "clvm")) || (p.provider === "tsstor" && (p.type === "clvm" || p.type === "lvmlockd")));

export const checkGfs2: Check = (s) => {
  const out: Finding[] = [];
  const fss = s.cib.primitives.filter(isGfs2);
  if (!fss.length) return out;
  const nqp = s.cib.properties["no-quorum-policy"] ?? "stop";
  if (nqp !== "freeze")
    out.push({
      id: "gfs2-no-quorum-policy",
      severity: "error",
      subject: "cluster",
      message: `GFS2 is in use and no-quorum-policy is "${nqp}", not "freeze"`,
      reason:
        "GFS2 and DLM need quorum to work, and to stop: a partition that loses quorum cannot unmount, the stops fail and every node of it gets fenced each time quorum is lost. " +
        "freeze keeps the mounts as they are (I/O blocks) until quorum returns.",
      fix: ["pcs property set no-quorum-policy=freeze"],
    });
  if (!s.cib.primitives.some(isDlm) && !s.units.enabledBy("dlm.service").length)
    out.push({
      id: "gfs2-no-dlm",
      severity: "error",
      subject: "cluster",
      message: "GFS2 filesystems are configured but no DLM (ocf:pacemaker:controld clone) is",
      reason: "A lock_dlm GFS2 mount needs dlm_controld on every node mounting it; without it the mount fails (\"gfs2: can't find protocol lock_dlm\" / dlm lockspace errors).",
      fix: [
        "pcs resource create dlm ocf:pacemaker:controld op monitor interval=30s on-fail=fence clone",
        "pcs resource meta dlm-clone interleave=true",
        // dlm comes first in the stack: before the LVM lock manager when there is one, else before the mounts
        ...[...new Set((s.cib.primitives.some(isLockManager) ? s.cib.primitives.filter(isLockManager) : fss).map((p) => cloneOf(p)?.id ?? p.id))].flatMap((id) => [
          `pcs constraint order start dlm-clone then start ${shq(id)}`,
          `pcs constraint colocation add ${shq(id)} with dlm-clone score=INFINITY`,
        ]),
      ],
    });
  const cs = unavailable(s.corosync) ? undefined : s.corosync;
  const clusterName = cs?.clusterName ?? s.cib.properties["cluster-name"];
  for (const f of fss) {
    const dev = f.params.device ?? "";
    const subject = `resource ${f.id}`;
    if (!dev.startsWith("/")) {
      out.push({ id: "gfs2-not-checked", severity: "info", subject, message: `GFS2 superblock of ${f.id} not checked: device "${dev}" is not a path`, reason: "The lock table and journal count are read from the device (tunegfs2 -l).", fix: [] });
      continue;
    }
    const info = s.gfs2(s.path(dev));
    if (typeof info === "string") {
      out.push({
        id: "gfs2-not-checked",
        severity: "info",
        subject,
        message: `GFS2 superblock of ${f.id} not checked: ${info}`,
        reason: "The lock table and journal count are read from the device; run tsstor doctor on a node where it is visible (shared LV active).",
        fix: [],
      });
      continue;
    }
    const clone = cloneOf(f);
    if (info.lockProto === "lock_nolock") {
      if (clone)
        out.push({
          id: "gfs2-nolock",
          severity: "error",
          subject,
          message: `${dev} is a lock_nolock GFS2 mounted by a clone (${clone.id})`,
          reason: "lock_nolock has no cluster locking: mounted on two nodes at once, each overwrites the other's metadata and the filesystem is corrupted.",
          fix: [`tunegfs2 -o lockproto=lock_dlm -o locktable=${clusterName ?? "<cluster name>"}:<fsname> ${shq(dev)}    # with the filesystem unmounted everywhere`],
        });
      continue;
    }
    const [table] = info.lockTable.split(":");
    if (clusterName && table !== clusterName) {
      const fsname = info.lockTable.includes(":") ? info.lockTable.slice(info.lockTable.indexOf(":") + 1) : "<fsname>";
      out.push({
        id: "gfs2-lock-table",
        severity: "error",
        subject,
        message: `GFS2 lock table of ${dev} is "${info.lockTable}" but the cluster is named "${clusterName}"`,
        reason: "A lock_dlm mount creates its DLM lockspace under the cluster name in the lock table, and the kernel DLM refuses a name other than the running cluster's: the mount fails on every node.",
        fix: [`tunegfs2 -o locktable=${clusterName}:${fsname} ${shq(dev)}    # with the filesystem unmounted on every node`],
      });
    }
    const nodes = s.nodes.length;
    const need = clone ? cloneMax(s.cib, clone, nodes) : 1;
    if (info.journals !== undefined && need > 0 && info.journals < need)
      out.push({
        id: "gfs2-journals",
        severity: "error",
        subject,
        message: `${dev} has ${info.journals} journal(s) but ${clone ? `clone ${clone.id} mounts it on up to ${need} nodes` : "it is mounted"}`,
        reason: "Every node mounting a GFS2 filesystem needs its own journal: the mount on the node that finds none left fails, and that node cannot take its share of the clone.",
        fix: [`gfs2_jadd -j ${need - info.journals} ${shq(f.params.directory ?? "<mount point>")}    # on a node where it is mounted`],
      });
  }
  return out;
};
