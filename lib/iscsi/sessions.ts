// Who is logged in to a target on this node, from the target side: LIO's configfs (ACL session
// info and the demo-mode session list) or tgtd's `--op show` I_T nexus list. Used before a LUN is
// taken away (`tsstor stack remove-lun`): an initiator logged in would see its disk vanish.
import { join } from "node:path";
import { listDir, readValue } from "./configfs.js";
import { parseTargets } from "./tgtadm.js";

/** Initiator names with a session to `iqn` in LIO (configfs root, e.g. /sys/kernel/config); undefined: no such LIO target. */
export function lioSessions(configfs: string, iqn: string): string[] | undefined {
  const dir = join(configfs, "target/iscsi", iqn);
  if (!listDir(dir).length) return undefined;
  const out = new Set<string>();
  for (const tpg of listDir(dir).filter((d) => /^tpgt_\d+$/.test(d))) {
    // initiators without an ACL (generate_node_acls=1) are listed here, one per line
    for (const l of (readValue(join(dir, tpg, "dynamic_sessions")) ?? "").split(/[\n\0]/)) if (l.trim()) out.add(l.trim());
    // an ACL's info says "No active iSCSI Session for Initiator Endpoint: NAME" when there is none
    for (const acl of listDir(join(dir, tpg, "acls"))) {
      const info = readValue(join(dir, tpg, "acls", acl, "info")) ?? "";
      if (info && !/No active iSCSI Session/i.test(info)) out.add(acl);
    }
  }
  return [...out].sort();
}

/** Initiator names with a session to `iqn` in `tgtadm --lld iscsi --mode target --op show` output; undefined: no such target. */
export function tgtSessions(show: string, iqn: string): string[] | undefined {
  const t = parseTargets(show).find((x) => x.iqn === iqn);
  return t ? [...new Set(t.nexus.map((n) => n.initiator))].sort() : undefined;
}
