// lvmlockd and the lock managers under it: lvmlockctl (query, stop lockspaces), dlm_tool,
// sanlock, and the daemons' pid files. Formats are those of LVM 2.03.16, dlm 4.2 and sanlock 3.8.
//
// LVM commands find lvmlockd through two paths compiled into them: /run/lvmlockd.pid (if it is
// missing they warn "lvmlockd process is not running" and skip lvmlockd) and the socket
// /run/lvm/lvmlockd.socket (LVM_LVMLOCKD_SOCKET overrides it for lvm commands, not for
// lvmlockctl). The daemons' own defaults match.

import { readFileSync } from "node:fs";
import { procComm } from "../system/proc.js";
import type { RunResult, Runner } from "../system/run.js";

export const LVMLOCKD_PIDFILE = "/run/lvmlockd.pid";
export const LVMLOCKD_SOCKET = "/run/lvm/lvmlockd.socket";
export const DLM_CONTROLD_PIDFILE = "/var/run/dlm_controld/dlm_controld.pid";
export const SANLOCK_PIDFILE = "/run/sanlock/sanlock.pid";
export const WDMD_PIDFILE = "/var/run/wdmd/wdmd.pid";

/** The pid in a pid file, if a live process named `comm` has it (a stale file or reused pid is not). */
export function daemonPid(pidfile: string, comm: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(pidfile, "utf8");
  } catch {
    return undefined;
  }
  const pid = Number(text.trim().split(/\s+/)[0]);
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  return procComm(pid) === comm ? pid : undefined;
}

// ---- lvmlockctl --info ------------------------------------------------------------------------

export interface LvLock {
  mode: string;
  /** LV uuid */
  uuid: string;
}

export interface Lockspace {
  /** "" for the global lockspace (lvm_global) */
  vg: string;
  lockType: string;
  vgUuid: string;
  /** lvm_<vg>, or lvm_global */
  name: string;
  /** "REM:" prefix: lvmlockd is removing it */
  removing: boolean;
  lvLocks: LvLock[];
}

/**
 * lvmlockctl --info, as formatted by lvmlockctl 2.03.16 from lvmlockd's dump:
 *   VG vg1 lock_type=dlm FGyjd0-Aes0-...
 *   LS dlm lvm_vg1
 *   LK VG un ver 0
 *   LK LV ex hOFG1M-...
 * The global lockspace has no VG, which lvmlockctl's scanner prints as
 *   VG vg_uuid= lock_type=
 *   LS  lvm_global
 * Blocks are separated by empty lines.
 */
export function parseLockctlInfo(out: string): Lockspace[] {
  const list: Lockspace[] = [];
  let cur: Lockspace | undefined;
  for (const raw of out.split("\n")) {
    const line = raw.trimEnd();
    let m: RegExpExecArray | null;
    if ((m = /^VG (\S+) lock_type=(\S*) ?(\S*)$/.exec(line))) {
      const broken = m[1] === "vg_uuid=";
      cur = { vg: broken ? "" : m[1]!, lockType: broken ? "" : m[2]!, vgUuid: broken ? "" : m[3]!, name: "", removing: false, lvLocks: [] };
      list.push(cur);
    } else if ((m = /^LS (\S*) +(\S+)$/.exec(line)) && cur) {
      cur.removing = m[2]!.startsWith("REM:");
      cur.name = m[2]!.replace(/^REM:/, "");
      if (m[1]) cur.lockType = m[1];
      if (cur.name === "lvm_global") cur.vg = "";
    } else if ((m = /^LK LV (\S+) (\S+)$/.exec(line)) && cur) {
      cur.lvLocks.push({ mode: m[1]!, uuid: m[2]! });
    }
  }
  return list;
}

export interface LockdQuery {
  /** undefined when lvmlockd did not answer */
  lockspaces?: Lockspace[];
  r: RunResult;
}

export class Lockctl {
  constructor(private readonly run: Runner) {}

  /** Ask lvmlockd for its lock state; an answer proves the daemon is alive and serving. */
  info(timeoutMs?: number): LockdQuery {
    const r = this.run.run("lvmlockctl", ["--info"], { timeoutMs });
    return { lockspaces: r.code === 0 ? parseLockctlInfo(r.stdout) : undefined, r };
  }

  /** Stop every lockspace (lvmlockctl waits for them to leave unless wait is false). */
  stopLockspaces(timeoutMs?: number): RunResult {
    return this.run.run("lvmlockctl", ["--stop-lockspaces"], { timeoutMs });
  }
}

/** VG lockspaces (not the global one) a daemon holds, for monitor and stop. */
export function vgLockspaces(ls: Lockspace[]): Lockspace[] {
  return ls.filter((l) => l.vg !== "" && !l.removing);
}

// ---- dlm_controld / dlm_tool -----------------------------------------------------------------

/** dlm_tool ls: the names after "name" lines. */
export function parseDlmLs(out: string): string[] {
  return [...out.matchAll(/^name\s+(\S+)$/gm)].map((m) => m[1]!);
}

export class Dlm {
  constructor(private readonly run: Runner) {}

  /**
   * dlm_controld answers dlm_tool. dlm_tool 4.2 prints "cannot connect to dlm_controld" and
   * still exits 0 when it is not running, so the text decides, not the code.
   */
  status(): { ok: boolean; r: RunResult } {
    const r = this.run.run("dlm_tool", ["status"], { timeoutMs: 10000 });
    return { ok: r.code === 0 && !/cannot connect to dlm_controld/.test(r.stdout + r.stderr) && r.stdout.trim() !== "", r };
  }

  lockspaces(timeoutMs = 10000): { names?: string[]; r: RunResult } {
    const r = this.run.run("dlm_tool", ["ls"], { timeoutMs });
    return { names: r.code === 0 ? parseDlmLs(r.stdout) : r.stdout.trim() === "" && r.stderr.trim() === "" ? [] : undefined, r };
  }
}

// ---- sanlock ----------------------------------------------------------------------------------

export class Sanlock {
  constructor(private readonly run: Runner) {}

  /** `sanlock client status`: exit 0 with a "daemon" line when the daemon serves. */
  status(): { ok: boolean; r: RunResult } {
    const r = this.run.run("sanlock", ["client", "status"], { timeoutMs: 10000 });
    return { ok: r.code === 0 && /^daemon /m.test(r.stdout), r };
  }
}
