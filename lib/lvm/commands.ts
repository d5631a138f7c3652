// The LVM commands the cluster LVM agents run (vgs, lvs, vgchange, lvchange), as typed calls.
// Reports use `--reportformat json` (LVM >= 2.02.158); names are checked before they get here and
// follow `--` anyway. Messages and exit codes are those of LVM 2.03.16 (recorded in
// test/recordings/lvm2-2.03.16/).

import type { Budget } from "../ocf/budget.js";
import { describeFailure, sleepMs, type RunResult, type Runner } from "../system/run.js";

/** LVM complains about inherited descriptors on stderr; that is noise in our logs. */
export const LVM_ENV = { LVM_SUPPRESS_FD_WARNINGS: "1" };

// lvm(8) "VALID NAMES": letters, digits and + _ . - ; not starting with "-"; "." and ".." and a
// few prefixes/suffixes are reserved for LV names. 127 characters at most.
const NAME = /^[A-Za-z0-9+_.][A-Za-z0-9+_.-]*$/;
export function vgNameError(v: string): string | undefined {
  if (v.length > 127) return "is longer than 127 characters";
  if (!NAME.test(v) || v === "." || v === "..") return `is not a valid volume group name (letters, digits, + _ . - and not starting with -): ${JSON.stringify(v.slice(0, 64))}`;
  return undefined;
}
export function lvNameError(v: string): string | undefined {
  const e = vgNameError(v);
  if (e) return e.replace("volume group", "logical volume");
  if (/^(snapshot|pvmove)/.test(v) || /_(cdata|cmeta|corig|cpool|cvol|imeta|iorig|mimage|mlog|pmspare|rimage|rmeta|tdata|tmeta|vdata|vorigin|wcorig)/.test(v)) {
    return `is a name LVM reserves for internal volumes: ${JSON.stringify(v)}`;
  }
  return undefined;
}

export interface VgInfo {
  name: string;
  uuid: string;
  /** "", "dlm", "sanlock", "clvm" (an LVM 2.02 clustered VG seen by 2.03) */
  lockType: string;
  lockArgs: string;
  systemId: string;
  tags: string[];
  attr: string;
  lvCount: number;
  /** attr[3] == "p": PVs missing */
  partial: boolean;
  /** attr[5] == "c" (2.02 clustered) */
  clustered: boolean;
}

export interface LvInfo {
  vg: string;
  name: string;
  uuid: string;
  attr: string;
  size: string;
}

/** `  {"report": [ {"vg": [ {...}, ... ]} ] }` -> the rows; LVM interleaves nothing on stdout. */
export function parseReport(stdout: string, kind: "vg" | "lv"): Array<Record<string, string>> | undefined {
  try {
    const j = JSON.parse(stdout) as { report?: Array<Record<string, unknown>> };
    const rows = j.report?.[0]?.[kind];
    return Array.isArray(rows) ? (rows as Array<Record<string, string>>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The error messages a JSON report carries in its command log: Debian 13's LVM (2.03.31) puts a
 * report command's errors there, on stdout, where Debian 12's (2.03.16) printed them on stderr.
 */
export function reportLogErrors(stdout: string): string[] {
  if (!stdout.includes('"log"')) return [];
  try {
    const j = JSON.parse(stdout) as { log?: Array<Record<string, string>> };
    return (j.log ?? []).filter((l) => l.log_type === "error" && l.log_message).map((l) => l.log_message!);
  } catch {
    return [];
  }
}

/** A failed command's error text, wherever this LVM version puts it (stderr, or a report's log). */
const errorText = (r: RunResult) => [r.stderr, ...reportLogErrors(r.stdout)].join("\n");

function vgFromRow(r: Record<string, string>): VgInfo {
  const attr = r.vg_attr ?? "";
  return {
    name: r.vg_name ?? "",
    uuid: r.vg_uuid ?? "",
    lockType: r.vg_lock_type ?? "",
    lockArgs: r.vg_lock_args ?? "",
    systemId: r.vg_systemid ?? "",
    tags: (r.vg_tags ?? "").split(",").filter(Boolean),
    attr,
    lvCount: Number(r.lv_count ?? "0") || 0,
    partial: attr[3] === "p",
    clustered: attr[5] === "c",
  };
}

export interface Found<T> {
  value?: T;
  /** the VG/LV does not exist (LVM exit 5 with "not found") */
  notFound: boolean;
  r: RunResult;
}

export class Lvm {
  constructor(private readonly run: Runner) {}

  private lvm(cmd: string, args: string[], timeoutMs?: number): RunResult {
    return this.run.run(cmd, args, { env: LVM_ENV, timeoutMs });
  }

  /** One VG's reporting fields. --nolocking: a read must not wait for, or need, lvmlockd. */
  vg(name: string): Found<VgInfo> {
    const r = this.lvm("vgs", [
      "--reportformat", "json", "--foreign", "--nolocking",
      "-o", "vg_name,vg_uuid,vg_lock_type,vg_lock_args,vg_systemid,vg_tags,vg_attr,lv_count",
      "--", name,
    ]);
    const rows = r.code === 0 ? parseReport(r.stdout, "vg") : undefined;
    if (rows?.[0]) return { value: vgFromRow(rows[0]), notFound: false, r };
    return { notFound: /Volume group "[^"]*" not found/.test(errorText(r)), r };
  }

  /** LVs of a VG (or the one LV), hidden ones excluded as lvs does. */
  lvs(vg: string, lv?: string): Found<LvInfo[]> {
    const r = this.lvm("lvs", [
      "--reportformat", "json", "--foreign", "--nolocking",
      "-o", "vg_name,lv_name,lv_uuid,lv_attr,lv_size",
      "--", lv ? `${vg}/${lv}` : vg,
    ]);
    const rows = r.code === 0 ? parseReport(r.stdout, "lv") : undefined;
    if (rows) {
      return {
        value: rows.map((x) => ({ vg: x.vg_name ?? "", name: x.lv_name ?? "", uuid: x.lv_uuid ?? "", attr: x.lv_attr ?? "", size: x.lv_size ?? "" })),
        notFound: false,
        r,
      };
    }
    return { notFound: /not found|Failed to find logical volume/.test(errorText(r)), r };
  }

  /** Names of LVM 2.02 clustered VGs (vg_attr[5] == "c"), for clvmd's stop. */
  clusteredVgs(): { names: string[]; r: RunResult } {
    const r = this.lvm("vgs", ["--reportformat", "json", "--nolocking", "-o", "vg_name,vg_attr"]);
    const rows = r.code === 0 ? (parseReport(r.stdout, "vg") ?? []) : [];
    return { names: rows.filter((x) => (x.vg_attr ?? "")[5] === "c").map((x) => x.vg_name ?? "").filter(Boolean), r };
  }

  /** `vgchange --lockstart VG` (waits until the lockspace is usable, as LVM does by default). */
  lockStart(vg: string): RunResult {
    return this.lvm("vgchange", ["--lockstart", "--", vg]);
  }

  lockStop(vg: string): RunResult {
    return this.lvm("vgchange", ["--lockstop", "--", vg]);
  }

  /** lvchange with activation/refresh options on VG or VG/LV. */
  lvchange(opts: string[], target: string): RunResult {
    return this.lvm("lvchange", [...opts, "--", target]);
  }

  vgchange(opts: string[], target?: string): RunResult {
    return this.lvm("vgchange", target === undefined ? opts : [...opts, "--", target]);
  }

  /** The local system ID (`lvm systemid`: "  system ID: xyz"), "" when none is set. */
  systemId(): { id: string; r: RunResult } {
    const r = this.lvm("lvm", ["systemid"]);
    const m = /system ID:\s*(\S*)/.exec(r.stdout);
    return { id: m?.[1] ?? "", r };
  }
}

/**
 * Errors that go away by themselves: the VG's lockspace is still joining (sanlock takes ~20 s,
 * dlm a moment; resource-agents #1287) or another command holds the VG/global lock briefly.
 * "LV locked by other host" is not transient: the LV is active elsewhere.
 */
export function transientLockError(stderr: string): boolean {
  return /lock start in progress|lockspace is starting|Retrying (sh|ex) (global )?lock|Global lock failed: held by other host|VG \S+ lock failed: held by other host/.test(stderr);
}

/**
 * Run `attempt` until it succeeds, fails for good, or the budget runs out; sleeps 0.25 s doubling
 * to 2 s between tries. The last result is returned either way.
 */
export function retryTransient(budget: Budget, attempt: () => RunResult, onRetry?: (r: RunResult) => void): RunResult {
  let wait = 250;
  for (;;) {
    const r = attempt();
    if (r.code === 0 || !transientLockError(r.stderr) || r.timedOut) return r;
    if (budget.remainingMs() <= wait + 500) return r;
    onRetry?.(r);
    sleepMs(wait);
    wait = Math.min(wait * 2, 2000);
  }
}

/** The LVM error lines of a failed command, for an exit reason (warnings dropped). */
export function lvmError(r: RunResult): string {
  const lines = errorText(r)
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !/^WARNING:|^Reading without|^Reading VG .* without a lock|^Skipping global lock|^File descriptor .* leaked/.test(l));
  if (r.missing || r.timedOut || !lines.length) return describeFailure(r);
  return `${r.argv[0]} failed (rc=${r.code}): ${lines.slice(-2).join("; ")}`;
}
