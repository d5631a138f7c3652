// GFS2 on-disk facts the Filesystem agent's guards need: lock protocol, lock table
// ("cluster:fsname") and the number of journals (one per node that mounts it).
//
// They are read straight from the device (no gfs2-utils needed, no fork), with O_DIRECT so a
// journal added by gfs2_jadd on another node is seen through this node's page cache:
//   superblock at 64 KiB (struct gfs2_sb) -> master directory dinode -> "jindex" entry ->
//   jindex dinode, whose di_entries counts "journalN" entries plus "." and "..".
// Offsets follow gfs2_ondisk.h. The text parsers below read `tunegfs2 -l` and
// `gfs2_edit -p jindex` output (tests cross-check the direct reader against both).

import { readFileSync, readdirSync } from "node:fs";
import { BLOCK, readDirect } from "./directio.js";

export const GFS2_MAGIC = 0x01161970;
const SB_OFFSET = 128 * 512;
const METATYPE_SB = 1;
const METATYPE_DI = 4;
const DIF_EXHASH = 0x2;
const DINODE_SIZE = 232;
const DIRENT_SIZE = 40;

export interface Gfs2Super {
  fsFormat: number;
  bsize: number;
  masterAddr: bigint;
  rootAddr: bigint;
  lockProto: string;
  lockTable: string;
  uuid: string;
}

function cstr(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  return new TextDecoder().decode(b.subarray(off, end));
}

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** struct gfs2_sb from the block at 64 KiB; undefined when it is not GFS2. */
export function parseSuperblock(b: Uint8Array): Gfs2Super | undefined {
  if (b.length < 272) return undefined;
  const v = dv(b);
  if (v.getUint32(0) !== GFS2_MAGIC || v.getUint32(4) !== METATYPE_SB) return undefined;
  const hex = [...b.subarray(256, 272)].map((x) => x.toString(16).padStart(2, "0")).join("");
  return {
    fsFormat: v.getUint32(24),
    bsize: v.getUint32(36),
    masterAddr: v.getBigUint64(56),
    rootAddr: v.getBigUint64(88),
    lockProto: cstr(b, 96, 64),
    lockTable: cstr(b, 160, 64),
    uuid: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
  };
}

export interface Gfs2Dinode {
  mode: number;
  flags: number;
  height: number;
  depth: number;
  entries: number;
}

export function parseDinode(b: Uint8Array): Gfs2Dinode | undefined {
  if (b.length < DINODE_SIZE) return undefined;
  const v = dv(b);
  if (v.getUint32(0) !== GFS2_MAGIC || v.getUint32(4) !== METATYPE_DI) return undefined;
  return { mode: v.getUint32(40), flags: v.getUint32(128), height: v.getUint16(138), depth: v.getUint16(146), entries: v.getUint32(148) };
}

/** Entries of a "stuffed" directory (held in the dinode block itself). */
export function parseStuffedDir(b: Uint8Array): Array<{ name: string; addr: bigint }> {
  const v = dv(b);
  const out: Array<{ name: string; addr: bigint }> = [];
  let off = DINODE_SIZE;
  while (off + DIRENT_SIZE <= b.length) {
    const recLen = v.getUint16(off + 20);
    const nameLen = v.getUint16(off + 22);
    const addr = v.getBigUint64(off + 8);
    if (recLen < DIRENT_SIZE) break;
    if (addr !== 0n && nameLen > 0 && off + DIRENT_SIZE + nameLen <= b.length) {
      out.push({ name: new TextDecoder().decode(b.subarray(off + DIRENT_SIZE, off + DIRENT_SIZE + nameLen)), addr });
    }
    off += recLen;
  }
  return out;
}

export interface Gfs2Info {
  super: Gfs2Super;
  /** undefined when the metadata could not be walked (then ask gfs2_edit) */
  journals: number | undefined;
}

/** Reads a GFS2 device; undefined when it holds no GFS2 superblock. Throws on I/O errors. */
export function readGfs2(dev: string, read: (off: number, len: number) => Uint8Array = (o, l) => readDirect(dev, o, l).data): Gfs2Info | undefined {
  const sb = parseSuperblock(read(SB_OFFSET, BLOCK));
  if (!sb) return undefined;
  const bs = sb.bsize;
  if (bs < 512 || bs > 65536 || (bs & (bs - 1)) !== 0) return { super: sb, journals: undefined };
  const blockAt = (addr: bigint) => read(Number(addr) * bs, bs);
  const master = blockAt(sb.masterAddr);
  const md = parseDinode(master);
  if (!md || md.flags & DIF_EXHASH || md.height !== 0) return { super: sb, journals: undefined };
  const jentry = parseStuffedDir(master).find((e) => e.name === "jindex");
  if (!jentry) return { super: sb, journals: undefined };
  const jd = parseDinode(blockAt(jentry.addr));
  // di_entries counts "." and ".." too, whether the directory is stuffed or hashed.
  return { super: sb, journals: jd && jd.entries >= 2 ? jd.entries - 2 : undefined };
}

/** "cluster:fsname" -> parts; lock_nolock tables may be empty. */
export function splitLockTable(t: string): { cluster: string; fsname: string } | undefined {
  const i = t.indexOf(":");
  if (i <= 0 || i === t.length - 1 || t.indexOf(":", i + 1) >= 0) return undefined;
  return { cluster: t.slice(0, i), fsname: t.slice(i + 1) };
}

/**
 * `tunegfs2 -l DEV`, every version: gfs2-utils 3.4 prints `Lock protocol: lock_dlm`, older ones
 * `Lock Protocol:`, 3.5 `Locking protocol: "lock_dlm"` with quoted values and a `Journals:` line.
 * The one parser of this format (agents and `tsstor doctor` alike).
 */
export function parseTunegfs2List(text: string): { lockProto?: string; lockTable?: string; uuid?: string; blockSize?: number; journals?: number } {
  const get = (re: RegExp) => re.exec(text)?.[1]?.trim().replace(/^"(.*)"$/, "$1");
  const bs = get(/^Block size:\s*(\d+)/im);
  const j = get(/^Journals:\s*(\d+)/im);
  return {
    lockProto: get(/^Lock(?:ing)? protocol:[ \t]*(.*)$/im),
    lockTable: get(/^Lock table:[ \t]*(.*)$/im),
    uuid: get(/^File ?system UUID:[ \t]*(.*)$/im),
    blockSize: bs ? Number(bs) : undefined,
    journals: j ? Number(j) : undefined,
  };
}

/** `gfs2_edit -p jindex DEV`: the number of "journalN" entries listed. */
export function parseGfs2EditJindex(text: string): number | undefined {
  const names = new Set<string>();
  for (const m of text.matchAll(/^\s*\d+\/\d+ \[[0-9A-Fa-f]+\] .*: \S+\s+(journal\d+)\s*$/gm)) names.add(m[1]!);
  if (names.size) return names.size;
  const d = /di_entries\s+(\d+)/.exec(text);
  return d ? Math.max(0, Number(d[1]) - 2) : undefined;
}

/** Mount options override the superblock: lockproto=, locktable= (gfs2(5)). */
export function effectiveLocking(sb: Gfs2Super, options: string): { lockProto: string; lockTable: string } {
  let lockProto = sb.lockProto;
  let lockTable = sb.lockTable;
  for (const o of options.split(",")) {
    if (o.startsWith("lockproto=")) lockProto = o.slice("lockproto=".length);
    if (o.startsWith("locktable=")) lockTable = o.slice("locktable=".length);
  }
  return { lockProto, lockTable };
}

/**
 * Whether the mounted GFS2 with device number major:minor has withdrawn (after I/O errors or
 * lost locking it stops all I/O but stays in the mount table, so a plain "is it mounted"
 * monitor says running). From /sys/fs/gfs2/TABLE/{id,withdraw}; undefined when not found.
 */
export function gfs2Withdrawn(major: number, minor: number, sysRoot = "/sys/fs/gfs2"): boolean | undefined {
  let names: string[];
  try {
    names = readdirSync(sysRoot);
  } catch {
    return undefined;
  }
  for (const n of names) {
    try {
      if (readFileSync(`${sysRoot}/${n}/id`, "utf8").trim() !== `${major}:${minor}`) continue;
      return readFileSync(`${sysRoot}/${n}/withdraw`, "utf8").trim() === "1";
    } catch {
      /* unmounted meanwhile */
    }
  }
  return undefined;
}
