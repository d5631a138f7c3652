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
// The procedures are in lib/fs/ (filesystem.ts, unmount.ts, gfs2-guards.ts).

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { defineHandlers, type Ctx } from "../lib/ocf/runner.js";
import { defineAgent, p, plainActions } from "../lib/ocf/declaration.js";
import { OCF, fail } from "../lib/ocf/codes.js";
import { gfs2Withdrawn } from "../lib/fs/gfs2.js";
import { gfs2Guards } from "../lib/fs/gfs2-guards.js";
import { describeFailure, fsck, isBlockDevice, isDirectory, isReadOnly, kernelFilesystems, mount, mountsBelow, normalizePath, parseDeviceSpec, readMounts, resolveDevice, showSpec } from "../lib/fs/mounts.js";
import {
  cloneSafety, fsSupport, hasModule, mountStatus, NO_FSCK, NOT_BLOCK, readCheck, removeStatusFiles, statusFileCheck, statusFileName, UMOUNT_FORCE, waitForDevice,
  type FsConf, type StatusFile,
} from "../lib/fs/filesystem.js";
import { stopTargets, unmountAll } from "../lib/fs/unmount.js";
import { parseSignalList, signalListError } from "../lib/system/signals.js";

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
  actions: plainActions({ start: 60, stop: 60, monitor: { timeout: 40, interval: 20 }, validate: 20, metaData: 5 }),
  monitorDepths: [0, 10, 20],
});

type C = Ctx<typeof decl.params>;

// ---- the configuration, derived once per action --------------------------------------------

function conf(ctx: C): FsConf {
  const { device, directory, fstype, options } = ctx.params;
  const opts = options.split(",").filter(Boolean);
  const spec = parseDeviceSpec(device);
  const block = !NOT_BLOCK.has(fstype) && !opts.includes("loop") && !(spec.kind === "path" && isDirectory(spec.path));
  return { dir: normalizePath(directory), spec, fstype, options, opts, block, bind: opts.includes("bind"), gfs2: fstype === "gfs2" };
}

const statusFile = (ctx: C): StatusFile => ({ prefix: ctx.params.statusfile_prefix, instance: ctx.env.instance, clone: ctx.env.meta.clone, node: ctx.nodeName });

function checkClone(ctx: C, c: FsConf): void {
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

// ---- start ------------------------------------------------------------------------------------

function fsckNeeded(ctx: C, c: FsConf): boolean {
  if (ctx.params.run_fsck === "force") return true;
  if (ctx.params.run_fsck === "no") return false;
  return !NO_FSCK.has(c.fstype);
}

function start(ctx: C): number {
  const c = conf(ctx);
  if (c.dir === "/") throw fail.configured("directory=/: / cannot be managed in a cluster");
  checkClone(ctx, c);

  const before = readMounts();
  const st = mountStatus(ctx, c, before);
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
    if (c.gfs2) gfs2Guards(ctx, source, c.options, true);
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
  const after = mountStatus(ctx, c, readMounts());
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
  const st = mountStatus(ctx, c, readMounts());
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
    readCheck(dev);
  }

  if (ctx.level >= 20) {
    statusFileCheck(join(st.dir, statusFileName(statusFile(ctx))), ctx.env.instance);
  }
  return OCF.SUCCESS;
}

// ---- stop -------------------------------------------------------------------------------------

function stop(ctx: C): number {
  const c = conf(ctx);
  if (c.dir === "/") return OCF.SUCCESS;
  const mounts = readMounts();
  const st = mountStatus(ctx, c, mounts);
  if (st.state === "stopped") return OCF.SUCCESS;
  if (st.state === "foreign") {
    ctx.log.info(`another device (${st.mount.source}) is mounted on ${st.dir}: not ours, leaving it mounted`);
    return OCF.SUCCESS;
  }
  ctx.log.info(`unmounting ${st.dir} (${st.mount.source})`);
  removeStatusFiles(ctx, statusFile(ctx), st, UMOUNT_FORCE.has(c.fstype));

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
  unmountAll(ctx, stopTargets(c, st.mount, mounts), { term, kill, delayMs, signalling, total, reserve });
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
    if (c.gfs2) gfs2Guards(ctx, dev, c.options, ctx.env.meta.isClone || ctx.env.meta.onNode !== undefined);
  }
  for (const tool of ["mount", "umount"]) {
    if (!["/usr/sbin", "/usr/bin", "/sbin", "/bin"].some((d) => existsSync(join(d, tool)))) throw fail.installed(`${tool} not found`);
  }
  if (c.fstype !== "none") {
    const support = /^fuse\./.test(c.fstype) ? "fuse" : c.fstype;
    if (!kernelFilesystems().has(support) && !hasModule(support)) throw fail.installed(`filesystem ${support} is not supported by this kernel (not in /proc/filesystems, no module)`);
  }
}

export const agent = defineHandlers(decl, { start, stop, monitor, validate });
