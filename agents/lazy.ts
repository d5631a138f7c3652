// The multi-call binary's dispatch: one loader per agent, so an action evaluates only its own
// agent's modules. Static imports of every agent (agents/index.ts) cost 3-6 ms more per start
// here (measured: IPaddr2 probe 17.3 -> 13.7 ms), and Pacemaker starts a process per monitor.
// A new agent is registered here only: agents/index.ts derives the full list from these loaders
// (test/unit/lazy.test.ts checks that every agent file in agents/ is reached).
import { basename } from "node:path";
import type { Agent } from "../lib/ocf/runner.js";

type Load = () => Promise<Agent<any>[]>;
const clvm: Load = async () => {
  const m = await import("./clvm.js");
  return [m.agent, m.lvmlockdAgent];
};

export const loaders: Record<string, Load> = {
  IPaddr2: async () => [(await import("./IPaddr2.js")).agent],
  Filesystem: async () => [(await import("./Filesystem.js")).agent],
  iSCSITarget: async () => [(await import("./iSCSITarget.js")).agent],
  iSCSILogicalUnit: async () => [(await import("./iSCSILogicalUnit.js")).agent],
  clvm,
  lvmlockd: clvm,
  "LVM-activate": async () => [(await import("./LVM-activate.js")).agent],
  drbd: async () => [(await import("./drbd.js")).agent],
  iscsi: async () => [(await import("./iscsi.js")).agent],
};

/**
 * The agents this process needs: the one it was started as (its link name), else the one named by
 * the first argument (`tsstor-agents IPaddr2 monitor`), else all of them (`--list`, usage).
 */
export async function loadAgents(argv0: string, first: string | undefined): Promise<Agent<any>[]> {
  const load = loaders[basename(argv0 || "")] ?? (first !== undefined ? loaders[first] : undefined);
  if (load) return load();
  const all = await Promise.all([...new Set(Object.values(loaders))].map((l) => l()));
  return all.flat();
}
