// Promotion scores through `crm_attribute --promotion` (Pacemaker >= 2.1), bounded by the budget.
//
// Writing an unchanged score costs a process and an attrd round trip on every monitor, so the
// last value written is cached in HA_RSCTMP. Transient attributes vanish when Pacemaker restarts
// on this node, so the cache is keyed by our parent process (pacemaker-execd) and its start
// time, and expires after a few minutes anyway.

import { join } from "node:path";
import { readState, removeState, writeAtomic } from "../system/state-file.js";
import { procStartTime, procStat } from "../system/proc.js";
import { describeFailure, type Runner } from "../system/run.js";
import { OcfError, OCF } from "../ocf/codes.js";

export const CACHE_TTL_MS = 5 * 60 * 1000;

function parentKey(): string {
  const ppid = procStat("self")?.ppid;
  return ppid === undefined ? "?" : `${ppid}:${procStartTime(ppid) ?? ""}`;
}

export interface PromotionOpts {
  runner: Runner;
  instance: string;
  /** CRM_meta_on_node; when unknown crm_attribute picks the local node */
  node: string | undefined;
  rscTmp: string;
  now?: () => number;
}

export class PromotionScore {
  private readonly cacheFile: string;
  private readonly now: () => number;
  constructor(private readonly o: PromotionOpts) {
    this.cacheFile = join(o.rscTmp, `tsstor-promotion-${o.instance.replace(/[^\w.-]/g, "_")}`);
    this.now = o.now ?? Date.now;
  }

  private nodeArgs(): string[] {
    return this.o.node ? ["-N", this.o.node] : [];
  }

  private cached(): string | undefined {
    const c = readState(this.cacheFile);
    if (!c) return undefined;
    const [value, key, at] = c.trim().split("\n");
    if (key !== parentKey() || !(this.now() - Number(at) < CACHE_TTL_MS)) return undefined;
    return value;
  }

  private remember(value: string): void {
    try {
      writeAtomic(this.cacheFile, `${value}\n${parentKey()}\n${this.now()}\n`, 0o644);
    } catch {
      /* a missing cache only costs a write next time */
    }
  }

  /** Set the score; <= 0 deletes it (as ocf:linbit:drbd). Returns whether crm_attribute ran. */
  set(score: number): boolean {
    if (score <= 0) return this.remove();
    const v = String(Math.trunc(score));
    if (this.cached() === v) return false;
    const r = this.o.runner.run("crm_attribute", ["--promotion", "-v", v, ...this.nodeArgs()], { timeoutMs: 10000 });
    if (r.code !== 0) throw new OcfError(OCF.ERR_GENERIC, `cannot set promotion score: ${describeFailure(r)}`);
    this.remember(v);
    return true;
  }

  remove(): boolean {
    if (this.cached() === "deleted") return false;
    const r = this.o.runner.run("crm_attribute", ["--promotion", "-D", ...this.nodeArgs()], { timeoutMs: 10000 });
    // Deleting an attribute that does not exist is success (rc 0, or 105 ENXIO on some versions).
    if (r.code !== 0 && r.code !== 105 && r.code !== 6) {
      throw new OcfError(OCF.ERR_GENERIC, `cannot delete promotion score: ${describeFailure(r)}`);
    }
    this.remember("deleted");
    return true;
  }

  /** Current score from the CIB; undefined when unset. Always asks (no cache). */
  get(): number | undefined {
    const r = this.o.runner.run("crm_attribute", ["--promotion", "-G", "-q", ...this.nodeArgs()], { timeoutMs: 10000 });
    if (r.code !== 0) return undefined;
    const n = Number(r.stdout.trim());
    return Number.isFinite(n) && r.stdout.trim() !== "" ? n : undefined;
  }

  /** Forget the cache (stop, or when the caller knows the CIB changed). */
  forget(): void {
    removeState(this.cacheFile);
  }
}
