// Adapter for drbd-utils (drbdadm, drbdsetup), modprobe/modinfo and /proc/drbd.
//
// The monitor path costs one file read (/proc/drbd: module loaded? which major version?) and one
// drbdsetup process (events2 on DRBD 9, sh-status on 8.4). Everything that needs the
// configuration file goes through drbdadm; commands that must work without it (a stop whose
// configuration vanished) use drbdsetup directly.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describeFailure, sleepMs, type Runner, type RunResult } from "../system/run.js";
import type { Budget } from "../ocf/budget.js";
import { OcfError, OCF } from "../ocf/codes.js";
import { parseEvents2, parseProcDrbd, parseShStatus, unconfigured, type DrbdState, type KernelVersion } from "./state.js";

/** drbdsetup/drbdadm exit codes the agent acts on (user/v9/drbdsetup.c print_config_error). */
export const DRBD_RC = {
  /** kernel configuration error ("Failure: (NNN) ...") */
  FAILURE: 10,
  /** state change refused ("State change failed: (-12) Device is held open by someone", ...) */
  STATE_CHANGE: 11,
  /** "State change failed: (-2) Need access to UpToDate data" */
  NO_UP_TO_DATE: 17,
  /** local drbdsetup error (netlink, module not loadable, syntax) */
  LOCAL: 20,
} as const;

/** drbdsetup itself is not installed (exit reason: install drbd-utils). */
export class DrbdSetupMissing extends OcfError {
  constructor() {
    super(OCF.ERR_INSTALLED, "drbdsetup not found (install drbd-utils)");
  }
}

/** Any DRBD block device on this node at all? (/sys/block, no tool needed) */
export function anyDrbdDevice(sysBlock = "/sys/block"): boolean {
  try {
    return readdirSync(sysBlock).some((d) => d.startsWith("drbd"));
  } catch {
    return true; // cannot tell: assume there may be one
  }
}

export interface DrbdOpts {
  runner: Runner;
  resource: string;
  /** drbd.conf path, passed as drbdadm -c */
  conf: string;
  /** root of /proc (env.paths.proc) */
  procRoot: string;
}

export class Drbd {
  /** set by shDev() when the resource is only found with --stacked */
  stacked = false;
  constructor(private readonly o: DrbdOpts) {}

  get resource(): string {
    return this.o.resource;
  }

  /** The loaded module's version from /proc/drbd; undefined when the module is not loaded. */
  kernel(): KernelVersion | undefined {
    try {
      return parseProcDrbd(readFileSync(join(this.o.procRoot, "drbd"), "utf8"));
    } catch {
      return undefined;
    }
  }

  /** Current state: one drbdsetup call, none when the module is not loaded. */
  state(k: KernelVersion | undefined = this.kernel()): DrbdState {
    if (!k) return unconfigured(this.o.resource);
    if (k.major >= 9) {
      const r = this.setup(["events2", "--now", this.o.resource], { timeoutMs: 15000 });
      if (r.missing) throw new DrbdSetupMissing();
      if (r.code !== 0) throw new OcfError(OCF.ERR_GENERIC, `cannot read the DRBD state: ${drbdError(r)}`);
      const st = parseEvents2(r.stdout, this.o.resource);
      // Without its final "exists -" the output was cut short: never mistake it for "not running".
      if (!st.complete) throw new OcfError(OCF.ERR_GENERIC, "cannot read the DRBD state: drbdsetup events2 output incomplete");
      return st;
    }
    const r = this.setup(["sh-status", this.o.resource], { timeoutMs: 15000 });
    if (r.missing) throw new DrbdSetupMissing();
    // 8.4 reports an unknown resource with a non-zero exit and no output: not running.
    if (r.code !== 0 && r.stdout.trim() === "") return unconfigured(this.o.resource, "sh-status");
    if (r.code !== 0) throw new OcfError(OCF.ERR_GENERIC, `cannot read the DRBD state: ${drbdError(r)}`);
    const st = parseShStatus(r.stdout, this.o.resource);
    if (r.stdout.trim() !== "" && !st.complete) throw new OcfError(OCF.ERR_GENERIC, "cannot read the DRBD state: drbdsetup sh-status output incomplete");
    return st;
  }

  private setup(args: string[], opts: { timeoutMs?: number } = {}): RunResult {
    return this.o.runner.run("drbdsetup", args, opts);
  }

  /** drbdadm -c CONF [-S] ARGS... */
  private adm(args: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): RunResult {
    const base = ["-c", this.o.conf];
    if (this.stacked) base.push("-S");
    return this.o.runner.run("drbdadm", [...base, ...args], { timeoutMs: opts.timeoutMs ?? 60000, env: opts.env });
  }

  // ---- the operations the agent performs, each one drbdadm (or drbdsetup) call --------------

  /** drbdsetup is installed (it needs no configuration). */
  setupInstalled(): boolean {
    return !this.setup(["--version"], { timeoutMs: 10000 }).missing;
  }

  /** drbdadm check-resize: an offline resize moves internal meta data first; harmless otherwise. */
  checkResize(): RunResult {
    return this.adm(["check-resize", this.o.resource]);
  }

  /** drbdadm new-resource, then new-minor: the kernel objects, not attached, not connected. Stops at the first failure. */
  create(): RunResult {
    const r = this.adm(["new-resource", this.o.resource]);
    return r.code !== 0 ? r : this.adm(["new-minor", this.o.resource]);
  }

  /** Attach the backing disks: DRBD 9 `adjust --skip-net` (disks only), 8.4 `attach`. */
  attach(k: KernelVersion): RunResult {
    return this.adm(k.major >= 9 ? ["adjust", "--skip-net", this.o.resource] : ["attach", this.o.resource]);
  }

  /**
   * drbdadm adjust: make the kernel match the configuration (disks and network). `peer` is DRBD
   * 8.4's --peer (which of several hosts in the configuration is the peer); `verbose` logs what changes.
   */
  adjust(o: { peer?: string; verbose?: boolean } = {}): RunResult {
    return this.adm([...(o.peer ? ["--peer", o.peer] : []), ...(o.verbose ? ["-v"] : []), "adjust", this.o.resource]);
  }

  primary(): RunResult {
    return this.adm(["primary", this.o.resource]);
  }

  /** Demote. `direct`: through drbdsetup, for a stop whose configuration cannot be read. */
  secondary(o: { direct?: boolean } = {}): RunResult {
    return o.direct ? this.setup(["secondary", this.o.resource]) : this.adm(["secondary", this.o.resource]);
  }

  /** Take the resource down (disconnect, detach, delete). `direct`: through drbdsetup, as secondary(). */
  down(o: { direct?: boolean } = {}): RunResult {
    return o.direct ? this.setup(["down", this.o.resource]) : this.adm(["down", this.o.resource]);
  }

  /** Mark our own data Outdated (only while disconnected): it must not be promoted before a resync. */
  outdate(): RunResult {
    return this.adm(["outdate", this.o.resource]);
  }

  /**
   * The resource's device paths from the configuration (drbdadm sh-dev), trying --stacked too.
   * An error when the configuration cannot be read or does not define the resource here.
   */
  shDev(): { devices: string[] } | { error: string } {
    this.stacked = false;
    const r = this.adm(["sh-dev", this.o.resource], { timeoutMs: 15000 });
    if (r.code === 0 && r.stdout.trim()) return { devices: r.stdout.trim().split(/\s+/) };
    this.stacked = true;
    const s = this.adm(["sh-dev", this.o.resource], { timeoutMs: 15000 });
    if (s.code === 0 && s.stdout.trim()) return { devices: s.stdout.trim().split(/\s+/) };
    this.stacked = false;
    return { error: describeFailure(r) };
  }

  /** Whether the resource's net section allows two primaries (drbdadm -d -v dump). */
  allowsTwoPrimaries(): boolean {
    const r = this.adm(["-d", "-v", "dump", this.o.resource], { timeoutMs: 15000 });
    return r.code === 0 && /^\s*allow-two-primaries(\s+yes)?;$/m.test(r.stdout);
  }

  /** modprobe -s drbd with drbdadm's module parameters (minor_count=...). */
  loadModule(): RunResult {
    const p = this.adm(["sh-mod-parms"], { timeoutMs: 15000 });
    const parms = p.code === 0 ? p.stdout.trim().split(/\s+/).filter((s) => /^[\w.-]+=[\w.,-]*$/.test(s)) : [];
    return this.o.runner.run("modprobe", ["-s", "drbd", ...parms], { timeoutMs: 30000 });
  }

  /** Version of the drbd module on disk (modinfo), when it is not loaded. */
  moduleFileVersion(): KernelVersion | undefined {
    const r = this.o.runner.run("modinfo", ["-F", "version", "drbd"], { timeoutMs: 15000 });
    return r.code === 0 ? parseProcDrbd(`version: ${r.stdout.trim()}`) : undefined;
  }

  /**
   * Wait for the connections after connect. DRBD 9: wait-connect-resource; 8.4: wait-connect per
   * device. 0 seconds means "until connected" (drbdsetup semantics), bounded by the caller's cap.
   */
  waitConnect(k: KernelVersion, devices: string[], seconds: number, capMs: number): RunResult[] {
    const t = [`--wfc-timeout=${seconds}`, `--degr-wfc-timeout=${seconds}`, `--outdated-wfc-timeout=${seconds}`];
    const timeoutMs = seconds > 0 ? Math.min(capMs, seconds * 1000 + 5000) : capMs;
    if (k.major >= 9) return [this.setup(["wait-connect-resource", this.o.resource, ...t], { timeoutMs })];
    return devices.map((d) => this.setup(["wait-connect", d, ...t], { timeoutMs }));
  }

  /** drbdadm unfence-peer, which runs the configured unfence-peer handler. */
  unfencePeer(extraArgs: string): RunResult {
    return this.adm(["unfence-peer", this.o.resource], { env: { OCF_RESKEY_unfence_extra_args: extraArgs }, timeoutMs: 30000 });
  }
}

/** Wait until every path is a block device (udev), polling, bounded by the budget. */
export function waitForDevices(devices: string[], budget: Budget): string[] {
  const missing = () =>
    devices.filter((d) => {
      try {
        return !statSync(d).isBlockDevice();
      } catch {
        return true;
      }
    });
  let m = missing();
  while (m.length && !budget.expired()) {
    sleepMs(Math.min(100, budget.remainingMs()));
    m = missing();
  }
  return m;
}

/** The first line worth showing from a failed drbdadm/drbdsetup: "State change failed: (-2) ...". */
export function drbdError(r: RunResult): string {
  const lines = `${r.stderr}\n${r.stdout}`.split("\n").map((l) => l.trim()).filter(Boolean);
  const best = lines.find((l) => /State change failed|Failure: \(|not defined in your config|Can not open|No such resource/.test(l));
  return best ?? describeFailure(r);
}
