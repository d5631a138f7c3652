// The hazard lines of `tsstor status`: what `tsstor doctor` reports, one line each. The checks
// live with the doctor (cli/hazards/, run by cli/doctor.ts diagnose()); this is the one place
// status calls them, on the CIB status already read, so both commands always agree.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { diagnose, DoctorError } from "../doctor.js";

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
 * configuration files (the doctor's default paths). `{ unavailable }` when they cannot run.
 */
export function hazards(cibXml: string): HazardLine[] | { unavailable: string } {
  const dir = mkdtempSync(join(tmpdir(), "tsstor-status-"));
  try {
    const cib = join(dir, "cib.xml");
    writeFileSync(cib, cibXml, { mode: 0o600 });
    return diagnose({ cib, root: "/" }).findings.map((f) => ({ severity: f.severity, id: f.id, subject: f.subject, message: f.message }));
  } catch (e) {
    if (e instanceof DoctorError) return { unavailable: e.message };
    throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
