// Every hazard check, in report order, and the catalogue `tsstor doctor --list` prints (a test
// checks that every finding id the checks emit is in it).
import { checkInterleave } from "./clones.js";
import { checkDrbd } from "./drbd.js";
import { checkDrbdPolicy } from "./drbd-policy.js";
import { checkFencing } from "./fencing.js";
import { checkGfs2 } from "./gfs2.js";
import { checkLvm } from "./lvm.js";
import { checkMigrate } from "./migrate.js";
import { checkMultipath } from "./multipath.js";
import { checkSan } from "./san.js";
import { checkTarget } from "./target.js";
import type { Check, Severity } from "./types.js";

export const CHECKS: Check[] = [checkFencing, checkDrbd, checkDrbdPolicy, checkGfs2, checkInterleave, checkLvm, checkTarget, checkMultipath, checkSan, checkMigrate];

export const CATALOGUE: Array<{ id: string; severity: Severity | "warning/error" | "info/warning"; what: string }> = [
  { id: "stonith-disabled", severity: "error", what: "stonith-enabled=false" },
  { id: "stonith-disabled-drbd-quorum", severity: "warning", what: "stonith-enabled=false, every DRBD resource protected by DRBD quorum (3+ nodes)" },
  { id: "stonith-no-device", severity: "error", what: "fencing enabled but no fence device" },
  { id: "two-node-no-fencing", severity: "error", what: "corosync two_node: 1 without working fencing" },
  { id: "two-node-fence-race", severity: "warning", what: "two-node cluster without pcmk_delay_max / priority-fencing-delay" },
  { id: "drbd-not-promotable", severity: "error", what: "DRBD primitive outside a promotable clone" },
  { id: "drbd-clone-notify", severity: "error", what: "DRBD clone without notify=true" },
  { id: "drbd-promoted-max", severity: "error", what: "promoted-max > 1 without allow-two-primaries" },
  { id: "drbd-node-max", severity: "error", what: "clone-node-max or promoted-node-max > 1 on a DRBD clone" },
  { id: "drbd-resource-missing", severity: "warning", what: "drbd_resource not defined in drbd.conf" },
  { id: "drbd-conf-unreadable", severity: "info", what: "drbd.conf not readable here: DRBD checks skipped" },
  { id: "drbd-no-fencing", severity: "warning/error", what: "DRBD resource without a fencing policy or DRBD quorum (warning: quorum only, although the cluster has STONITH)" },
  { id: "drbd-no-fence-handler", severity: "error", what: "fencing policy without a fence-peer handler" },
  { id: "drbd-fence-handler-version", severity: "error", what: "crm-fence-peer / crm-unfence-peer handler of the other DRBD version (9 vs 8.4)" },
  { id: "drbd-no-unfence-handler", severity: "warning", what: "crm-fence-peer without crm-unfence-peer" },
  { id: "drbd-resource-only", severity: "warning", what: "fencing resource-only although the cluster has STONITH" },
  { id: "drbd-on-no-quorum", severity: "error", what: "DRBD quorum with an on-no-quorum other than the stack needs" },
  { id: "drbd-quorum-two-nodes", severity: "warning", what: "DRBD quorum with fewer than three nodes: no majority after one failure" },
  { id: "drbd-auto-promote", severity: "warning", what: "DRBD 9 auto-promote on under Pacemaker" },
  { id: "drbd-service-enabled", severity: "warning", what: "drbd.service enabled at boot under Pacemaker" },
  { id: "drbd-after-sb-0pri", severity: "warning", what: "split brain without a Primary resolved by discarding a node's writes (discard-younger/older-primary, discard-least-changes, discard-node)" },
  { id: "drbd-after-sb-1pri", severity: "warning", what: "split brain with one Primary resolved against the Primary (call-pri-lost-after-sb, violently-as0p)" },
  { id: "drbd-after-sb-2pri", severity: "warning/error", what: "split brain with two Primaries resolved automatically (violently-as0p, call-pri-lost-after-sb; error when after-sb-0pri picks a victim)" },
  { id: "drbd-rr-conflict", severity: "warning", what: "resync-role conflict resolved on the Primary (rr-conflict violently, call-pri-lost; auto-discard with protocol A)" },
  { id: "drbd-no-split-brain-handler", severity: "info/warning", what: "no split-brain handler: nobody learns of a split brain (warning: no fencing or quorum prevents one)" },
  { id: "drbd-no-verify-alg", severity: "info", what: "no verify-alg: online verify (drbdadm verify) impossible" },
  { id: "drbd-resync-rate-high", severity: "info/warning", what: "resync ceiling above the replication link's speed (warning: a fixed rate with the controller off; info: c-max-rate)" },
  { id: "drbd-resync-rate-low", severity: "info/warning", what: "resync ceiling under a tenth of the link (warning: the controller off with a low fixed rate; info: c-max-rate)" },
  { id: "drbd-quorum-no-tiebreaker", severity: "warning", what: "DRBD quorum on two nodes without a fencing policy: quorum lost whenever one node goes" },
  { id: "drbd-quorum-io-error-iscsi", severity: "warning", what: "on-no-quorum io-error under an iSCSI LUN: initiators see I/O errors (suspend-io)" },
  { id: "drbd-quorum-off", severity: "warning", what: "three or more DRBD nodes without quorum on a cluster that cannot fence nodes" },
  { id: "drbd-linstor-managed", severity: "info", what: "resource file generated by LINSTOR: change it with linstor, not by hand" },
  { id: "gfs2-no-quorum-policy", severity: "error", what: "GFS2 in use, no-quorum-policy is not freeze" },
  { id: "gfs2-no-dlm", severity: "error", what: "GFS2 in use without a DLM (controld) clone" },
  { id: "gfs2-nolock", severity: "error", what: "lock_nolock GFS2 mounted by a clone" },
  { id: "gfs2-lock-table", severity: "error", what: "GFS2 lock table does not match the cluster name" },
  { id: "gfs2-journals", severity: "error", what: "fewer GFS2 journals than nodes mounting it" },
  { id: "gfs2-not-checked", severity: "info", what: "GFS2 superblock not readable here" },
  { id: "clone-interleave", severity: "warning", what: "dlm / lvmlockd / clvm / shared LV / GFS2 clone without interleave=true" },
  { id: "lvm-no-lvmlockd", severity: "warning/error", what: "lvmlockd VGs in the CIB, use_lvmlockd not 1 in lvm.conf" },
  { id: "lvm-filter-drbd-backing", severity: "warning", what: "LVM scans DRBD backing disks" },
  { id: "target-open", severity: "error", what: "iSCSI target without allowed_initiators and without CHAP (demo mode / ALL)" },
  { id: "target-no-chap", severity: "info", what: "iSCSI target admitting initiators by name only" },
  { id: "target-chap-in-cib", severity: "warning", what: "CHAP secret stored in the CIB (incoming_password)" },
  { id: "target-portal-wildcard", severity: "warning", what: "iSCSI portal on every address (0.0.0.0 / [::], tgt), the cluster and replication networks included" },
  { id: "target-portal-cluster-net", severity: "warning", what: "iSCSI portal on a corosync ring or DRBD replication address" },
  { id: "target-nonlocal-bind", severity: "warning", what: "LIO portal on a virtual IP without ip_nonlocal_bind=1 at boot" },
  { id: "lio-restore-enabled", severity: "error", what: "LIO restore service enabled at boot under Pacemaker" },
  { id: "multipath-drbd", severity: "warning/error", what: "multipath not blacklisting DRBD devices (error: an exception claims them)" },
  { id: "multipath-bad-regex", severity: "warning", what: "blacklist regex multipath drops" },
  { id: "multipath-ignored-line", severity: "warning", what: "multipath.conf data multipath ignores (one-line sections)" },
  { id: "san-multipath-queue", severity: "warning/error", what: "SAN initiators with multipath queueing forever when every path is gone (no_path_retry queue / queue_if_no_path; error: GFS2 or shared LVs)" },
  { id: "san-multipath-retry-unset", severity: "warning", what: "SAN initiators with multipath, no_path_retry not set in overrides: the built-in per-array entries decide" },
  { id: "san-multipath-greedy", severity: "warning", what: "find_multipaths off/greedy without a blacklist limiting it: the local disks become multipath maps" },
  { id: "san-unit-order", severity: "warning", what: "Pacemaker not ordered to stop before iscsid / multipathd / open-iscsi at shutdown (resource-agents-deps.target drop-in)" },
  { id: "san-open-iscsi-autologin", severity: "info", what: "open-iscsi.service / iscsi.service enabled: boot-time logins and shutdown logouts outside the cluster" },
  { id: "san-single-path", severity: "warning", what: "Filesystem on one path (/dev/sdX, /dev/disk/by-path/ip-*-iscsi-*) of a multipathed LUN" },
  { id: "migrate-to-tsstor", severity: "info", what: "ocf:heartbeat / ocf:linbit agent with an ocf:tsstor drop-in (cibadmin command)" },
  { id: "migrate-blocked", severity: "info", what: "upstream agent configured in a way ocf:tsstor does not support" },
  { id: "config-unreadable", severity: "warning", what: "a configuration file that does not parse" },
];
