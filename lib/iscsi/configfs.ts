// LIO's configfs tree (/sys/kernel/config/target), read and written directly: monitors never
// start targetcli, and attribute writes need no process at all. The root moves only in tests
// (ctx.env.paths.configfs, TSSTOR_CONFIGFS_ROOT), so the same code runs on an emulation.
//
// Layout used here (Linux 6.1):
//   target/core/<plugin>_<N>/<name>/{udev_path,enable,attrib/*,wwn/{vpd_unit_serial,product_id,vendor_id}}
//   target/iscsi/<iqn>/tpgt_1/{enable,attrib/*,param/*,auth/*,np/<ip:port>/iser,
//     lun/lun_<L>/<alias> -> core/<plugin>_<N>/<name>,
//     acls/<initiator>/{auth/*,lun_<M>/<alias> -> ../../../lun/lun_<L>}}

import { closeSync, constants, existsSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

export type Bstype = "block" | "fileio" | "pscsi";
/** configfs HBA directory prefix of each targetcli backstore type */
export const PLUGIN_DIR: Record<Bstype, string> = { block: "iblock", fileio: "fileio", pscsi: "pscsi" };

export class ConfigfsError extends Error {}

/** A file's content without the kernel's trailing newline; undefined when it does not exist. */
export function readValue(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").replace(/\n$/, "");
  } catch {
    return undefined;
  }
}

/** Auth files: "" and "NULL" both mean unset. */
export function readAuth(path: string): string {
  const v = readValue(path) ?? "";
  return v === "NULL" ? "" : v;
}

/**
 * Write an attribute as `echo -n value > file` would, in one write(2). No O_CREAT: configfs
 * attributes exist or the name is wrong, and an emulation must fail the same way.
 */
export function writeValue(path: string, value: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC);
  } catch (e) {
    throw new ConfigfsError(`cannot open ${path}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  try {
    writeSync(fd, value);
  } catch (e) {
    throw new ConfigfsError(`writing ${path} failed: ${(e as NodeJS.ErrnoException).code ?? e}`);
  } finally {
    closeSync(fd);
  }
}

export function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** The symlink inside a LUN or mapped-LUN directory, resolved to an absolute path. */
export function linkIn(dir: string): string | undefined {
  for (const n of listDir(dir)) {
    const p = join(dir, n);
    try {
      if (lstatSync(p).isSymbolicLink()) return resolve(dir, readlinkSync(p));
    } catch {
      /* raced with a removal */
    }
  }
  return undefined;
}

export interface StorageObject {
  dir: string;
  /** configfs plugin prefix: iblock, fileio, pscsi, ... */
  plugin: string;
  hba: number;
  name: string;
}

export function storageObjectAt(dir: string): StorageObject | undefined {
  const m = /^(.+)_(\d+)$/.exec(basename(dirname(dir)));
  if (!m) return undefined;
  return { dir, plugin: m[1]!, hba: Number(m[2]), name: basename(dir) };
}

/** Paths and reads of one LIO configfs tree. */
export class Lio {
  readonly target: string;
  constructor(readonly configfs: string) {
    this.target = join(configfs, "target");
  }

  /** target_core_mod is loaded (its configfs group exists). */
  loaded(): boolean {
    return existsSync(this.target);
  }

  targetDir(iqn: string): string {
    return join(this.target, "iscsi", iqn);
  }
  tpg(iqn: string): string {
    return join(this.target, "iscsi", iqn, "tpgt_1");
  }
  lunDir(iqn: string, lun: number): string {
    return join(this.tpg(iqn), "lun", `lun_${lun}`);
  }
  aclDir(iqn: string, initiator: string): string {
    return join(this.tpg(iqn), "acls", initiator);
  }

  portals(iqn: string): string[] {
    return listDir(join(this.tpg(iqn), "np"));
  }
  /** Every portal of every iSCSI target and TPG on this node. */
  allPortals(): Array<{ iqn: string; tpg: string; portal: string }> {
    const iscsi = join(this.target, "iscsi");
    return listDir(iscsi)
      .filter((iqn) => iqn !== "discovery_auth")
      .flatMap((iqn) =>
        listDir(join(iscsi, iqn))
          .filter((t) => t.startsWith("tpgt_"))
          .flatMap((tpg) => listDir(join(iscsi, iqn, tpg, "np")).map((portal) => ({ iqn, tpg, portal }))),
      );
  }
  acls(iqn: string): string[] {
    return listDir(join(this.tpg(iqn), "acls"));
  }
  luns(iqn: string): number[] {
    return listDir(join(this.tpg(iqn), "lun"))
      .map((n) => /^lun_(\d+)$/.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]));
  }

  /** The storage object a TPG LUN exports, or undefined (no LUN, or a broken link). */
  lunObject(iqn: string, lun: number): StorageObject | undefined {
    const l = linkIn(this.lunDir(iqn, lun));
    return l ? storageObjectAt(l) : undefined;
  }

  /** Mapped LUNs of an ACL: mapped index -> TPG LUN index. */
  mappedLuns(iqn: string, initiator: string): Map<number, number> {
    const out = new Map<number, number>();
    const d = this.aclDir(iqn, initiator);
    for (const n of listDir(d)) {
      const m = /^lun_(\d+)$/.exec(n);
      if (!m) continue;
      const t = linkIn(join(d, n));
      const l = t ? /^lun_(\d+)$/.exec(basename(t)) : null;
      if (l) out.set(Number(m[1]), Number(l[1]));
    }
    return out;
  }

  /**
   * Storage objects called `name` (any plugin). Scans core/: only used when a LUN does not lead
   * to the object directly (probes, leftovers), never on the healthy monitor path.
   */
  findObjects(name: string): StorageObject[] {
    const core = join(this.target, "core");
    const out: StorageObject[] = [];
    for (const h of listDir(core)) {
      if (!/_\d+$/.test(h)) continue;
      const d = join(core, h, name);
      if (existsSync(d)) {
        const so = storageObjectAt(d);
        if (so) out.push(so);
      }
    }
    return out;
  }

  /** Every TPG LUN (any target) that exports `so`. */
  exportsOf(so: StorageObject): Array<{ iqn: string; lun: number }> {
    const out: Array<{ iqn: string; lun: number }> = [];
    for (const iqn of listDir(join(this.target, "iscsi"))) {
      if (iqn === "discovery_auth" || iqn === "lio_version") continue;
      for (const lun of this.luns(iqn)) if (this.lunObject(iqn, lun)?.dir === so.dir) out.push({ iqn, lun });
    }
    return out;
  }
}

/** The unit serial of a storage object ("T10 VPD Unit Serial Number: X"). */
export function unitSerial(so: StorageObject): string | undefined {
  const v = readValue(join(so.dir, "wwn", "vpd_unit_serial"));
  if (v === undefined) return undefined;
  const i = v.indexOf(":");
  return (i >= 0 ? v.slice(i + 1) : v).trim();
}
