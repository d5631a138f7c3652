// Per-node named locks and atomic state files in HA_RSCTMP (default /run/resource-agents).
//
// A lock is a file created atomically with link(2) from a temp file that already holds
// "pid starttime", so it is never seen empty. Pacemaker SIGKILLs agents on timeout, so a holder
// can die holding it: a lock whose holder process no longer exists (same pid *and* same start
// time, so a reused pid does not count) is stale and taken over. Waiting is bounded by the budget.

import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync, openSync, fsyncSync, closeSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Budget } from "../ocf/budget.js";
import { OcfError, OCF } from "../ocf/codes.js";
import { sleepMs } from "./run.js";

/** Field 22 of /proc/PID/stat: start time in clock ticks since boot; undefined if gone or a zombie. */
export function procStartTime(pid: number): string | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = s.slice(s.lastIndexOf(")") + 2).split(" ");
    if (rest[0] === "Z" || rest[0] === "X") return undefined;
    return rest[19];
  } catch {
    return undefined;
  }
}

export function holderAlive(content: string): boolean {
  const [pidS, start] = content.trim().split(/\s+/);
  const pid = Number(pidS);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const now = procStartTime(pid);
  return now !== undefined && (start === undefined || now === start);
}

function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
}

/** Write a file so readers see the old or the new content, never a torn one. */
export function writeAtomic(path: string, data: string, mode = 0o600): void {
  ensureDir(dirname(path));
  const tmp = `${path}.tmp.${process.pid}`;
  writeFileSync(tmp, data, { mode });
  const fd = openSync(tmp, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function readState(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

export function removeState(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

export interface LockHandle {
  path: string;
  release(): void;
}

export interface LockOpts {
  dir: string;
  name: string;
  budget: Budget;
  /** poll period while waiting */
  pollMs?: number;
  /** called once when we start waiting (for a log line) */
  onWait?: (holder: string) => void;
}

export function acquireLock(o: LockOpts): LockHandle {
  ensureDir(o.dir);
  const path = join(o.dir, `${o.name}.lock`);
  const me = `${process.pid} ${procStartTime(process.pid) ?? ""}\n`;
  const tmp = `${path}.${process.pid}`;
  writeFileSync(tmp, me, { mode: 0o644 });
  let waited = false;
  try {
    for (;;) {
      try {
        linkSync(tmp, path);
        return {
          path,
          release: () => {
            // only remove it if it is still ours
            if (readState(path) === me) removeState(path);
          },
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      const holder = readState(path);
      if (holder !== undefined && !holderAlive(holder)) {
        breakStale(path, holder);
        continue;
      }
      if (!waited) {
        waited = true;
        o.onWait?.(holder?.trim() ?? "?");
      }
      if (o.budget.remainingMs() <= 0) {
        throw new OcfError(OCF.ERR_GENERIC, `timed out waiting for lock ${o.name} held by pid ${holder?.trim().split(" ")[0] ?? "?"}`);
      }
      sleepMs(Math.min(o.pollMs ?? 50, o.budget.remainingMs()));
    }
  } finally {
    removeState(tmp);
  }
}

// Move the stale file aside, then make sure what we moved was the stale one: if a live holder
// replaced it meanwhile, put theirs back (link fails if yet another holder exists, which then wins).
function breakStale(path: string, stale: string): void {
  const aside = `${path}.stale.${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return;
  }
  const moved = readState(aside);
  if (moved !== stale) {
    try {
      linkSync(aside, path);
    } catch {
      /* someone else holds it now; theirs stands */
    }
  }
  removeState(aside);
}

export function withLock<T>(o: LockOpts, fn: () => T): T {
  const h = acquireLock(o);
  try {
    return fn();
  } finally {
    h.release();
  }
}
