// Which ocf:tsstor agents this checkout has built, and the upstream agents that stand in for the
// missing ones in scheduler tests (ours are drop-ins with the same parameter names, and
// crm_simulate never runs an agent: it only needs pcs to accept the configuration).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { BUILD } from "../lib/harness.js";
import type { Plan } from "../../cli/stacks.js";

export function builtAgents(): string[] {
  const r = spawnSync(join(BUILD, "tsstor-agents"), ["--list"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.split("\n").filter(Boolean) : [];
}

/** ocf:tsstor agent names a plan uses. */
export function planAgents(plan: Plan): string[] {
  return [...new Set(plan.commands.flatMap((c) => c.filter((w) => w.startsWith("ocf:tsstor:")).map((w) => w.slice("ocf:tsstor:".length))))].sort();
}

const UPSTREAM: Record<string, { agent: string; drop?: RegExp; add?: (c: string[]) => string[] }> = {
  drbd: { agent: "ocf:linbit:drbd" },
  // the LVM lock manager: heartbeat's lvmlockd has no lock_type (dlm only)
  clvm: { agent: "ocf:heartbeat:lvmlockd", drop: /^lock_type=/ },
  // upstream bug: with tgt, an unset allowed_initiators binds nobody (the default "" defeats its
  // ${allowed_initiators=ALL}), and IQNs are bound as --initiator-address: say ALL explicitly
  iSCSITarget: {
    agent: "ocf:heartbeat:iSCSITarget",
    drop: /^allowed_initiators=/,
    add: (c) => (c.includes("implementation=tgt") ? ["allowed_initiators=ALL"] : []),
  },
  iSCSILogicalUnit: { agent: "ocf:heartbeat:iSCSILogicalUnit", drop: /^allowed_initiators=/ },
  // tickle_ports is ours: upstream resets no client on takeover (that takes a portblock resource)
  IPaddr2: { agent: "ocf:heartbeat:IPaddr2", drop: /^tickle_ports=/ },
};

/** The plan with every ocf:tsstor agent missing from `built` replaced by its upstream equivalent. */
export function withStandIns(plan: Plan, built: string[]): { plan: Plan; replaced: string[] } {
  const replaced: string[] = [];
  const commands = plan.commands.map((c) => {
    const i = c.findIndex((w) => w.startsWith("ocf:tsstor:"));
    if (i < 0) return c;
    const name = c[i]!.slice("ocf:tsstor:".length);
    if (built.includes(name)) return c;
    const up = UPSTREAM[name] ?? { agent: `ocf:heartbeat:${name}` };
    if (!replaced.includes(name)) replaced.push(name);
    let out = [...c];
    out[i] = up.agent;
    if (up.drop) out = out.filter((w) => !up.drop!.test(w));
    if (up.add) out.splice(i + 1, 0, ...up.add(c));
    return out;
  });
  return { plan: { ...plan, commands }, replaced };
}
