// What every hazard check receives and returns. A check is a function (Sources) => Finding[];
// cli/doctor.ts runs them all and prints the findings.
import type { Cib, Primitive } from "../doctor/cib.js";
import type { Corosync } from "../doctor/corosync.js";
import type { DrbdConfig } from "../doctor/drbd.js";
import type { Gfs2Info } from "../doctor/gfs2.js";
import type { LvmConf } from "../doctor/lvm.js";
import type { Multipath } from "../doctor/multipath.js";
import type { Sysctl } from "../doctor/sysctl.js";
import type { UnitDir } from "../doctor/systemd.js";

/**
 * error: data loss, split brain, or the cluster cannot work as configured (exit code 1).
 * warning: a failure or outage waiting for the wrong moment; fix it soon.
 * info: worth knowing (e.g. a migration to ocf:tsstor), or a check that could not run.
 */
export type Severity = "error" | "warning" | "info";

export interface Finding {
  /** stable identifier of the hazard, e.g. "stonith-disabled" (see `tsstor doctor --list`) */
  id: string;
  severity: Severity;
  /** what it is about: "cluster", "resource p_drbd-clone", "drbd resource r0", a file */
  subject: string;
  /** one line: what is wrong */
  message: string;
  /** why it matters */
  reason: string;
  /** the exact fix: shell commands; lines starting with "#" say what to edit in a file */
  fix: string[];
}

/** A source that could not be read: absent (checks skipped) or unparsable (reported). */
export interface Unavailable {
  unavailable: true;
  path: string;
  error: string;
}

export interface Sources {
  cib: Cib;
  /** where the CIB came from: a file name or "cibadmin -Q" */
  cibFrom: string;
  corosync: Corosync | Unavailable;
  lvm: LvmConf | Unavailable;
  multipath: Multipath | Unavailable;
  units: UnitDir;
  /** kernel parameters set at boot (sysctl.d) */
  sysctl: Sysctl;
  /** the drbd.conf a DRBD primitive uses (--drbd-conf, else its drbdconf parameter) */
  drbdConf: (p: Primitive) => DrbdConfig | Unavailable;
  gfs2: (device: string) => Gfs2Info | string;
  /** the loaded DRBD module's version (/proc/drbd), when this is a DRBD node */
  drbdKernel: string | undefined;
  /** node names: the CIB's, else corosync's nodelist */
  nodes: string[];
  /** paths as the doctor read them (with --root), for messages */
  path: (p: string) => string;
}

export const unavailable = <T extends object>(x: T | Unavailable): x is Unavailable => "unavailable" in x;

export type Check = (s: Sources) => Finding[];
