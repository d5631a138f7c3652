// GFS2 superblock facts through gfs2-utils: lock protocol, lock table and journal count
// (tunegfs2 -l; gfs2_edit -p jindex when tunegfs2 is too old to print the journal count), parsed
// by lib/fs/gfs2.ts, the agents' parsers of both formats.
import { parseGfs2EditJindex, parseTunegfs2List } from "../../lib/fs/gfs2.js";
import { lastLine, runTool } from "../run.js";

export interface Gfs2Info {
  lockProto: string;
  lockTable: string;
  journals?: number;
}

/** Superblock facts of a GFS2 device (or image), or the reason they could not be read. */
export function probeGfs2(device: string): Gfs2Info | string {
  const t = runTool("tunegfs2", ["-l", device], { timeoutMs: 15_000 });
  if (t.missing) return "tunegfs2 (gfs2-utils) is not installed";
  const l = parseTunegfs2List(t.stdout);
  const info: Gfs2Info | undefined = l.lockProto !== undefined && l.lockTable !== undefined ? { lockProto: l.lockProto, lockTable: l.lockTable, journals: l.journals } : undefined;
  if (t.code !== 0 || !info) return `tunegfs2 -l ${device}: ${lastLine(t)}`;
  if (info.journals === undefined) {
    // gfs2_edit wants an absolute path (a relative one reads as '(null)')
    const j = runTool("gfs2_edit", ["-p", "jindex", device], { timeoutMs: 15_000 });
    info.journals = j.code === 0 ? parseGfs2EditJindex(j.stdout) : undefined;
  }
  return info;
}
