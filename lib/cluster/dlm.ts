// DLM through `dlm_tool ls`: whether dlm_controld answers (GFS2 with lock_dlm cannot mount
// without it) and which lockspaces exist (a mounted GFS2 joins one named after its fsname).
//
// `dlm_tool ls` exits 1 with empty output when it cannot reach dlm_controld; `dlm_tool status`
// exits 0 even then, so it cannot tell (recorded in test/recordings/fs/).

import { readFileSync, readdirSync } from "node:fs";
import type { Runner } from "../system/run.js";

export interface Lockspace {
  name: string;
  id: string;
  flags: string;
  members: number[];
}

/** dlm_tool/main.c show_ls(): "name          X", "id            0x..", "members       1 2 ", blank line between. */
export function parseDlmToolLs(text: string): Lockspace[] {
  const out: Lockspace[] = [];
  let cur: Lockspace | undefined;
  for (const line of text.split("\n")) {
    const m = /^(name|id|flags|members)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    if (key === "name") {
      cur = { name: value.trim(), id: "", flags: "", members: [] };
      out.push(cur);
    } else if (cur && key === "id") cur.id = value.trim();
    else if (cur && key === "flags") cur.flags = value.trim();
    else if (cur && key === "members") cur.members = value.trim().split(/\s+/).filter((x) => /^\d+$/.test(x)).map(Number);
  }
  return out;
}

export interface DlmState {
  /** dlm_controld answered */
  reachable: boolean;
  installed: boolean;
  lockspaces: Lockspace[];
}

export function dlmState(run: Runner): DlmState {
  const r = run.run("dlm_tool", ["ls"], { timeoutMs: 10000 });
  if (r.missing) return { reachable: false, installed: false, lockspaces: [] };
  return { reachable: r.code === 0 && !r.timedOut, installed: true, lockspaces: r.code === 0 ? parseDlmToolLs(r.stdout) : [] };
}

/** Pids whose command name is dlm_controld (to tell "not running" from "not answering"). */
export function dlmControldPids(proc = "/proc"): number[] {
  const out: number[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(proc).filter((n) => /^\d+$/.test(n));
  } catch {
    return out;
  }
  for (const n of names) {
    try {
      if (readFileSync(`${proc}/${n}/comm`, "utf8").trim() === "dlm_controld") out.push(Number(n));
    } catch {
      /* exited */
    }
  }
  return out;
}
