// lvm.conf against the cluster: lvmlockd-managed VGs need use_lvmlockd = 1 on every node, and
// LVM on top of DRBD must not see the DRBD backing disks.
import type { Primitive } from "../doctor/cib.js";
import { isTrue } from "../doctor/cib.js";
import { lvmAccepts } from "../doctor/lvm.js";
import { isDrbd } from "./drbd.js";
import { unavailable, type Check, type Finding } from "./types.js";

const isLvmlockd = (p: Primitive) =>
  p.class === "ocf" &&
  ((p.provider === "heartbeat" && p.type === "lvmlockd") ||
    (p.provider === "tsstor" && (p.type === "clvm" || p.type === "lvmlockd") && (p.params.lock_type ?? "dlm") !== "clvmd") ||
    (p.type === "LVM-activate" && p.params.vg_access_mode === "lvmlockd"));

export const checkLvm: Check = (s) => {
  const out: Finding[] = [];
  const lvm = s.lvm;
  if (unavailable(lvm)) return out;
  const users = s.cib.primitives.filter(isLvmlockd);
  if (users.length && !lvm.useLvmlockd) {
    // heartbeat lvmlockd and ocf:tsstor:clvm update_lvm_conf=true rewrite lvm.conf at start
    const selfFixing = users.filter((p) => (p.provider === "heartbeat" && p.type === "lvmlockd") || (p.provider === "tsstor" && isTrue(p.params.update_lvm_conf)));
    out.push({
      id: "lvm-no-lvmlockd",
      severity: selfFixing.length ? "warning" : "error",
      subject: lvm.path,
      message: `${lvm.path} does not set use_lvmlockd = 1 but the cluster manages lvmlockd VGs (${users.map((p) => p.id).join(", ")})`,
      reason: selfFixing.length
        ? `${selfFixing.map((p) => p.id).join(", ")} rewrites lvm.conf when it starts, but until then (boot, udev auto-activation, an admin's lvs) LVM ignores lvmlockd and refuses or mishandles the shared VGs; set it on every node.`
        : "Without it LVM commands do not use lvmlockd: shared VGs cannot be accessed (\"Cannot access VG ... with lock type dlm that requires lvmlockd\"), the lock manager resource refuses to start and LVM-activate fails.",
      fix: [
        `sed -i -E 's/^([[:space:]]*)#?[[:space:]]*use_lvmlockd[[:space:]]*=.*/\\1use_lvmlockd = 1/' ${lvm.path}    # on every node; or set it by hand in global { }`,
        "lvmconfig global/use_lvmlockd    # prints use_lvmlockd=1",
      ],
    });
  }
  // LVM on DRBD: the backing disks must be filtered out, or LVM sees every PV twice
  if (!lvm.useDevicesfile && s.cib.primitives.some((p) => p.type === "LVM-activate")) {
    const disks = new Set<string>();
    for (const p of s.cib.primitives.filter(isDrbd)) {
      const c = s.drbdConf(p);
      if (!unavailable(c)) for (const d of c.resources.get(p.params.drbd_resource ?? "")?.disks ?? []) disks.add(d);
    }
    const seen = [...disks].filter((d) => lvmAccepts(lvm.globalFilter, d) && lvmAccepts(lvm.filter, d));
    if (seen.length)
      out.push({
        id: "lvm-filter-drbd-backing",
        severity: "warning",
        subject: lvm.path,
        message: `LVM scans the DRBD backing disk(s) ${seen.join(", ")}`,
        reason:
          "With LVM on top of DRBD the PV is visible twice, on the backing disk and on /dev/drbdN. LVM may pick the backing disk and activate the LV there, so writes bypass DRBD and never reach the peer; on a Secondary it sees LVs DRBD is about to overwrite. Reject the backing disks in global_filter.",
        fix: [`# in ${lvm.path}, devices { } on every node:`, `#   global_filter = [ ${[...seen.map((d) => `"r|^${d.replace(/[.+]/g, "\\$&")}$|"`), ...lvm.globalFilter.map((g) => `"${g}"`)].join(", ")} ]`, "pvs    # the PVs now show on /dev/drbdN only"],
      });
  }
  return out;
};
