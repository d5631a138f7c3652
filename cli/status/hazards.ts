// The hazard lines of `tsstor status`: what `tsstor doctor` would report, one line each.
// The checks themselves live with the doctor (cli/hazards/); this is the one place status calls
// them, so both commands always agree.
export interface HazardLine {
  severity: "error" | "warning" | "info";
  /** the doctor's hazard id, e.g. stonith-disabled */
  id: string;
  /** what it is about: "cluster", "resource p_drbd-clone", a file */
  subject: string;
  /** one line: what is wrong */
  message: string;
}

/**
 * Run the doctor's checks on this CIB (XML text, as read for the status) and this node's
 * configuration files. `{ unavailable }` when the checks cannot run.
 */
export function hazards(_cibXml: string): HazardLine[] | { unavailable: string } {
  // TODO(doctor): call cli/doctor.ts once it is on main
  return { unavailable: "tsstor doctor is not part of this build" };
}
