// Per-node named locks in HA_RSCTMP (default /run/resource-agents); the state files beside them
// are lib/system/state-file.ts.
//
// A lock is a file created atomically with link(2) from a temp file that already holds
// "pid starttime", so it is never seen empty. Pacemaker SIGKILLs agents on timeout, so a holder
// can die holding it: a lock whose holder process no longer exists (same pid *and* same start
// time, so a reused pid does not count) is stale and taken over. Waiting is bounded by the budget.

import { linkSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Budget } from "../ocf/budget.js";
import { OcfError, OCF } from "../ocf/codes.js";
import { idText, parseId, procStartTime } from "./proc.js";
import { readState, removeState } from "./state-file.js";
import { sleepMs } from "./run.js";

export function holderAlive(content: string): boolean {
  const id = parseId(content);
  if (!id) return false;
  const now = procStartTime(id.pid);
  // a bare pid (no start time recorded) counts as long as that pid runs
  return now !== undefined && (id.start === "" || now === id.start);
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
  mkdirSync(o.dir, { recursive: true, mode: 0o755 });
  const path = join(o.dir, `${o.name}.lock`);
  const me = idText({ pid: process.pid, start: procStartTime(process.pid) ?? "" });
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
