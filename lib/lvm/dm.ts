// Device-mapper state read straight from sysfs (/sys/block/dm-N/dm/{name,uuid,suspended}): what is
// active on this node, without forking dmsetup and without an LVM scan. LVM names its devices
// VG-LV with every "-" inside a name doubled (dm_build_dm_name), and gives them UUIDs
// "LVM-<vg uuid><lv uuid>[-layer]".

import { closeSync, constants, openSync, readFileSync, readdirSync, readSync } from "node:fs";

export interface DmDevice {
  /** kernel name, dm-N */
  kname: string;
  name: string;
  uuid: string;
  suspended: boolean;
  /** set for LVM devices (uuid LVM-...) */
  vg?: string;
  lv?: string;
  /** "" for the LV itself, else the sub-device layer (real, cow, tpool, ...) */
  layer?: string;
}

function readTrim(p: string): string | undefined {
  try {
    return readFileSync(p, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** Every device-mapper device of this node. */
export function dmDevices(sysBlock = "/sys/block"): DmDevice[] {
  let names: string[];
  try {
    names = readdirSync(sysBlock);
  } catch {
    return [];
  }
  const out: DmDevice[] = [];
  for (const k of names) {
    if (!k.startsWith("dm-")) continue;
    const name = readTrim(`${sysBlock}/${k}/dm/name`);
    if (name === undefined) continue; // removed while we looked
    const uuid = readTrim(`${sysBlock}/${k}/dm/uuid`) ?? "";
    const d: DmDevice = { kname: k, name, uuid, suspended: readTrim(`${sysBlock}/${k}/dm/suspended`) === "1" };
    if (uuid.startsWith("LVM-")) {
      const s = splitDmName(name);
      if (s) Object.assign(d, s);
    }
    out.push(d);
  }
  return out;
}

/** The device-mapper name LVM gives VG/LV. */
export function dmName(vg: string, lv: string): string {
  return `${vg.replace(/-/g, "--")}-${lv.replace(/-/g, "--")}`;
}

/** dm_split_lvm_name: "my--vg-my--lv-real" -> { vg: "my-vg", lv: "my-lv", layer: "real" }. */
export function splitDmName(name: string): { vg: string; lv: string; layer: string } | undefined {
  const parts: string[] = [];
  let cur = "";
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === "-") {
      if (name[i + 1] === "-") {
        cur += "-";
        i++;
        continue;
      }
      parts.push(cur);
      cur = "";
      continue;
    }
    cur += c;
  }
  parts.push(cur);
  if (parts.length < 2) return undefined;
  return { vg: parts[0]!, lv: parts[1]!, layer: parts.slice(2).join("-") };
}

/** sanlock's internal lease LV: active whenever the VG's lockspace runs, whoever uses the VG. */
export const SANLOCK_LV = "lvmlock";

/**
 * Active LVs of one VG as device-mapper sees them: with `lv`, that LV's own device; without,
 * every LV's device but sanlock's lease LV (its sub-devices and layers count for their LV).
 */
export function activeLvs(devs: DmDevice[], vg: string, lv?: string): DmDevice[] {
  if (lv !== undefined) return devs.filter((d) => d.vg === vg && d.lv === lv && d.layer === "");
  return devs.filter((d) => d.vg === vg && d.lv !== SANLOCK_LV && d.layer === "" && !/_(r|m)(image|meta)_\d+$|_t(data|meta)$|_(c|w)(data|meta|vol)$|_vorigin$|_mlog$/.test(d.lv ?? ""));
}

/**
 * Read the first 4 KiB of a device, bypassing the page cache when the kernel allows it (a cached
 * read would not notice a dead path). Returns an error text or undefined.
 */
export function readProbe(path: string): string | undefined {
  const buf = Buffer.alloc(4096);
  for (const flags of [constants.O_RDONLY | constants.O_DIRECT, constants.O_RDONLY]) {
    let fd: number | undefined;
    try {
      fd = openSync(path, flags);
      readSync(fd, buf, 0, 4096, 0);
      return undefined;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EINVAL" && flags & constants.O_DIRECT) continue; // unaligned buffer or fs without O_DIRECT
      return `${path}: ${(e as Error).message}`;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  return undefined;
}
