// A DRBD resource brought up and taken down on this node, step by step from its state: the start
// state machine (create, attach, demote a stray Primary, connect) and the stop (demote, down)
// that still works when the configuration cannot be read. Each pass reads the state once and
// moves one step; a failed step waits a second; every wait draws from the action's budget.

import type { ActionTools } from "../ocf/runner.js";
import { retryLoop } from "../ocf/budget.js";
import { fail } from "../ocf/codes.js";
import { sleepMs, type RunResult } from "../system/run.js";
import { describeState, unconfigured, type DrbdState, type KernelVersion } from "./state.js";
import { anyDrbdDevice, Drbd, DrbdSetupMissing, drbdError, waitForDevices } from "./tools.js";

/** The error worth reporting: a call cut short by the budget does not hide DRBD's own reason. */
export function worse(last: string, r: RunResult, prefix = ""): string {
  return r.timedOut && last ? last : `${prefix}${drbdError(r)}`;
}

/** Sleep a second between retries, but never past the budget. */
export function pause(t: ActionTools, ms = 1000): void {
  sleepMs(Math.min(ms, t.budget.remainingMs()));
}

export interface BringUp {
  /** connect now (not connect_only_after_promote) */
  connect: boolean;
  /** DRBD 8.4's peer for drbdadm --peer */
  peer: string | undefined;
  /** wfc_timeout: seconds to wait for the connection after connecting (0: do not wait) */
  wfcTimeout: number;
}

/** Start: from whatever state to a configured Secondary with its disks attached (and connected). */
export function bringUp(t: ActionTools, drbd: Drbd, k: KernelVersion, devices: string[], o: BringUp): void {
  const res = drbd.resource;
  const v9 = k.major >= 9;
  let attempt = 0;
  let attachFailed = false;
  let last = "";
  let seen = "no state read yet"; // the last state read, for the reason when time runs out
  const late = () => fail.generic(`start did not complete in time (${last || seen})`);
  // Each pass moves one step (create+attach, demote, connect) and re-reads the state at once;
  // only a failed step waits a second before the next pass.
  retryLoop(t.budget, () => {
    for (;; attempt++) {
      if (t.budget.expired()) throw late();
      const st = drbd.state(k);
      seen = describeState(st);
      if (!st.configured) {
        // Offline resize moves internal meta data first; harmless otherwise.
        if (attempt === 0) drbd.checkResize();
        const r = drbd.create();
        if (r.code !== 0) throw fail.generic(`cannot create the DRBD resource: ${drbdError(r)}`);
        const missing = waitForDevices(devices, t.budget);
        if (missing.length) {
          last = `expected device nodes did not appear: ${missing.join(" ")}`;
          throw late(); // the wait used up the budget
        }
        const a = drbd.attach(k);
        if (a.code !== 0) {
          // A second failure will not get better: fail instead of waiting out the timeout.
          if (attachFailed) throw fail.generic(`failed to attach: ${drbdError(a)}`);
          attachFailed = true;
          last = `attach: ${drbdError(a)}`;
          pause(t);
        }
      } else if (st.role === "Primary") {
        t.log.warn(`${res} already Primary, demoting`);
        const r = drbd.secondary();
        if (r.code !== 0) {
          last = `demote: ${drbdError(r)}`;
          pause(t);
        }
      } else {
        // With DRBD 9 a created resource shows as a configured Secondary, attached or not; an
        // earlier start killed half-way leaves it so too: attach what is missing first.
        const incomplete = st.volumes.length < devices.length || st.volumes.some((v) => v.disk === "Diskless" && !v.client);
        if (incomplete || attachFailed) {
          const a = !v9 && st.volumes.length < devices.length ? drbd.adjust() : drbd.attach(k);
          if (a.code !== 0) {
            if (attachFailed) throw fail.generic(`failed to attach: ${drbdError(a)}`);
            attachFailed = true;
            last = `attach: ${drbdError(a)}`;
            pause(t);
            continue;
          }
          if (incomplete) {
            attachFailed = false;
            continue;
          }
        }
        if (o.connect) {
          // adjust's exit code does not matter: we are running either way.
          drbd.adjust({ peer: o.peer });
          if (o.wfcTimeout > 0) {
            for (const r of drbd.waitConnect(k, devices, o.wfcTimeout, t.budget.remainingMs() * 0.8)) {
              if (r.code !== 0) t.log.info(`not connected yet: ${r.timedOut ? "wait timed out" : drbdError(r)}`);
            }
          }
        }
        break;
      }
    }
  }, late);
}

/** The state for stop: without drbdsetup, "down" only when no DRBD device exists at all. */
export function stopState(t: ActionTools, drbd: Drbd, k: KernelVersion): DrbdState {
  try {
    return drbd.state(k);
  } catch (e) {
    if (!(e instanceof DrbdSetupMissing)) throw e;
    if (anyDrbdDevice()) throw fail.generic(`drbdsetup not found, and DRBD devices exist: cannot tell whether ${drbd.resource} is down`);
    t.log.warn("drbdsetup not found, but no DRBD device exists on this node: nothing to stop");
    return unconfigured(drbd.resource);
  }
}

/** Stop: demote if Primary, then down, until the resource is gone. */
export function takeDown(t: ActionTools, drbd: Drbd, k: KernelVersion): void {
  // A stop must not fail because the configuration became unreadable (that gets the node
  // fenced): then drbdsetup, which needs none, does the work.
  const cfg = drbd.shDev();
  const useAdm = "devices" in cfg;
  if (!useAdm) t.log.error(`cannot use the DRBD configuration (${cfg.error}); stopping with drbdsetup directly`);
  let last = "";
  let seen = "no state read yet";
  const late = () => fail.generic(`stop failed: ${last || seen}`);
  retryLoop(t.budget, () => {
    for (;;) {
      if (t.budget.expired()) throw late();
      const st = stopState(t, drbd, k);
      seen = describeState(st);
      if (!st.configured) break;
      const cmd = st.role === "Primary" ? "secondary" : "down";
      if (cmd === "secondary") t.log.warn(`${drbd.resource} still Primary, demoting`);
      const r = cmd === "secondary" ? drbd.secondary({ direct: !useAdm }) : drbd.down({ direct: !useAdm });
      if (r.code !== 0) {
        last = worse(last, r, `${cmd}: `);
        pause(t);
      }
    }
  }, late);
}
