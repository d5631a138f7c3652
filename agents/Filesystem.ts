// Filesystem: mounts a filesystem (GFS2 clones on a shared LUN, ext4/xfs on DRBD or a SAN LUN).
// Drop-in for ocf:heartbeat:Filesystem: same parameters and defaults.
//
// What it adds over upstream (each named in the tests):
//  - the mount table is read from /proc/self/mountinfo, devices compared by device number
//    after canonicalising both sides; a foreign device on the mount point is never unmounted;
//  - start confirms the mount; GFS2 guards (lock table vs corosync cluster name, journals vs
//    clone-max, dlm_controld, clone only, no fsck, no fast stop) fail early with a clear reason;
//  - stop has ONE time budget for every submount and bind mount, finds users of a mount from
//    /proc without blocking on a dead mount and without ever naming a process whose use is
//    elsewhere, and says which pids kept it busy; status files are removed at every stop;
//  - monitor depth 10/20 do direct I/O without forking dd.

import { existsSync, mkdirSync, readFileSync, readdirSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { defineHandlers, type Ctx } from "../lib/ocf/runner.js";
import { defineAgent, p } from "../lib/ocf/declaration.js";
import { readDirect, writeDirect } from "../lib/fs/directio.js";
import { clusterName } from "../lib/cluster/corosync.js";
import { dlmControldPids, dlmState } from "../lib/cluster/dlm.js";
import { effectiveLocking, gfs2Withdrawn, parseGfs2EditJindex, readGfs2, splitLockTable } from "../lib/fs/gfs2.js";
import {
  canonicalDir,
  describeFailure,
  fsck,
  isAtOrUnder,
  isBlockDevice,
  isDirectory,
  isReadOnly,
  kernelFilesystems,
  loopBackedBy,
  matchDevice,
  modprobe,
  mount,
  mountsAt,
  mountsBelow,
  normalizePath,
  parseDeviceSpec,
  readMounts,
  resolveDevice,
  showSpec,
  umount,
  type DeviceSpec,
  type Mount,
} from "../lib/fs/mounts.js";
import { OCF, fail } from "../lib/ocf/codes.js";
import { describeProcess, describeUsers, findUsers } from "../lib/fs/holders.js";
import { signalSame, stillRunning } from "../lib/system/proc.js";
import { sleepMs } from "../lib/system/run.js";
import { parseSignalList, signalListError } from "../lib/system/signals.js";

// Upstream's lists, kept in step with resource-agents 4.x.
const NOT_BLOCK = new Set("nfs4 nfs aznfs efs smbfs cifs none glusterfs ceph tmpfs overlay overlayfs rozofs zfs cvfs lustre".split(" "));
const NO_FSCK = new Set(
  "ext4 ext4dev ext3 reiserfs reiser4 nss xfs jfs vfat fat nfs4 nfs aznfs efs cifs smbfs ocfs2 gfs2 none lustre glusterfs ceph tmpfs overlay overlayfs rozofs zfs cvfs".split(" "),
);
const CLUSTER_SAFE = new Set("nfs4 nfs aznfs efs smbfs cifs none gfs2 glusterfs ceph ocfs2 overlay overlayfs tmpfs cvfs lustre".split(" "));
const LOCAL_ONLY = new Set("ext4 ext4dev ext3 reiserfs reiser4 xfs jfs".split(" "));
const UMOUNT_FORCE = new Set("nfs4 nfs aznfs efs cifs smbfs".split(" "));

const TRUE_WORDS = /^(yes|true|1|on|ja)$/i;
const FALSE_WORDS = /^(no|false|0|off|nein)$/i;

const noEdgeSpace = (what: string) => (v: string) => (/^\s|\s$/.test(v) ? `does not accept leading or trailing whitespace (${what})` : undefined);

export const decl = defineAgent({
  name: "Filesystem",
  version: "1.0.0",
  shortdesc: "Manages filesystem mounts",
  longdesc: `Mounts a filesystem on a shared or replicated block device (GFS2 as a clone on a shared LUN,
ext4/xfs on DRBD or a SAN LUN), or a network filesystem or bind mount. Drop-in for
ocf:heartbeat:Filesystem with the same parameters.

monitor depth 0 checks that the filesystem is mounted from the configured device (devices are
compared after canonicalising both sides). Depth 10 reads the first block of the device with
direct I/O. Depth 20 writes, syncs and reads back a per-node status file on the filesystem.

GFS2 with lock_dlm is checked before mounting: it must run as a clone; its lock table must
name the corosync cluster; it needs at least clone-max journals and a running dlm_controld;
fsck and fast stop are refused. ext4, xfs and other non-cluster filesystems are refused as a
clone unless force_clones is set.

stop unmounts submounts and bind mounts first, then the filesystem; processes still using a
mount get term_signals, then kill_signals, all inside one time budget taken from the stop
timeout. A stop that cannot unmount fails and names the processes that kept it busy.`,
  params: {
    device: p.string({
      shortdesc: "block device",
      longdesc:
        "The block device holding the filesystem, or -U UUID / -L LABEL (also --uuid=, --label=, UUID=, LABEL=), or an NFS/CIFS source, or the directory to bind mount.",
      required: true,
      validate: noEdgeSpace("device"),
    }),
    directory: p.string({
      shortdesc: "mount point",
      longdesc: "The mount point (an absolute path; created at start when missing).",
      required: true,
      validate: (v) => noEdgeSpace("directory")(v) ?? (v.startsWith("/") ? undefined : `must be an absolute path, got ${JSON.stringify(v)}`),
    }),
    fstype: p.string({
      shortdesc: "filesystem type",
      longdesc: 'The filesystem type (gfs2, ext4, xfs, nfs4, ...; "none" for bind mounts).',
      required: true,
      validate: (v) => (/^[A-Za-z0-9_][A-Za-z0-9._+-]*$/.test(v) ? undefined : `is not a filesystem type name: ${JSON.stringify(v)}`),
    }),
    options: p.string({
      shortdesc: "options",
      longdesc: 'Options given to mount with -o. For bind mounts set "bind" here and fstype to "none" ("bind,ro" works).',
      default: "",
      validate: (v) => (/[\s]/.test(v) ? "must not contain whitespace (separate options with commas)" : undefined),
    }),
    statusfile_prefix: p.string({
      shortdesc: "status file prefix",
      longdesc:
        "Prefix, relative to the mount point, of the status file that monitor depth 20 writes (name: PREFIX<instance>[_<clone>]_<node>). Every stop removes it.",
      default: ".Filesystem_status/",
      validate: (v) => (v.startsWith("/") || v.split("/").includes("..") ? "must be relative to the mount point and not contain .." : undefined),
    }),
    run_fsck: p.string({
      shortdesc: "run_fsck",
      longdesc: 'When to run fsck before mounting: "auto" (by filesystem type; never for journaling and cluster filesystems), "force" (always; refused for gfs2), "no".',
      default: "auto",
      validate: (v) => (/^(auto|force|no)$/.test(v) ? undefined : `must be auto, force or no; got ${JSON.stringify(v)}`),
    }),
    fast_stop: p.boolean({
      shortdesc: "fast stop",
      longdesc: "Stop within 6 seconds at most instead of the whole stop timeout. Refused for gfs2.",
      default: false,
    }),
    force_clones: p.boolean({
      shortdesc: "allow running as a clone, regardless of filesystem type",
      longdesc: "Allow cloning a non-cluster filesystem (ext4, xfs...), e.g. each node mounting its own local device. Only if you know what you are doing.",
      default: false,
    }),
    force_unmount: p.string({
      shortdesc: "Kill processes before unmount",
      longdesc:
        '"true": processes using the mount get term_signals then kill_signals; "safe": the same (tsstor always finds them from /proc without blocking, so both behave as upstream\'s safe mode); "false": never signal, only retry the unmount.',
      default: "true",
      validate: (v) => (TRUE_WORDS.test(v) || FALSE_WORDS.test(v) || v === "safe" ? undefined : `must be true, safe or false; got ${JSON.stringify(v)}`),
    }),
    term_signals: p.string({
      shortdesc: "Signals (names or numbers, whitespace separated) to send processes during graceful termination phase in stop-action",
      longdesc: "Sent during the first half of the stop budget to processes still using the mount.",
      default: "TERM",
      validate: signalListError,
    }),
    kill_signals: p.string({
      shortdesc: "Signals (names or numbers, whitespace separated) to send processes during forceful killing phase in stop-action",
      longdesc: "Sent during the second half of the stop budget.",
      default: "KILL",
      validate: signalListError,
    }),
    signal_delay: p.string({
      shortdesc: "How many seconds to wait after sending term/kill signals to processes in stop-action",
      longdesc: "Seconds (fractions allowed) between signalling the users of a mount and retrying the unmount.",
      default: "1",
      validate: (v) => (/^\d+(\.\d+)?$/.test(v) && Number(v) <= 3600 ? undefined : `must be a number of seconds between 0 and 3600; got ${JSON.stringify(v)}`),
    }),
  },
  actions: [
    { name: "start", timeout: 60 },
    { name: "stop", timeout: 60 },
    { name: "monitor", timeout: 40, interval: 20, depth: 0 },
    { name: "validate-all", timeout: 20 },
    { name: "meta-data", timeout: 5 },
  ],
  monitorDepths: [0, 10, 20],
});

type C = Ctx<typeof decl.params>;

// ---- the configuration, derived once per action --------------------------------------------

interface Conf {
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

function conf(ctx: C): Conf {
  const { device, directory, fstype, options } = ctx.params;
  const opts = options.split(",").filter(Boolean);
  const spec = parseDeviceSpec(device);
  const block = !NOT_BLOCK.has(fstype) && !opts.includes("loop") && !(spec.kind === "path" && isDirectory(spec.path));
  return { dir: normalizePath(directory), spec, fstype, options, opts, block, bind: opts.includes("bind"), gfs2: fstype === "gfs2" };
}

type Status =
  | { state: "stopped"; dir: string }
  | { state: "mounted"; dir: string; mount: Mount; device: string | undefined; hiddenBy?: Mount }
  | { state: "foreign"; dir: string; mount: Mount; device: string | undefined };

/** Is our filesystem mounted? Compares devices only for block-device filesystems, as upstream. */
function status(ctx: C, c: Conf, mounts: readonly Mount[]): Status {
  const dir = canonicalDir(c.dir, mounts);
  const at = mountsAt(mounts, dir);
  if (!at.length) return { state: "stopped", dir };
  const top = at[at.length - 1]!;
  if (!c.block) return { state: "mounted", dir, mount: top, device: undefined };
  const device = resolveDevice(ctx.run, c.spec);
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

function statusFileName(ctx: C): string {
  const clone = ctx.env.meta.clone;
  return `${ctx.params.statusfile_prefix}${ctx.env.instance}${clone !== undefined ? `_${clone}` : ""}_${ctx.nodeName}`;
}

/** Clone safety as upstream rates it: cluster filesystems yes; local ones only with force_clones; others only read-only. */
function cloneSafety(c: Conf, force: boolean): "safe" | "forced" | "readonly" | "unsafe" {
  if (CLUSTER_SAFE.has(c.fstype)) return "safe";
  if (LOCAL_ONLY.has(c.fstype)) return force ? "forced" : "unsafe";
  if (force) return "forced";
  return c.opts.includes("ro") ? "readonly" : "unsafe";
}

function checkClone(ctx: C, c: Conf): void {
  if (!ctx.env.meta.isClone) return;
  const s = cloneSafety(c, ctx.params.force_clones);
  if (s === "unsafe") {
    throw fail.configured(
      `DANGER! ${c.fstype} on ${ctx.params.device} is NOT cluster-aware: refusing to run it as a clone (data corruption); use gfs2/ocfs2, or set force_clones=true only if every node mounts its own device`,
    );
  }
  if (s === "forced") ctx.log.warn(`${c.fstype} on ${ctx.params.device} is NOT cluster-aware; running as a clone because force_clones is set`);
  if (s === "readonly") ctx.log.warn(`${c.fstype} on ${ctx.params.device} is NOT cluster-aware; running as a clone because it is mounted read-only`);
}

// ---- GFS2 guards ------------------------------------------------------------------------------

/**
 * Everything that makes a GFS2 mount fail (or worse) on a cluster, checked before mounting:
 * each failure is a reason an operator can act on, instead of what mount says (for a wrong
 * cluster name: "mount(2) system call failed: Invalid request descriptor", recorded in the lab).
 */
function gfs2Guards(ctx: C, c: Conf, dev: string, strictClone: boolean): void {
  let info;
  try {
    info = readGfs2(dev);
  } catch (e) {
    throw fail.generic(`cannot read the GFS2 superblock of ${dev}: ${(e as Error).message}`);
  }
  if (!info) throw fail.generic(`${dev} holds no GFS2 filesystem (no GFS2 superblock at 64 KiB) but fstype is gfs2`);
  const { lockProto, lockTable } = effectiveLocking(info.super, c.options);
  const meta = ctx.env.meta;

  if (lockProto === "lock_nolock") {
    if (meta.isClone && (meta.cloneMax === undefined || meta.cloneMax > 1)) {
      throw fail.configured(`GFS2 on ${dev} uses lock_nolock: only one node may mount it; do not clone it (or make it lock_dlm: tunegfs2 -o lockproto=lock_dlm)`);
    }
    return;
  }
  if (lockProto !== "lock_dlm") throw fail.configured(`GFS2 on ${dev} has lock protocol ${JSON.stringify(lockProto)}; expected lock_dlm (or lock_nolock)`);

  if (!meta.isClone) {
    const msg = `GFS2 with lock_dlm on ${dev} must run as a clone (one instance per node that mounts it)`;
    if (strictClone) throw fail.configured(msg);
    ctx.log.warn(`${msg}; no clone meta attributes were given, so this cannot be checked here`);
  }
  const table = splitLockTable(lockTable);
  if (!table) throw fail.configured(`GFS2 lock table ${JSON.stringify(lockTable)} on ${dev} is not CLUSTER:FSNAME`);

  const cn = clusterName(ctx.run);
  if (cn.name === undefined) throw fail.generic(`cannot find the corosync cluster name (${cn.source}): GFS2 with lock_dlm needs a running corosync`);
  if (cn.name !== table.cluster) {
    throw fail.configured(
      `GFS2 lock table ${lockTable} on ${dev} names cluster ${JSON.stringify(table.cluster)} but the corosync cluster is ${JSON.stringify(cn.name)} (from ${cn.source}); mount would fail; fix with: tunegfs2 -o locktable=${cn.name}:${table.fsname} ${dev}`,
    );
  }

  let journals = info.journals;
  if (journals === undefined) {
    const r = ctx.run.run("gfs2_edit", ["-p", "jindex", dev], { timeoutMs: 20000 });
    if (r.code === 0) journals = parseGfs2EditJindex(r.stdout);
  }
  if (journals === undefined) ctx.log.warn(`could not count the journals of ${dev}`);
  else if (meta.cloneMax !== undefined && journals < meta.cloneMax) {
    throw fail.configured(
      `GFS2 on ${dev} has ${journals} journal${journals === 1 ? "" : "s"} but clone-max is ${meta.cloneMax}: each node that mounts it needs its own journal; add them with gfs2_jadd -j ${meta.cloneMax - journals} MOUNTPOINT where it is mounted, or lower clone-max`,
    );
  }

  const dlm = dlmState(ctx.run);
  if (!dlm.installed) throw fail.installed("dlm_tool not found: GFS2 with lock_dlm needs dlm_controld (package dlm-controld, run as the ocf:pacemaker:controld clone)");
  if (!dlm.reachable) {
    const pids = dlmControldPids(ctx.env.paths.proc);
    throw fail.generic(
      pids.length
        ? `dlm_controld (pid ${pids.join(", ")}) does not answer dlm_tool ls: DLM is not ready on this node`
        : "dlm_controld is not running on this node (dlm_tool ls cannot reach it): start the ocf:pacemaker:controld clone first and order this clone after it",
    );
  }
}

// ---- start ------------------------------------------------------------------------------------

function fsSupport(ctx: C, fstype: string): void {
  if (fstype === "" || fstype === "none") return;
  const support = /^fuse\./.test(fstype) || fstype === "glusterfs" || fstype === "rozofs" ? "fuse" : fstype === "efs" || fstype === "aznfs" ? "nfs4" : fstype;
  if (kernelFilesystems().has(support)) return;
  const r = modprobe(ctx.run, support);
  if (r.code !== 0) {
    const why = r.missing ? "modprobe not found" : `modprobe ${support} failed: ${(r.stderr.trim() || `rc=${r.code}`).split("\n").pop()}`;
    throw fail.installed(`filesystem ${support} is not supported by this kernel (not in /proc/filesystems; ${why})`);
  }
  // A module can be loaded before it has registered its filesystem.
  for (let i = 0; i < 5 && !ctx.budget.expired(); i++) {
    if (kernelFilesystems().has(support)) return;
    sleepMs(Math.min(1000, ctx.budget.remainingMs()));
  }
  throw fail.installed(`filesystem ${support} is not in /proc/filesystems after modprobe ${support}`);
}

/** The block device node, waiting for it (udev, iSCSI login, DRBD) at most half the budget. */
function waitForDevice(ctx: C, c: Conf): string {
  const until = ctx.budget.elapsedMs() + ctx.budget.remainingMs() / 2;
  let logged = false;
  for (;;) {
    const dev = resolveDevice(ctx.run, c.spec);
    if (dev && isBlockDevice(dev)) return dev;
    if (ctx.budget.elapsedMs() >= until) {
      throw fail.installed(`couldn't find device ${showSpec(c.spec)}${dev && dev !== showSpec(c.spec) ? ` (${dev})` : ""}: not a block device on this node`);
    }
    if (!logged) ctx.log.info(`waiting for device ${showSpec(c.spec)}`);
    logged = true;
    sleepMs(Math.min(c.spec.kind === "path" ? 100 : 500, until - ctx.budget.elapsedMs()));
  }
}

function fsckNeeded(ctx: C, c: Conf): boolean {
  if (ctx.params.run_fsck === "force") return true;
  if (ctx.params.run_fsck === "no") return false;
  return !NO_FSCK.has(c.fstype);
}

function start(ctx: C): number {
  const c = conf(ctx);
  if (c.dir === "/") throw fail.configured("directory=/: / cannot be managed in a cluster");
  checkClone(ctx, c);

  const before = readMounts();
  const st = status(ctx, c, before);
  if (st.state === "mounted") {
    if (st.hiddenBy) throw fail.generic(`${st.hiddenBy.source} is mounted over ${st.dir}, hiding ${st.mount.source}`);
    ctx.log.info(`${st.dir} is already mounted`);
    return OCF.SUCCESS;
  }
  if (st.state === "foreign") throw fail.generic(`another device (${st.mount.source}) is mounted on ${st.dir}, not ${showSpec(c.spec)}`);
  const below = mountsBelow(before, st.dir);
  if (below.length) {
    throw fail.generic(`refusing to mount on ${st.dir}: something is mounted below it (${below.map((m) => m.mountPoint).slice(0, 5).join(", ")})`);
  }

  let source = ctx.params.device;
  if (c.block) {
    source = waitForDevice(ctx, c);
    // Configuration errors first (6, the same on every node), then what this node lacks.
    if (c.gfs2) gfs2Guards(ctx, c, source, true);
  }
  fsSupport(ctx, c.fstype);
  if (c.block) {
    const dev = source;
    if (fsckNeeded(ctx, c)) {
      ctx.log.info(`running fsck on ${dev}`);
      const f = fsck(ctx.run, dev, c.fstype);
      if (!f.ok) throw fail.generic(`couldn't successfully fsck ${dev}: ${describeFailure(f.result)}`);
    }
  }

  if (!existsSync(st.dir)) {
    try {
      mkdirSync(st.dir, { recursive: true, mode: 0o755 });
    } catch (e) {
      throw fail.installed(`couldn't create mount point ${st.dir}: ${(e as Error).message}`);
    }
  }
  if (!isDirectory(st.dir)) throw fail.installed(`mount point ${st.dir} is not a directory`);

  const r = mount(ctx.run, { fstype: c.fstype, options: c.options, device: source, dir: st.dir });
  if (r.code !== 0) throw fail.generic(`couldn't mount ${source} on ${st.dir}: ${describeFailure(r)}`);

  // Confirm: mount(8) can succeed yet leave something else visible (a racing mount, a helper
  // that mounted elsewhere); upstream never looks.
  const after = status(ctx, c, readMounts());
  if (after.state !== "mounted") {
    throw fail.generic(
      after.state === "foreign" ? `mount succeeded but ${after.mount.source} is what is mounted on ${after.dir}` : `mount reported success but nothing is mounted on ${after.dir}`,
    );
  }
  if (c.opts.includes("ro") && !isReadOnly(after.mount)) throw fail.generic(`${after.dir} was mounted read-write although options say ro`);
  ctx.log.info(`mounted ${source} on ${after.dir} (${after.mount.fstype})`);
  return OCF.SUCCESS;
}

// ---- monitor ----------------------------------------------------------------------------------

function monitor(ctx: C): number {
  const c = conf(ctx);
  if (c.dir === "/") {
    if (ctx.probe) return OCF.NOT_RUNNING;
    throw fail.configured("directory=/: / cannot be managed in a cluster");
  }
  const st = status(ctx, c, readMounts());
  if (st.state === "stopped") return OCF.NOT_RUNNING;
  if (st.state === "foreign") {
    const msg = `another device (${st.mount.source}) is mounted on ${st.dir}, not ${showSpec(c.spec)}`;
    if (ctx.probe) {
      ctx.log.info(`${msg}: not ours, so not running`);
      return OCF.NOT_RUNNING;
    }
    throw fail.generic(msg);
  }

  if (st.hiddenBy) throw fail.generic(`${st.hiddenBy.source} is mounted over ${st.dir}, hiding ${st.mount.source} from its users`);
  // A withdrawn GFS2 stays mounted but does no I/O: running in name only.
  if (st.mount.fstype === "gfs2" && gfs2Withdrawn(st.mount.major, st.mount.minor) === true) {
    throw fail.generic(`GFS2 on ${st.mount.source} (${st.dir}) has withdrawn after I/O or locking errors: it must be unmounted and checked with fsck.gfs2 on one node`);
  }

  if (ctx.level >= 10 && ctx.level < 20) {
    if (!c.block) {
      ctx.log.debug(`${ctx.params.device} is not a block device: monitor depth 10 has nothing to read`);
      return OCF.SUCCESS;
    }
    const dev = isBlockDevice(st.mount.source) ? st.mount.source : st.device;
    if (!dev) throw fail.generic(`cannot find the device of ${st.dir} to read`);
    try {
      readDirect(dev, 0);
    } catch (e) {
      throw fail.generic(`failed to read device ${dev}: ${(e as Error).message}`);
    }
  }

  if (ctx.level >= 20) {
    const file = join(st.dir, statusFileName(ctx));
    const want = new TextEncoder().encode(`${ctx.env.instance}\n`);
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
  return OCF.SUCCESS;
}

// ---- stop -------------------------------------------------------------------------------------

/** Remove this instance's status files on this node, for every clone number and depth. */
function removeStatusFiles(ctx: C, st: { dir: string; mount: Mount }, network: boolean): void {
  const rel = ctx.params.statusfile_prefix;
  const statusDir = join(st.dir, rel.endsWith("/") ? rel : dirname(rel));
  const base = rel.endsWith("/") ? "" : rel.split("/").pop()!;
  const exact = join(st.dir, statusFileName(ctx));
  const names = new Set<string>([exact]);
  if (!network) {
    // Anonymous clone numbers change between start and stop: any <instance>_<N>_<node> is ours.
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const re = new RegExp(`^${esc(base)}${esc(ctx.env.instance)}(?:_\\d+)?_${esc(ctx.nodeName)}$`);
    try {
      for (const n of readdirSync(statusDir)) if (re.test(n)) names.add(join(statusDir, n));
    } catch {
      /* no status directory: monitor depth 20 never ran */
    }
  }
  for (const f of names) {
    try {
      unlinkSync(f);
      ctx.log.debug(`removed status file ${f}`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT") ctx.log.warn(`failed to remove status file ${f}: ${code}`);
    }
  }
}

/**
 * What to unmount, in order: bind mounts of the same filesystem elsewhere (each after its own
 * submounts), our submounts deepest first, copies of ours stacked on our mount point, ours.
 */
function stopTargets(c: Conf, ours: Mount, mounts: readonly Mount[]): Mount[] {
  const out: Mount[] = [];
  const add = (m: Mount) => {
    if (!out.some((x) => x.id === m.id)) out.push(m);
  };
  if (c.block && !c.bind && ours.major !== 0) {
    // Never through a bind mount of our own source: "bind" resources leave the original alone.
    const binds = mounts.filter((m) => m.id !== ours.id && m.major === ours.major && m.minor === ours.minor && !isAtOrUnder(m.mountPoint, ours.mountPoint));
    for (const b of binds.reverse()) {
      mountsBelow(mounts, b.mountPoint).forEach(add);
      add(b);
    }
  }
  mountsBelow(mounts, ours.mountPoint).forEach(add);
  // Stacked mounts of the same filesystem on our mount point go first.
  mountsAt(mounts, ours.mountPoint)
    .filter((m) => m.id !== ours.id && m.major === ours.major && m.minor === ours.minor)
    .reverse()
    .forEach(add);
  add(ours);
  return out;
}

function stop(ctx: C): number {
  const c = conf(ctx);
  if (c.dir === "/") return OCF.SUCCESS;
  const mounts = readMounts();
  const st = status(ctx, c, mounts);
  if (st.state === "stopped") return OCF.SUCCESS;
  if (st.state === "foreign") {
    ctx.log.info(`another device (${st.mount.source}) is mounted on ${st.dir}: not ours, leaving it mounted`);
    return OCF.SUCCESS;
  }
  ctx.log.info(`unmounting ${st.dir} (${st.mount.source})`);
  removeStatusFiles(ctx, st, UMOUNT_FORCE.has(c.fstype));

  const term = parseSignalList(ctx.params.term_signals) ?? [];
  const kill = parseSignalList(ctx.params.kill_signals) ?? [];
  const delayMs = Number(ctx.params.signal_delay) * 1000;
  const fu = ctx.params.force_unmount;
  const signalling = !FALSE_WORDS.test(fu);

  // ONE budget for everything (upstream gives every submount the whole timeout again, so a
  // stop with submounts overruns its timeout and the node is fenced). TERM for the first half.
  // A little is kept back for the final scan that names the blocking pids.
  const reserve = Math.min(500, ctx.budget.remainingMs() * 0.1);
  const total = Math.max(0, ctx.params.fast_stop && !c.gfs2 ? Math.min(6000, ctx.budget.remainingMs() - reserve) : ctx.budget.remainingMs() - reserve);
  const t0 = ctx.budget.elapsedMs();
  const left = () => t0 + total - ctx.budget.elapsedMs();
  const termPhase = () => ctx.budget.elapsedMs() - t0 < total / 2;

  for (const target of stopTargets(c, st.mount, mounts)) {
    let last = "";
    let lastUsers: ReturnType<typeof findUsers> = [];
    for (let attempt = 0; ; attempt++) {
      if (!readMounts().some((m) => m.id === target.id)) break;
      if (left() <= 0) {
        const until = ctx.budget.elapsedMs() + reserve;
        const users = findUsers(target, readMounts(), { expired: () => ctx.budget.elapsedMs() >= until });
        const loops = loopBackedBy(target.mountPoint);
        const who = users.length
          ? `still used by pid${users.length === 1 ? "" : "s"} ${describeUsers(users)}`
          : lastUsers.length
            ? `last used by pids ${describeUsers(lastUsers)}`
            : `no process found using it${signalling ? "" : " (force_unmount=false: none signalled)"}`;
        throw fail.generic(
          `couldn't unmount ${target.mountPoint} within ${(total / 1000).toFixed(1)} s: ${who}${loops.length ? `; loop devices backed by files on it: ${loops.join(", ")}` : ""}; umount failed${last ? `: ${last}` : ""}`,
        );
      }
      // umount acts on the topmost mount of a path: never let that be somebody else's.
      const top = mountsAt(readMounts(), target.mountPoint).pop();
      if (top && top.id !== target.id && (top.major !== target.major || top.minor !== target.minor)) {
        throw fail.generic(`${top.source} is mounted over ${target.mountPoint}: not ours, so not unmounting it (unmount it, then stop again)`);
      }
      const r = umount(ctx.run, target.mountPoint, { force: !termPhase() && UMOUNT_FORCE.has(target.fstype), timeoutMs: left() });
      if (r.missing) throw fail.generic(`umount not found: cannot unmount ${target.mountPoint}`);
      const now = readMounts();
      if (!now.some((m) => m.id === target.id)) {
        ctx.log.info(`unmounted ${target.mountPoint}`);
        break;
      }
      last = r.timedOut ? "umount timed out" : (r.stderr.trim() || r.stdout.trim()).split("\n").pop() || last;
      if (attempt === 0) ctx.log.info(`couldn't unmount ${target.mountPoint}${last ? ` (${last})` : ""}; looking for processes using it`);
      if (left() <= 0) continue;
      const signalled: typeof lastUsers = [];
      if (signalling) {
        const sigs = termPhase() ? term : kill;
        const users = findUsers(target, now, { expired: () => left() <= 0 });
        if (users.length) lastUsers = users;
        for (const u of users) {
          for (const sig of sigs) {
            if (signalSame(u, sig.number)) {
              if (!signalled.includes(u)) signalled.push(u);
              ctx.log.info(`sent ${sig.name} to pid ${u.pid} (${u.comm}: ${u.uses.map((x) => `${x.what} ${x.path}`).join(", ")}): ${describeProcess(u.pid)}`);
            }
          }
        }
        if (!users.length) ctx.log.info(`no process uses ${target.mountPoint}; retrying the unmount`);
      }
      // signal_delay is an upper bound: retry as soon as every signalled process has exited.
      const until = ctx.budget.elapsedMs() + Math.max(0, Math.min(signalled.length ? delayMs : 250, left()));
      do sleepMs(Math.min(signalled.length ? 10 : 250, until - ctx.budget.elapsedMs()));
      while (ctx.budget.elapsedMs() < until && (!signalled.length || signalled.some(stillRunning)));
    }
  }
  return OCF.SUCCESS;
}

// ---- validate ---------------------------------------------------------------------------------

function validate(ctx: C): void {
  const c = conf(ctx);
  const stopping = ctx.action === "stop";
  // Parameter logic (level 0, before every action). Never refuse a stop over it: whatever is
  // mounted must still come down.
  if (!stopping && c.gfs2) {
    if (ctx.params.run_fsck === "force") throw fail.configured("run_fsck=force is refused for gfs2: fsck while other nodes have it mounted destroys it");
    if (ctx.params.fast_stop && ctx.given.has("fast_stop")) throw fail.configured("fast_stop is refused for gfs2: a GFS2 unmount waits for the cluster and must get the whole stop timeout");
  }
  if (!stopping && !(ctx.action === "monitor" && ctx.probe) && c.dir === "/") throw fail.configured("directory=/: / cannot be managed in a cluster");
  if (ctx.level < 10) return;

  // validate-all level 10: what this node can check without changing anything; configuration
  // errors (6) before what this node lacks (5), as in start.
  checkClone(ctx, c);
  if (c.block) {
    const dev = resolveDevice(ctx.run, c.spec);
    if (!dev || !isBlockDevice(dev)) throw fail.installed(`couldn't find device ${showSpec(c.spec)} on this node`);
    // crm_resource --validate passes no clone meta: only insist on a clone when run by the cluster.
    if (c.gfs2) gfs2Guards(ctx, c, dev, ctx.env.meta.isClone || ctx.env.meta.onNode !== undefined);
  }
  for (const tool of ["mount", "umount"]) {
    if (!["/usr/sbin", "/usr/bin", "/sbin", "/bin"].some((d) => existsSync(join(d, tool)))) throw fail.installed(`${tool} not found`);
  }
  if (c.fstype !== "none") {
    const support = /^fuse\./.test(c.fstype) ? "fuse" : c.fstype;
    if (!kernelFilesystems().has(support) && !hasModule(support)) throw fail.installed(`filesystem ${support} is not supported by this kernel (not in /proc/filesystems, no module)`);
  }
}

/** A module for `name` in this kernel's modules.dep (upstream's validate-all check). */
function hasModule(name: string): boolean {
  try {
    const rel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
    return new RegExp(`/${name.replace(/[^\w-]/g, "")}\\.ko(\\.[a-z]+)?:`).test(readFileSync(`/lib/modules/${rel}/modules.dep`, "utf8"));
  } catch {
    return false;
  }
}

export const agent = defineHandlers(decl, { start, stop, monitor, validate });
