// What an iSCSI target or logical unit should look like, independent of the implementation,
// plus the record a logical unit keeps of what it owns (shared by both agents).

import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Budget } from "../ocf/budget.js";
import type { OcfEnv } from "../ocf/env.js";
import { readState, removeState, writeAtomic } from "../system/state-file.js";
import type { Logger } from "../ocf/log.js";
import type { Portal } from "./syntax.js";
import type { Runner } from "../system/run.js";
import type { Bstype } from "./configfs.js";

/** The part of an action context the implementations use. */
export interface IscsiCtx {
  readonly run: Runner;
  readonly log: Logger;
  readonly budget: Budget;
  readonly env: OcfEnv;
  readonly probe: boolean;
  lock<T>(name: string, fn: () => T): T;
}

export interface TargetSpec {
  iqn: string;
  /** tgt only: the configured target id, if any */
  tid?: number;
  portals: Portal[];
  /** the default portal list was not changed (tgt leaves tgtd's own portals alone then) */
  defaultPortals: boolean;
  /** raw iser_portals entries */
  iser: string[];
  /** empty: any initiator (demo mode) */
  initiators: string[];
  /** incoming CHAP: initiators log in with it. password undefined: not known (monitor could not read its file) */
  chap?: Credentials;
  /** outgoing (mutual) CHAP: the target answers with it */
  mutual?: Credentials;
  extra: Array<[string, string]>;
}

export interface Credentials {
  user: string;
  password?: string;
}

export interface LuSpec {
  iqn: string;
  lun: number;
  path: string;
  /** backstore (LIO) name: the resource name, as upstream */
  name: string;
  bstype: Bstype;
  serial: string;
  scsiId: string;
  vendorId?: string;
  productId?: string;
  blockSize?: number;
  emulate: { tpu?: number; "3pc"?: number; caw?: number };
  writeCache?: boolean;
  /** empty: every ACL of the target gets the LUN (or demo mode sees it) */
  initiators: string[];
  extra: Array<[string, string]>;
  tgt: { bstype?: string; bsoflags?: string; bsopts?: string; deviceType?: string };
}

/** The result of comparing configuration and system: absent, or running with problems. */
export type Check = { absent: true; why?: string } | { absent: false; problems: string[] };

// ---- logical unit records ---------------------------------------------------------------------
// A logical unit records, per node, which initiators it maps its LUN to and which ACLs it
// created, so that iSCSITarget (on start and reload) maps new ACLs correctly and neither agent
// deletes an ACL the other owns. HA_RSCTMP is emptied at boot, like configfs and tgtd.

export interface LuRecord {
  resource: string;
  /** empty: mapped to every ACL */
  initiators: string[];
  createdAcls: string[];
}

const recordDir = (rscTmp: string, iqn: string) => join(rscTmp, "tsstor-iscsi-lu", iqn);

export function readLuRecords(rscTmp: string, iqn: string): Map<number, LuRecord> {
  const out = new Map<number, LuRecord>();
  let names: string[] = [];
  try {
    names = readdirSync(recordDir(rscTmp, iqn));
  } catch {
    return out;
  }
  for (const n of names) {
    const m = /^lun_(\d+)\.json$/.exec(n);
    if (!m) continue;
    try {
      out.set(Number(m[1]), JSON.parse(readState(join(recordDir(rscTmp, iqn), n)) ?? "") as LuRecord);
    } catch {
      /* torn or foreign: ignore */
    }
  }
  return out;
}

export function writeLuRecord(rscTmp: string, iqn: string, lun: number, r: LuRecord): void {
  mkdirSync(recordDir(rscTmp, iqn), { recursive: true, mode: 0o755 });
  writeAtomic(join(recordDir(rscTmp, iqn), `lun_${lun}.json`), `${JSON.stringify(r)}\n`, 0o644);
}

export function removeLuRecord(rscTmp: string, iqn: string, lun: number): void {
  removeState(join(recordDir(rscTmp, iqn), `lun_${lun}.json`));
}

/** Should a LUN with this record be visible to `initiator`? (no record: yes, like targetcli) */
export function recordAllows(r: LuRecord | undefined, initiator: string): boolean {
  return !r || r.initiators.length === 0 || r.initiators.includes(initiator);
}
