// Clones of the shared-storage stack (dlm, lvmlockd/clvm, shared LVs, GFS2 mounts) without
// interleave=true.
import { cloneMeta, isTrue, type Clone, type Primitive } from "../doctor/cib.js";
import { shq } from "../pcs.js";
import { isDlm, isGfs2, isLockManager } from "./gfs2.js";
import type { Check, Finding } from "./types.js";

export const isSharedLv = (p: Primitive) => p.class === "ocf" && p.type === "LVM-activate" && p.params.activation_mode === "shared";

function role(p: Primitive): string | undefined {
  if (isDlm(p)) return "dlm";
  if (isLockManager(p)) return "LVM lock manager";
  if (isSharedLv(p)) return "shared LV";
  if (isGfs2(p)) return "GFS2 mount";
  return undefined;
}

export const checkInterleave: Check = (s) => {
  const out: Finding[] = [];
  const seen = new Set<Clone>();
  for (const p of s.cib.primitives) {
    const what = role(p);
    const c = p.clone ?? p.group?.clone;
    if (!what || !c || seen.has(c)) continue;
    seen.add(c);
    if (isTrue(cloneMeta(s.cib, c, "interleave"))) continue;
    out.push({
      id: "clone-interleave",
      severity: "warning",
      subject: `resource ${c.id}`,
      message: `${what} clone ${c.id} runs without interleave=true`,
      reason:
        "Without interleave, each instance depends on the instances of the clone it is ordered after on every node, not only on its own: when one node's dlm or lock manager restarts, or a node joins or leaves, the dependent clones restart on all nodes (every GFS2 mount goes away at once).",
      fix: [`pcs resource meta ${shq(c.id)} interleave=true`],
    });
  }
  return out;
};
