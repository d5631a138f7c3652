// GFS2 superblock facts through gfs2-utils: lock protocol, lock table and journal count
// (tunegfs2 -l; gfs2_edit -p jindex when tunegfs2 is too old to print the journal count).
import { spawnSync } from "node:child_process";

export interface Gfs2Info {
  lockProto: string;
  lockTable: string;
  journals?: number;
}

function run(cmd: string, args: string[]): { code: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, LC_ALL: "C" }, timeout: 15_000 });
  return { code: r.error ? 127 : (r.status ?? 1), out: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? r.error.message : ""}` };
}

const field = (out: string, re: RegExp) => re.exec(out)?.[1]?.trim().replace(/^"|"$/g, "");

/** Parse `tunegfs2 -l` (3.5 prints quoted "Locking protocol:"/"Lock table:"/"Journals:", older ones "Lock Protocol:"). */
export function parseTunegfs2(out: string): Gfs2Info | undefined {
  const lockTable = field(out, /^Lock table:\s*(.*)$/im);
  const lockProto = field(out, /^Lock(?:ing)? protocol:\s*(.*)$/im);
  if (lockTable === undefined || lockProto === undefined) return undefined;
  const j = field(out, /^Journals:\s*(\d+)/im);
  return { lockProto, lockTable, journals: j === undefined ? undefined : Number(j) };
}

/** Journals listed by `gfs2_edit -p jindex DEV` (lines "... File    journalN"). */
export function parseJindex(out: string): number | undefined {
  const n = out.split("\n").filter((l) => /\bFile\s+journal\d+\s*$/.test(l)).length;
  return /Journal Index/.test(out) ? n : undefined;
}

/** Superblock facts of a GFS2 device (or image), or the reason they could not be read. */
export function probeGfs2(device: string): Gfs2Info | string {
  const t = run("tunegfs2", ["-l", device]);
  if (t.code === 127) return "tunegfs2 (gfs2-utils) is not installed";
  const info = parseTunegfs2(t.out);
  if (t.code !== 0 || !info) return `tunegfs2 -l ${device}: ${t.out.trim().split("\n").pop() ?? `exit ${t.code}`}`;
  if (info.journals === undefined) {
    // gfs2_edit wants an absolute path (a relative one reads as '(null)')
    const j = run("gfs2_edit", ["-p", "jindex", device]);
    info.journals = j.code === 0 ? parseJindex(j.out) : undefined;
  }
  return info;
}
