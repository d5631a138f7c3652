// DRBD for the rig: this kernel has no DRBD module, so the nodes run ocf:tsstor:drbd over the
// DRBD simulator (test/fakes/drbd.ts, test/drbd/sim.ts): its drbdadm/drbdsetup come first on the
// PATH of every node's daemons, and a hard kill crashes the node's simulated DRBD "kernel" with
// it (the peer sees the connection drop, as on a power cut). The data itself is a shared backing
// file (see iscsi.ts): the simulator models DRBD's states and roles, not its I/O.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RigOptions } from "./rig.js";

/** What the rig uses of test/drbd/sim.ts's Sim. */
interface SimLike {
  dir: string;
  bin: string;
  conf: string;
  ctl(...args: string[]): string;
}

export interface RigDrbd {
  sim: SimLike;
  res: string;
  /** node environment for startRig({ env }) */
  env: NonNullable<RigOptions["env"]>;
  /** call right after rig.hardKill(node) */
  crash(node: string): void;
  /** call right before rig.restart(node): the module loads at boot */
  boot(node: string): void;
}

// The simulator lives with the drbd agent's tests; loaded by path so this file builds without it.
const SIM = "../drbd/sim.js";
export const drbdSimAvailable = (): boolean => existsSync(fileURLToPath(new URL("../drbd/sim.ts", import.meta.url)));

export async function rigDrbd(nodes: string[] = ["n1", "n2"], o: { res?: string; minor?: number } = {}): Promise<RigDrbd> {
  const res = o.res ?? "r0";
  const { makeSim } = (await import(SIM)) as { makeSim: (o: Record<string, unknown>) => SimLike };
  // a minor of our own, so nothing collides with the drbd helper's tests
  const sim = makeSim({ nodes, res, minor: o.minor ?? 33, shims: false, prefix: "rig-drbd" });
  return {
    sim,
    res,
    env: (n) => ({ PATH: `${sim.bin}:/usr/sbin:/usr/bin:/sbin:/bin`, TSSTOR_DRBD_SIM_DIR: sim.dir, TSSTOR_PROC_ROOT: join(sim.dir, "proc", n) }),
    crash: (n) => {
      sim.ctl("crash", n);
    },
    boot: (n) => {
      sim.ctl("load", n);
    },
  };
}
