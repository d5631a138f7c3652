// Who keeps a mount busy: processes whose cwd, root, executable, open files or memory maps are
// on it. Replaces `fuser -m`, which stats every open file (and blocks on a dead NFS server) and
// matches by device, so on a bind mount of / it names every process on the node (#1304).
//
// Only /proc is read: symlinks with readlink (never followed), fdinfo and maps as text. Nothing
// on the mount itself is touched. A use counts only when it is provably on the target mount:
//  - open files: the `mnt_id` in /proc/PID/fdinfo/N equals the mount's id (exact, any namespace);
//  - cwd, root, exe, maps: the path lies on the target by longest mount-point prefix, and only
//    for processes in our mount namespace (in another one the same path names another mount);
//    maps also need the device number to match.
// So a process using the same filesystem through another mount is never named.

import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { procStartTime, procStat } from "../system/proc.js";
import { owningMount, unescapeOctal, type Mount } from "./mounts.js";

export interface Use {
  /** "cwd", "root", "exe", "fd 3", "mmap" */
  what: string;
  path: string;
}

export interface User {
  pid: number;
  comm: string;
  /** /proc/PID/stat start time: with pid, the ProcessId signalSame() re-checks (pids are reused) */
  start: string;
  /** process state letter (R, S, D...): D (uninterruptible, e.g. I/O on a dead device) ignores even KILL */
  state: string;
  uses: Use[];
}

export interface ScanOpts {
  /** /proc, movable for tests */
  proc?: string;
  /** pids never reported (ourselves; pid 1 always) */
  exclude?: number[];
  /** stop scanning (returning what was found so far) once this says so: the stop budget */
  expired?: () => boolean;
}

function link(p: string): string | undefined {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
}

function read(p: string): string | undefined {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return undefined;
  }
}

const PF_KTHREAD = 0x00200000;

/** The link target as printed, without the " (deleted)" suffix. */
function stripDeleted(p: string): string {
  return p.endsWith(" (deleted)") ? p.slice(0, -" (deleted)".length) : p;
}

/** `mnt_id:` from /proc/PID/fdinfo/N. */
export function fdinfoMntId(text: string): number | undefined {
  const m = /^mnt_id:\s*(\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Paths of file-backed mappings in /proc/PID/maps with their device, deduplicated. */
export function parseMaps(text: string): Array<{ dev: string; path: string }> {
  const seen = new Set<string>();
  const out: Array<{ dev: string; path: string }> = [];
  for (const line of text.split("\n")) {
    // 7f2c...-7f2c... r-xp 00000000 07:00 12   /mnt/x/lib.so
    const m = /^\S+ \S+ \S+ ([0-9a-f]+:[0-9a-f]+) (\d+)\s+(\/.*)$/.exec(line);
    if (!m || m[2] === "0") continue;
    const key = `${m[1]} ${m[3]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ dev: m[1]!, path: stripDeleted(unescapeOctal(m[3]!)) });
  }
  return out;
}

function devOf(m: Mount): string {
  return `${m.major.toString(16).padStart(2, "0")}:${m.minor.toString(16).padStart(2, "0")}`;
}

/** Processes using `target` (a mount from `all`, the table of our namespace). */
export function findUsers(target: Mount, all: readonly Mount[], o: ScanOpts = {}): User[] {
  const proc = o.proc ?? "/proc";
  const exclude = new Set([1, process.pid, ...(o.exclude ?? [])]);
  const myNs = link(`${proc}/self/ns/mnt`);
  const on = (p: string | undefined) => p !== undefined && p.startsWith("/") && owningMount(all, stripDeleted(p))?.id === target.id;
  const targetDev = devOf(target);
  const users: User[] = [];

  let pids: number[];
  try {
    pids = readdirSync(proc).filter((n) => /^\d+$/.test(n)).map(Number);
  } catch {
    return users;
  }
  for (const pid of pids) {
    if (o.expired?.()) break;
    if (exclude.has(pid)) continue;
    const st = procStat(pid, proc);
    if (!st || st.state === "Z" || st.state === "X" || st.flags & PF_KTHREAD) continue;
    const base = `${proc}/${pid}`;
    const sameNs = myNs !== undefined && link(`${base}/ns/mnt`) === myNs;
    const uses: Use[] = [];

    if (sameNs) {
      for (const what of ["cwd", "root", "exe"]) {
        const p = link(`${base}/${what}`);
        if (on(p)) uses.push({ what, path: stripDeleted(p!) });
      }
    }

    let fds: string[] = [];
    try {
      fds = readdirSync(`${base}/fd`);
    } catch {
      /* gone, or fds closed meanwhile */
    }
    for (const fd of fds) {
      const p = link(`${base}/fd/${fd}`);
      if (p === undefined || !p.startsWith("/")) continue; // sockets, pipes, anon inodes
      // In our namespace the path must point at the target before we pay for fdinfo.
      if (sameNs && !on(p)) continue;
      const id = fdinfoMntId(read(`${base}/fdinfo/${fd}`) ?? "");
      if (id === target.id) uses.push({ what: `fd ${fd}`, path: stripDeleted(p) });
    }

    if (sameNs) {
      // Reading maps takes the target's mmap lock; it is killable and does not touch the fs.
      const maps = read(`${base}/maps`) ?? "";
      // Most processes map nothing from the target's device: skip parsing their maps.
      const candidates = target.major !== 0 && !maps.includes(` ${targetDev} `) ? [] : parseMaps(maps);
      for (const m of candidates) {
        if ((m.dev === targetDev || target.major === 0) && on(m.path)) uses.push({ what: "mmap", path: m.path });
      }
    }

    if (uses.length) {
      const start = procStartTime(pid);
      if (start === undefined) continue; // exited meanwhile
      users.push({ pid, comm: (read(`${base}/comm`) ?? "?").trim(), start, state: st.state, uses });
    }
  }
  return users;
}

/** "123 (sleep: cwd), 456 (python3: fd 3, mmap)" for logs and exit reasons. */
export function describeUsers(users: readonly User[], max = 10): string {
  const shown = users
    .slice(0, max)
    .map((u) => `${u.pid} (${u.comm}: ${[...new Set(u.uses.map((x) => x.what.replace(/^fd \d+$/, "open file")))].join(", ")}${u.state === "D" ? "; in uninterruptible I/O, unkillable" : ""})`);
  return shown.join(", ") + (users.length > max ? ` and ${users.length - max} more` : "");
}

/** A one-line ps-like description for the log before a process is signalled. */
export function describeProcess(pid: number, proc = "/proc"): string {
  const cmd = (read(`${proc}/${pid}/cmdline`) ?? "").split("\0").filter(Boolean).join(" ");
  return cmd.length > 120 ? `${cmd.slice(0, 120)}...` : cmd;
}

