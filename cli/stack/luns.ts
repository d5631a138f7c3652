// add-lun and remove-lun: the stack file is edited (comments and layout kept, yaml's Document
// API), checked like any stack file, applied, and written back only when the apply succeeded; so
// the file and the cluster never disagree. A LUN is removed only when no initiator is logged in
// to its target on the node serving it (checked on that node), unless forced.
import { isSeq, parseDocument, type YAMLSeq } from "yaml";
import { lioSessions, tgtSessions } from "../../lib/iscsi/sessions.js";
import { runTool } from "../run.js";
import { StackFileError, parseStack, type StackFile } from "./file.js";
import { localNode, runningOn } from "./lifecycle.js";

export class LunRefused extends Error {}

/** The targets of a stack file: failover files list them; an iscsi file is one target. */
function targetIndex(sf: StackFile, target: string | undefined): number {
  if (sf.kind === "iscsi") {
    if (target !== undefined && target !== sf.values.iqn) throw new StackFileError([`${sf.path}: --target ${target}: the stack's target is ${String(sf.values.iqn)}`]);
    return -1;
  }
  if (sf.kind !== "failover") throw new StackFileError([`${sf.path}: a ${sf.kind} stack has no iSCSI target (LUNs belong to iscsi and failover stacks)`]);
  const ts = (sf.values.targets ?? []) as Array<{ iqn: string }>;
  if (!ts.length) throw new StackFileError([`${sf.path}: the stack has no targets`]);
  if (target === undefined) {
    if (ts.length > 1) throw new StackFileError([`${sf.path}: the stack has ${ts.length} targets: say which with --target IQN`]);
    return 0;
  }
  const i = ts.findIndex((t) => t.iqn === target);
  if (i < 0) throw new StackFileError([`${sf.path}: no target ${target} in the stack (${ts.map((t) => t.iqn).join(", ")})`]);
  return i;
}

/** The stack file's text with LUN `lun` ("N:/dev/path") added to a target; checked. */
export function addLun(sf: StackFile, lun: string, target?: string, id?: string): StackFile {
  const m = /^(\d{1,5}):(.+)$/.exec(lun);
  if (!m) throw new StackFileError([`--lun: "${lun}" is not N:/dev/path`]);
  const doc = parseDocument(sf.text);
  const i = targetIndex(sf, target);
  if (i < 0) doc.addIn(["lun"], lun);
  else doc.addIn(["targets", i, "luns"], doc.createNode({ lun: Number(m[1]), path: m[2], ...(id ? { id } : {}) }));
  return parseStack(doc.toString(), sf.path);
}

export interface LunRemoval {
  next: StackFile;
  /** the LU resource id and its target */
  resource: string;
  iqn: string;
}

/** The stack file without LUN `n` of a target; checked. */
export function removeLun(sf: StackFile, n: number, target?: string): LunRemoval {
  const doc = parseDocument(sf.text);
  const i = targetIndex(sf, target);
  const iqn = i < 0 ? String(sf.values.iqn) : (sf.values.targets as Array<{ iqn: string }>)[i]!.iqn;
  const path = i < 0 ? ["lun"] : ["targets", i, "luns"];
  const seq = doc.getIn(path, true);
  const items = isSeq(seq) ? (seq as YAMLSeq).items : [];
  const j = items.findIndex((it: any) => (i < 0 ? String(it?.value ?? it).split(":")[0] === String(n) : Number(it?.get?.("lun")) === n));
  if (j < 0) throw new StackFileError([`${sf.path}: target ${iqn} has no LUN ${n}`]);
  doc.deleteIn([...path, j]);
  const resource = sf.plan.commands.find((c) => c.includes("ocf:tsstor:iSCSILogicalUnit") && c.includes(`target_iqn=${iqn}`) && c.includes(`lun=${n}`))?.[2];
  if (!resource) throw new StackFileError([`${sf.path}: LUN ${n} of ${iqn} has no resource in the stack`]);
  return { next: parseStack(doc.toString(), sf.path), resource, iqn };
}

/** Initiators logged in to `iqn` on this node (LIO, else tgtd); undefined: the target is not here. */
export function sessionsHere(iqn: string): string[] | undefined {
  const lio = lioSessions(process.env.TSSTOR_CONFIGFS_ROOT ?? "/sys/kernel/config", iqn);
  if (lio !== undefined) return lio;
  const r = runTool("tgtadm", ["--lld", "iscsi", "--mode", "target", "--op", "show"], { timeoutMs: 20_000 });
  return r.code === 0 ? tgtSessions(r.stdout, iqn) : undefined;
}

/**
 * Refuse (LunRefused) to take away a LUN an initiator may be using: it runs on another node
 * (its sessions are visible only there), or initiators are logged in to its target here.
 */
export function checkLunUnused(resource: string, iqn: string, lun: number, cib?: string): void {
  const nodes = runningOn(resource, cib);
  if (!nodes.length) return;
  const here = localNode();
  const away = nodes.filter((x) => x !== here);
  if (away.length) throw new LunRefused(`LUN ${lun} (${resource}) runs on ${away.join(", ")}: run remove-lun there, where its target's sessions can be read, or pass --force`);
  const who = sessionsHere(iqn);
  if (who === undefined) throw new LunRefused(`LUN ${lun} (${resource}) runs here but target ${iqn} was found neither in LIO nor in tgtd: cannot tell who is logged in; pass --force to remove it anyway`);
  if (who.length) throw new LunRefused(`initiator(s) logged in to ${iqn}: ${who.join(", ")}; they would lose LUN ${lun} under their I/O. Log them out (or remove the LUN from their configuration) first, or pass --force`);
}
