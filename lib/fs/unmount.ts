// Unmounting a filesystem and everything on it within ONE time budget (upstream gives every
// submount the whole timeout again, so a stop with submounts overruns and the node is fenced):
// the order (bind mounts, submounts, stacked copies, ours), then per mount: umount, find the
// processes that keep it busy, TERM them for the first half of the time, KILL after, retry.

import type { ActionTools } from "../ocf/runner.js";
import { fail } from "../ocf/codes.js";
import { signalSame, stillRunning } from "../system/proc.js";
import { sleepMs } from "../system/run.js";
import type { Sig } from "../system/signals.js";
import { describeProcess, describeUsers, findUsers } from "./holders.js";
import { isAtOrUnder, loopBackedBy, mountsAt, mountsBelow, readMounts, umount, type Mount } from "./mounts.js";
import { UMOUNT_FORCE } from "./filesystem.js";

/**
 * What to unmount, in order: bind mounts of the same filesystem elsewhere (each after its own
 * submounts), our submounts deepest first, copies of ours stacked on our mount point, ours.
 */
export function stopTargets(c: { block: boolean; bind: boolean }, ours: Mount, mounts: readonly Mount[]): Mount[] {
  const out: Mount[] = [];
  const add = (m: Mount) => {
    if (!out.some((x) => x.id === m.id)) out.push(m);
  };
  if (c.block && !c.bind && ours.major !== 0) {
    // Never through a bind mount of our own source: "bind" resources leave the original alone.
    const binds = mounts.filter((m) => m.id !== ours.id && m.major === ours.major && m.minor === ours.minor && !isAtOrUnder(m.mountPoint, ours.mountPoint));
    for (const b of binds.reverse()) {
      mountsBelow(mounts, b.mountPoint).forEach(add);
      add(b);
    }
  }
  mountsBelow(mounts, ours.mountPoint).forEach(add);
  // Stacked mounts of the same filesystem on our mount point go first.
  mountsAt(mounts, ours.mountPoint)
    .filter((m) => m.id !== ours.id && m.major === ours.major && m.minor === ours.minor)
    .reverse()
    .forEach(add);
  add(ours);
  return out;
}

export interface Unmount {
  /** signals of the first half (term_signals), and after it (kill_signals) */
  term: Sig[];
  kill: Sig[];
  /** signal_delay: the longest wait for signalled processes before the next umount */
  delayMs: number;
  /** force_unmount is not false: processes using a mount are signalled */
  signalling: boolean;
  /** ms for all of it */
  total: number;
  /** ms kept back for the final scan that names the blocking pids */
  reserve: number;
}

/** Unmount `targets` in order, signalling their users; throws naming what kept one busy. */
export function unmountAll(t: ActionTools, targets: readonly Mount[], o: Unmount): void {
  const { term, kill, delayMs, signalling, total, reserve } = o;
  const t0 = t.budget.elapsedMs();
  const left = () => t0 + total - t.budget.elapsedMs();
  const termPhase = () => t.budget.elapsedMs() - t0 < total / 2;

  for (const target of targets) {
    let last = "";
    let lastUsers: ReturnType<typeof findUsers> = [];
    for (let attempt = 0; ; attempt++) {
      if (!readMounts().some((m) => m.id === target.id)) break;
      if (left() <= 0) {
        const until = t.budget.elapsedMs() + reserve;
        const users = findUsers(target, readMounts(), { expired: () => t.budget.elapsedMs() >= until });
        const loops = loopBackedBy(target.mountPoint);
        const who = users.length
          ? `still used by pid${users.length === 1 ? "" : "s"} ${describeUsers(users)}`
          : lastUsers.length
            ? `last used by pids ${describeUsers(lastUsers)}`
            : `no process found using it${signalling ? "" : " (force_unmount=false: none signalled)"}`;
        throw fail.generic(
          `couldn't unmount ${target.mountPoint} within ${(total / 1000).toFixed(1)} s: ${who}${loops.length ? `; loop devices backed by files on it: ${loops.join(", ")}` : ""}; umount failed${last ? `: ${last}` : ""}`,
        );
      }
      // umount acts on the topmost mount of a path: never let that be somebody else's.
      const top = mountsAt(readMounts(), target.mountPoint).pop();
      if (top && top.id !== target.id && (top.major !== target.major || top.minor !== target.minor)) {
        throw fail.generic(`${top.source} is mounted over ${target.mountPoint}: not ours, so not unmounting it (unmount it, then stop again)`);
      }
      const r = umount(t.run, target.mountPoint, { force: !termPhase() && UMOUNT_FORCE.has(target.fstype), timeoutMs: left() });
      if (r.missing) throw fail.generic(`umount not found: cannot unmount ${target.mountPoint}`);
      const now = readMounts();
      if (!now.some((m) => m.id === target.id)) {
        t.log.info(`unmounted ${target.mountPoint}`);
        break;
      }
      last = r.timedOut ? "umount timed out" : (r.stderr.trim() || r.stdout.trim()).split("\n").pop() || last;
      if (attempt === 0) t.log.info(`couldn't unmount ${target.mountPoint}${last ? ` (${last})` : ""}; looking for processes using it`);
      if (left() <= 0) continue;
      const signalled: typeof lastUsers = [];
      if (signalling) {
        const sigs = termPhase() ? term : kill;
        const users = findUsers(target, now, { expired: () => left() <= 0 });
        if (users.length) lastUsers = users;
        for (const u of users) {
          for (const sig of sigs) {
            if (signalSame(u, sig.number)) {
              if (!signalled.includes(u)) signalled.push(u);
              t.log.info(`sent ${sig.name} to pid ${u.pid} (${u.comm}: ${u.uses.map((x) => `${x.what} ${x.path}`).join(", ")}): ${describeProcess(u.pid)}`);
            }
          }
        }
        if (!users.length) t.log.info(`no process uses ${target.mountPoint}; retrying the unmount`);
      }
      // signal_delay is an upper bound: retry as soon as every signalled process has exited.
      const until = t.budget.elapsedMs() + Math.max(0, Math.min(signalled.length ? delayMs : 250, left()));
      do sleepMs(Math.min(signalled.length ? 10 : 250, until - t.budget.elapsedMs()));
      while (t.budget.elapsedMs() < until && (!signalled.length || signalled.some(stillRunning)));
    }
  }
}
