// The mount table and the util-linux mount tools (mount, umount, blkid, fsck, modprobe).
//
// The table is read from /proc/self/mountinfo directly (no fork): it has the mount id, the
// device number (major:minor) and per-mount options, which /proc/mounts lacks. Devices are
// compared by device number where both sides are block devices, else by their canonical path,
// so /dev/vg/lv, /dev/mapper/vg-lv and /dev/dm-3 are one device.
//
// Nothing here stats a path *inside* a mounted filesystem: a dead NFS server or a hung device
// would block the agent until Pacemaker kills it.

import { existsSync, readFileSync, readdirSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { describeFailure, type RunResult, type Runner } from "../system/run.js";

export interface Mount {
  id: number;
  parent: number;
  major: number;
  minor: number;
  /** the path inside the filesystem that is mounted here ("/" unless a bind mount of a subdir) */
  root: string;
  mountPoint: string;
  /** per-mount options (ro/rw, nosuid, relatime...) */
  options: string[];
  fstype: string;
  /** the device or source as the kernel recorded it ("/dev/loop0", "srv:/export", "none") */
  source: string;
  /** per-superblock options */
  superOptions: string[];
}

/** mountinfo and /proc/PID/maps escape space, tab, newline and backslash as \ooo. */
export function unescapeOctal(s: string): string {
  return s.includes("\\") ? s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))) : s;
}

/**
 * One line: `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`
 * (proc(5)); the optional fields end at the lone "-".
 */
export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const f = line.split(" ");
    const sep = f.indexOf("-", 6);
    if (f.length < 10 || sep < 0 || sep + 3 > f.length) continue;
    const [maj, min] = f[2]!.split(":");
    out.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      major: Number(maj),
      minor: Number(min),
      root: unescapeOctal(f[3]!),
      mountPoint: unescapeOctal(f[4]!),
      options: f[5]!.split(","),
      fstype: f[sep + 1]!,
      source: unescapeOctal(f[sep + 2]!),
      superOptions: (f[sep + 3] ?? "").split(","),
    });
  }
  return out;
}

export const MOUNTINFO = "/proc/self/mountinfo";

export function readMounts(path = MOUNTINFO): Mount[] {
  return parseMountinfo(readFileSync(path, "utf8"));
}

/** Lexical normalisation of an absolute path: no ".", "..", "//" or trailing "/". */
export function normalizePath(p: string): string {
  const parts: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") parts.pop();
    else parts.push(c);
  }
  return `/${parts.join("/")}`;
}

/** `path` is `dir` or inside it. */
export function isAtOrUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === "/" ? "/" : `${dir}/`);
}

/** Mounts on exactly `dir`, bottom first (the last one is visible). */
export function mountsAt(mounts: readonly Mount[], dir: string): Mount[] {
  return mounts.filter((m) => m.mountPoint === dir);
}

/** Mounts strictly below `dir`, deepest first (the order to unmount them in). */
export function mountsBelow(mounts: readonly Mount[], dir: string): Mount[] {
  return mounts
    .map((m, i) => ({ m, i }))
    .filter(({ m }) => m.mountPoint !== dir && isAtOrUnder(m.mountPoint, dir))
    .sort((a, b) => b.m.mountPoint.split("/").length - a.m.mountPoint.split("/").length || b.i - a.i)
    .map(({ m }) => m);
}

/** The mount a path (as the kernel prints it in /proc links) lives on: the longest prefix. */
export function owningMount(mounts: readonly Mount[], path: string): Mount | undefined {
  let best: Mount | undefined;
  for (const m of mounts) {
    if (!isAtOrUnder(path, m.mountPoint)) continue;
    if (!best || m.mountPoint.length >= best.mountPoint.length) best = m;
  }
  return best;
}

/**
 * The mount point as the kernel spells it. The lexical form is tried first (no filesystem
 * access, so a hung mount cannot block us); only when it is not in the table are symlinks
 * resolved, as upstream does with `readlink -f`.
 */
export function canonicalDir(dir: string, mounts: readonly Mount[]): string {
  const lexical = normalizePath(dir);
  if (mounts.some((m) => m.mountPoint === lexical)) return lexical;
  try {
    return realpathSync(lexical);
  } catch {
    return lexical;
  }
}

// ---- devices ---------------------------------------------------------------------------------

export type DeviceSpec =
  | { kind: "path"; path: string }
  | { kind: "uuid"; value: string }
  | { kind: "label"; value: string };

/**
 * The forms mount(8) and upstream accept: a path, `-U X`, `-UX`, `--uuid=X`, `--uuid X`,
 * `UUID=X` (and the same for labels). Anything else (NFS `srv:/export`, `none`) is a "path".
 */
export function parseDeviceSpec(s: string): DeviceSpec {
  const m =
    /^(?:-([UL])\s*|--(uuid|label)(?:=|\s+))(.+)$/.exec(s) ?? /^(UUID|LABEL)=(?:"([^"]*)"|(.+))$/.exec(s);
  if (!m) return { kind: "path", path: s };
  if (m[0].startsWith("-")) {
    const which = (m[1] ?? m[2] ?? "").toUpperCase();
    return which.startsWith("U") ? { kind: "uuid", value: m[3]! } : { kind: "label", value: m[3]! };
  }
  const value = m[2] ?? m[3] ?? "";
  return m[1] === "UUID" ? { kind: "uuid", value } : { kind: "label", value };
}

export function showSpec(d: DeviceSpec): string {
  return d.kind === "path" ? d.path : `${d.kind.toUpperCase()}=${d.value}`;
}

export interface DevNum {
  major: number;
  minor: number;
}

/** major:minor of a block device node, undefined when it is missing or not a block device. */
export function blockDevNum(path: string): DevNum | undefined {
  try {
    const st = statSync(path, { bigint: true });
    if (!st.isBlockDevice()) return undefined;
    const r = st.rdev;
    // glibc's gnu_dev_major/minor
    const major = Number(((r >> 8n) & 0xfffn) | ((r >> 32n) & ~0xfffn));
    const minor = Number((r & 0xffn) | ((r >> 12n) & ~0xffn));
    return { major, minor };
  } catch {
    return undefined;
  }
}

export function isBlockDevice(path: string): boolean {
  return blockDevNum(path) !== undefined;
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function canonical(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** The udev link for a UUID/label, when udev made one. */
export function tagLink(d: DeviceSpec): string | undefined {
  if (d.kind === "path") return undefined;
  const dir = d.kind === "uuid" ? "/dev/disk/by-uuid" : "/dev/disk/by-label";
  // udev escapes "/" and spaces in labels as \x2f, \x20
  const name = d.value.replace(/[/ ]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  const p = `${dir}/${name}`;
  return existsSync(p) ? p : undefined;
}

/**
 * The block device a spec names right now: a path as is; a UUID or label through its udev link,
 * else `blkid -U/-L` (hosts without udev; one process).
 */
export function resolveDevice(run: Runner, d: DeviceSpec): string | undefined {
  if (d.kind === "path") return d.path;
  const link = tagLink(d);
  if (link) return canonical(link);
  const r = run.run("blkid", [d.kind === "uuid" ? "-U" : "-L", d.value], { timeoutMs: 10000 });
  const dev = r.code === 0 ? r.stdout.trim().split("\n")[0] : undefined;
  return dev && dev.startsWith("/") ? dev : undefined;
}

export type DeviceMatch = "same" | "different" | "unknown";

/**
 * Is `m` a mount of block device `dev`? By device number when both are known (a mount of a
 * block device records its number), else by canonical path. "unknown" when the configured
 * device cannot be found: callers must not call such a mount foreign.
 */
export function matchDevice(m: Mount, dev: string | undefined): DeviceMatch {
  if (dev === undefined) return "unknown";
  const num = blockDevNum(dev);
  if (num && m.major !== 0) return num.major === m.major && num.minor === m.minor ? "same" : "different";
  if (!existsSync(dev)) return m.source === dev ? "same" : "unknown";
  return canonical(dev) === canonical(m.source) ? "same" : "different";
}

/** Loop devices whose backing file lives on `mountPoint` (they keep a filesystem busy). */
export function loopBackedBy(mountPoint: string): string[] {
  const out: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync("/sys/block").filter((n) => n.startsWith("loop"));
  } catch {
    return out;
  }
  for (const n of names) {
    try {
      const f = readFileSync(`/sys/block/${n}/loop/backing_file`, "utf8").trim();
      if (isAtOrUnder(f.replace(/ \(deleted\)$/, ""), mountPoint)) out.push(`/dev/${n} (${f})`);
    } catch {
      /* not bound */
    }
  }
  return out;
}

/** Filesystem types in /proc/filesystems ("nodev" ones included). */
export function kernelFilesystems(text = readFileSync("/proc/filesystems", "utf8")): Set<string> {
  const s = new Set<string>();
  for (const line of text.split("\n")) {
    const name = line.split("\t").pop()?.trim();
    if (name) s.add(name);
  }
  return s;
}

/** Per-mount "ro" (a read-only remount shows here, not in the superblock options). */
export function isReadOnly(m: Mount): boolean {
  return m.options.includes("ro");
}

/** Resolve a symlink's target without following it into the filesystem (for /proc links). */
export function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

// ---- commands --------------------------------------------------------------------------------

export interface MountArgs {
  fstype: string;
  options: string;
  device: string;
  dir: string;
}

/** `mount [-t T] [-o O] -- DEV DIR`; fstype "none" (bind mounts) passes no -t, as upstream. */
export function mountArgv(a: MountArgs): string[] {
  const args: string[] = [];
  if (a.fstype !== "" && a.fstype !== "none") args.push("-t", a.fstype);
  if (a.options !== "") args.push("-o", a.options);
  args.push("--", a.device, a.dir);
  return args;
}

export function mount(run: Runner, a: MountArgs): RunResult {
  return run.run("mount", mountArgv(a));
}

export function umount(run: Runner, dir: string, opts: { force?: boolean; timeoutMs?: number } = {}): RunResult {
  return run.run("umount", [...(opts.force ? ["-f"] : []), "--", dir], { timeoutMs: opts.timeoutMs });
}

/** `fsck -p` exit codes >= 4 mean errors left uncorrected (fsck(8)). */
export function fsck(run: Runner, dev: string, fstype: string): { ok: boolean; result: RunResult } {
  const r = run.run("fsck", [...(fstype ? ["-t", fstype] : []), "-p", "--", dev]);
  return { ok: !r.missing && !r.timedOut && r.code < 4, result: r };
}

export function modprobe(run: Runner, module: string): RunResult {
  return run.run("modprobe", ["--", module], { timeoutMs: 30000 });
}

export { describeFailure };
