// A filesystem resource's facts and steps on a node, for the Filesystem agent: upstream's lists
// of filesystem kinds, whether ours is mounted (device numbers, never names), clone safety,
// kernel support, waiting for the device, and the status files of monitor depth 20.

import { mkdirSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ActionTools } from "../ocf/runner.js";
import { fail } from "../ocf/codes.js";
import { sleepMs } from "../system/run.js";
import { readDirect, writeDirect } from "./directio.js";
import { canonicalDir, isBlockDevice, kernelFilesystems, matchDevice, modprobe, mountsAt, resolveDevice, showSpec, type DeviceSpec, type Mount } from "./mounts.js";

// Upstream's lists, kept in step with resource-agents 4.x.
export const NOT_BLOCK = new Set("nfs4 nfs aznfs efs smbfs cifs none glusterfs ceph tmpfs overlay overlayfs rozofs zfs cvfs lustre".split(" "));
export const NO_FSCK = new Set(
  "ext4 ext4dev ext3 reiserfs reiser4 nss xfs jfs vfat fat nfs4 nfs aznfs efs cifs smbfs ocfs2 gfs2 none lustre glusterfs ceph tmpfs overlay overlayfs rozofs zfs cvfs".split(" "),
);
export const CLUSTER_SAFE = new Set("nfs4 nfs aznfs efs smbfs cifs none gfs2 glusterfs ceph ocfs2 overlay overlayfs tmpfs cvfs lustre".split(" "));
export const LOCAL_ONLY = new Set("ext4 ext4dev ext3 reiserfs reiser4 xfs jfs".split(" "));
export const UMOUNT_FORCE = new Set("nfs4 nfs aznfs efs cifs smbfs".split(" "));

/** The configuration, derived once per action. */
export interface FsConf {
  /** lexically normalised mount point */
  dir: string;
  spec: DeviceSpec;
  fstype: string;
  options: string;
  opts: string[];
  /** the device is a block device, compared with the mounted one (upstream's blockdevice=yes) */
  block: boolean;
  bind: boolean;
  gfs2: boolean;
}

export type Status =
  | { state: "stopped"; dir: string }
  | { state: "mounted"; dir: string; mount: Mount; device: string | undefined; hiddenBy?: Mount }
  | { state: "foreign"; dir: string; mount: Mount; device: string | undefined };

/** Is our filesystem mounted? Compares devices only for block-device filesystems, as upstream. */
export function mountStatus(t: ActionTools, c: FsConf, mounts: readonly Mount[]): Status {
  const dir = canonicalDir(c.dir, mounts);
  const at = mountsAt(mounts, dir);
  if (!at.length) return { state: "stopped", dir };
  const top = at[at.length - 1]!;
  if (!c.block) return { state: "mounted", dir, mount: top, device: undefined };
  const device = resolveDevice(t.run, c.spec);
  // "unknown" (configured device not found right now) is never called foreign: claiming
  // "not running" while something is mounted here could get it mounted twice.
  const mine = at.filter((m) => matchDevice(m, device) !== "different");
  if (mine.length) {
    const mount = mine[mine.length - 1]!;
    // ours, but something else mounted over it hides it from every user
    return { state: "mounted", dir, mount, device, hiddenBy: mine.includes(top) ? undefined : top };
  }
  return { state: "foreign", dir, mount: top, device };
}

/** Clone safety as upstream rates it: cluster filesystems yes; local ones only with force_clones; others only read-only. */
export function cloneSafety(c: FsConf, force: boolean): "safe" | "forced" | "readonly" | "unsafe" {
  if (CLUSTER_SAFE.has(c.fstype)) return "safe";
  if (LOCAL_ONLY.has(c.fstype)) return force ? "forced" : "unsafe";
  if (force) return "forced";
  return c.opts.includes("ro") ? "readonly" : "unsafe";
}

// ---- start ------------------------------------------------------------------------------------

export function fsSupport(t: ActionTools, fstype: string): void {
  if (fstype === "" || fstype === "none") return;
  const support = /^fuse\./.test(fstype) || fstype === "glusterfs" || fstype === "rozofs" ? "fuse" : fstype === "efs" || fstype === "aznfs" ? "nfs4" : fstype;
  if (kernelFilesystems().has(support)) return;
  const r = modprobe(t.run, support);
  if (r.code !== 0) {
    const why = r.missing ? "modprobe not found" : `modprobe ${support} failed: ${(r.stderr.trim() || `rc=${r.code}`).split("\n").pop()}`;
    throw fail.installed(`filesystem ${support} is not supported by this kernel (not in /proc/filesystems; ${why})`);
  }
  // A module can be loaded before it has registered its filesystem.
  for (let i = 0; i < 5 && !t.budget.expired(); i++) {
    if (kernelFilesystems().has(support)) return;
    sleepMs(Math.min(1000, t.budget.remainingMs()));
  }
  throw fail.installed(`filesystem ${support} is not in /proc/filesystems after modprobe ${support}`);
}

/** The block device node, waiting for it (udev, iSCSI login, DRBD) at most half the budget. */
export function waitForDevice(t: ActionTools, c: FsConf): string {
  const until = t.budget.elapsedMs() + t.budget.remainingMs() / 2;
  let logged = false;
  for (;;) {
    const dev = resolveDevice(t.run, c.spec);
    if (dev && isBlockDevice(dev)) return dev;
    if (t.budget.elapsedMs() >= until) {
      throw fail.installed(`couldn't find device ${showSpec(c.spec)}${dev && dev !== showSpec(c.spec) ? ` (${dev})` : ""}: not a block device on this node`);
    }
    if (!logged) t.log.info(`waiting for device ${showSpec(c.spec)}`);
    logged = true;
    sleepMs(Math.min(c.spec.kind === "path" ? 100 : 500, until - t.budget.elapsedMs()));
  }
}

/** A module for `name` in this kernel's modules.dep (upstream's validate-all check). */
export function hasModule(name: string): boolean {
  try {
    const rel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
    return new RegExp(`/${name.replace(/[^\w-]/g, "")}\\.ko(\\.[a-z]+)?:`).test(readFileSync(`/lib/modules/${rel}/modules.dep`, "utf8"));
  } catch {
    return false;
  }
}


// ---- monitor depths --------------------------------------------------------------------------

/** Depth 10: one direct read of the device's first block (a dead path fails here, not in the page cache). */
export function readCheck(dev: string): void {
  try {
    readDirect(dev, 0);
  } catch (e) {
    throw fail.generic(`failed to read device ${dev}: ${(e as Error).message}`);
  }
}

/** Depth 20: write the status file with direct I/O and read it back. */
export function statusFileCheck(file: string, instance: string): void {
  const want = new TextEncoder().encode(`${instance}\n`);
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
    writeDirect(file, want);
  } catch (e) {
    throw fail.generic(`failed to write status file ${file}: ${(e as Error).message}`);
  }
  let got: Uint8Array;
  try {
    got = readDirect(file, 0).data;
  } catch (e) {
    throw fail.generic(`cannot read the status file ${file}: ${(e as Error).message}`);
  }
  if (got.length < want.length || want.some((b, i) => got[i] !== b)) throw fail.generic(`status file ${file} read back differs from what was written`);
}

// ---- status files (monitor depth 20) ------------------------------------------------------------

/** Whose status file: statusfile_prefix, the instance (and clone number), the node. */
export interface StatusFile {
  prefix: string;
  instance: string;
  clone: number | undefined;
  node: string;
}

export const statusFileName = (f: StatusFile): string => `${f.prefix}${f.instance}${f.clone !== undefined ? `_${f.clone}` : ""}_${f.node}`;

/** Remove this instance's status files on this node, for every clone number and depth. */
export function removeStatusFiles(t: ActionTools, f: StatusFile, st: { dir: string }, network: boolean): void {
  const rel = f.prefix;
  const statusDir = join(st.dir, rel.endsWith("/") ? rel : dirname(rel));
  const base = rel.endsWith("/") ? "" : rel.split("/").pop()!;
  const exact = join(st.dir, statusFileName(f));
  const names = new Set<string>([exact]);
  if (!network) {
    // Anonymous clone numbers change between start and stop: any <instance>_<N>_<node> is ours.
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const re = new RegExp(`^${esc(base)}${esc(f.instance)}(?:_\\d+)?_${esc(f.node)}$`);
    try {
      for (const n of readdirSync(statusDir)) if (re.test(n)) names.add(join(statusDir, n));
    } catch {
      /* no status directory: monitor depth 20 never ran */
    }
  }
  for (const f of names) {
    try {
      unlinkSync(f);
      t.log.debug(`removed status file ${f}`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT") t.log.warn(`failed to remove status file ${f}: ${code}`);
    }
  }
}
