// The time an action may take. Pacemaker SIGKILLs the whole process group at CRM_meta_timeout,
// so every child command and retry loop draws from one budget that ends a margin earlier,
// leaving time to print the exit reason and clean up.
import { OCF, OcfError } from "./codes.js";
import { sleepMs } from "../system/sleep.js";

export function marginFor(totalMs: number): number {
  return Math.min(2000, Math.max(500, Math.round(totalMs * 0.1)));
}

export class Budget {
  readonly totalMs: number;
  readonly usableMs: number;
  private readonly startedAt: number;
  private readonly now: () => number;

  /**
   * `usableMs` overrides the margin rule (sub-budgets already sit inside a margin); `startedAt`
   * (on the `now` clock) backdates the start, default now.
   */
  constructor(totalMs: number, now: () => number = () => performance.now(), usableMs?: number, startedAt?: number) {
    this.now = now;
    this.startedAt = startedAt ?? now();
    this.totalMs = totalMs;
    this.usableMs = usableMs ?? Math.max(0, totalMs - marginFor(totalMs));
  }

  /** From CRM_meta_timeout (ms) or the declared action timeout (s). */
  static fromMeta(metaTimeoutMs: number | undefined, declaredSeconds: number): Budget {
    const total = metaTimeoutMs !== undefined && metaTimeoutMs > 0 ? metaTimeoutMs : declaredSeconds * 1000;
    // Pacemaker's clock runs from the fork: our own start-up (tens of ms, hundreds on a loaded
    // node) counts too. performance.now() is measured from the process start.
    return new Budget(total, undefined, undefined, 0);
  }

  elapsedMs(): number {
    return this.now() - this.startedAt;
  }

  remainingMs(): number {
    return Math.max(0, this.usableMs - this.elapsedMs());
  }

  expired(): boolean {
    return this.remainingMs() <= 0;
  }

  /** A bound for one step: at most `capMs`, never past the budget. */
  slice(capMs?: number): number {
    const r = this.remainingMs();
    return capMs === undefined ? r : Math.min(r, capMs);
  }

  /** A sub-budget ending `fraction` of the remaining time from now (e.g. TERM half of a stop). */
  fraction(f: number): Budget {
    const until = this.remainingMs() * f;
    return new Budget(until, this.now, until);
  }
}

/**
 * Run a retry loop whose last step the deadline may cut short: a command killed at it, or refused
 * after it ("time budget exhausted before running ..."). A generic error thrown once the budget
 * has run out is that cut, not the failure to report: `timedOut()` builds the reason from the
 * loop's last real failure instead. Other codes (configured, installed, ...) pass unchanged.
 */
export function retryLoop<T>(budget: Budget, loop: () => T, timedOut: () => Error): T {
  try {
    return loop();
  } catch (e) {
    if (budget.expired() && (!(e instanceof OcfError) || e.code === OCF.ERR_GENERIC)) throw timedOut();
    throw e;
  }
}

/**
 * Ask `check` every `everyMs` until it returns a value or the budget runs out (then undefined):
 * for states the kernel reaches on its own (a session logging in, udev creating a link).
 */
export function waitFor<T>(budget: Budget, check: () => T | undefined, everyMs = 100): T | undefined {
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (budget.remainingMs() <= everyMs) return undefined;
    sleepMs(everyMs);
  }
}
