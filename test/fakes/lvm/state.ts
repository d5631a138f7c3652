// The fake LVM world shared by the fake tools (lvm, vgs, lvs, vgchange, lvchange, lvmlockctl,
// dlm_tool, dmsetup, sanlock) and the fake daemons: one JSON file, plus the device-mapper state
// projected where the agents read it (/sys/block/dm-N/dm/*, /dev/mapper/NAME). Tests run all of
// it inside a private mount namespace with tmpfs on /run, /sys/block and /dev/mapper, so the
// compiled-in paths (/run/lvmlockd.pid, /run/lvm/lvmlockd.socket) are the real ones.

import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, rmdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { LvmConfig } from "../../../lib/lvm/conf.js";
import { sleepMs } from "../../../lib/system/run.js";
import { err, out } from "../lib.js";

export interface FLv {
  uuid: string;
  size_m: number;
  /** "" inactive here; "ex"/"sh" with lvmlockd; "local" otherwise */
  active: "" | "ex" | "sh" | "local";
  /** size of the device-mapper table (lags behind size_m until lvchange --refresh) */
  dm_size_m?: number;
  minor?: number;
  /** open count (a mounted file system): -an fails while > 0 */
  open?: number;
  /** a lock another node holds: -aey fails on "ex"/"sh", -asy on "ex" */
  remote?: "" | "ex" | "sh";
  tags?: string[];
}

export interface FVg {
  uuid: string;
  lock_type: "" | "dlm" | "sanlock" | "clvm";
  lock_args: string;
  systemid: string;
  tags: string[];
  partial: boolean;
  autoactivation: boolean;
  size_m: number;
  pvs: string[];
  lvs: Record<string, FLv>;
}

export interface Lockspace {
  lm_type: string;
  vg_uuid: string;
  host_id: number;
}

/** Make the next matching invocations of a tool fail or hang. */
export interface Fault {
  tool: string;
  /** regular expression matched against the argv joined with spaces */
  args?: string;
  /** how many more times (-1: always) */
  times: number;
  code: number;
  stdout?: string;
  stderr?: string;
  sleepMs?: number;
}

export interface State {
  vgs: Record<string, FVg>;
  /** owned by lvmlockd: "" is the global lockspace */
  lockspaces: Record<string, Lockspace>;
  faults: Fault[];
  /** after a lock start, this many activations of that VG see "lock start in progress" */
  lockStartDelay: number;
  pendingStart: Record<string, number>;
  /** fake lvmlockd: ignore SIGTERM (as the real one does with lockspaces left) */
  lockdIgnoreTerm: boolean;
  nextMinor: number;
  clusterName: string;
}

export const STATE_DIR = () => process.env.TSSTOR_FAKE_LVM || "/run/tsstor-fake-lvm";
const STATE = () => join(STATE_DIR(), "state.json");
export const SYS_BLOCK = "/sys/block";
export const DEV_MAPPER = "/dev/mapper";
export const LOCKD_PIDFILE = "/run/lvmlockd.pid";
export const LOCKD_SOCKET = "/run/lvm/lvmlockd.socket";
export const DLM_PIDFILE = "/var/run/dlm_controld/dlm_controld.pid";
export const SANLOCK_PIDFILE = "/run/sanlock/sanlock.pid";
export const WDMD_PIDFILE = "/var/run/wdmd/wdmd.pid";

export function emptyState(): State {
  return { vgs: {}, lockspaces: {}, faults: [], lockStartDelay: 0, pendingStart: {}, lockdIgnoreTerm: false, nextMinor: 0, clusterName: "tslclu" };
}

export function load(): State {
  try {
    return { ...emptyState(), ...(JSON.parse(readFileSync(STATE(), "utf8")) as State) };
  } catch {
    return emptyState();
  }
}

export function save(s: State): void {
  mkdirSync(STATE_DIR(), { recursive: true });
  const tmp = `${STATE()}.${process.pid}`;
  writeFileSync(tmp, JSON.stringify(s, null, 1));
  renameSync(tmp, STATE());
}

/** Read-modify-write under a lock directory (fakes may run concurrently). */
export function update<T>(fn: (s: State) => T): T {
  mkdirSync(STATE_DIR(), { recursive: true });
  const lock = join(STATE_DIR(), "state.lock");
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (i > 400) rmSync(lock, { recursive: true, force: true });
      sleepMs(5);
    }
  }
  try {
    const s = load();
    const r = fn(s);
    save(s);
    return r;
  } finally {
    rmdirSync(lock);
  }
}

/** Apply the first matching fault; returns the exit code to end with, or undefined. */
export function fault(tool: string, args: string[]): number | undefined {
  if (!existsSync(STATE())) return undefined;
  const joined = args.join(" ");
  const f = update((s) => {
    const i = s.faults.findIndex((x) => x.tool === tool && x.times !== 0 && (!x.args || new RegExp(x.args).test(joined)));
    if (i < 0) return undefined;
    const hit = { ...s.faults[i]! };
    if (s.faults[i]!.times > 0) s.faults[i]!.times--;
    return hit;
  });
  if (!f) return undefined;
  if (f.sleepMs) sleepMs(f.sleepMs);
  if (f.stdout) out(f.stdout);
  if (f.stderr) err(f.stderr);
  return f.code;
}

// ---- processes --------------------------------------------------------------------------------

export function comm(pid: number): string | undefined {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, "utf8");
    if (/\) [ZX] /.test(st)) return undefined;
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
}

export function livePid(pidfile: string, name: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidfile, "utf8").trim());
    return comm(pid) === name ? pid : undefined;
  } catch {
    return undefined;
  }
}

// ---- configuration ----------------------------------------------------------------------------

export function conf(): LvmConfig {
  return new LvmConfig(process.env.LVM_SYSTEM_DIR || "/etc/lvm");
}

export function useLvmlockd(): boolean {
  return conf().int("global/use_lvmlockd") === 1;
}

export function localSystemId(): string {
  const c = conf();
  const src = c.get("global/system_id_source")?.value;
  if (src === "uname") return hostname();
  if (src === "lvmlocal") return String(c.get("local/system_id")?.value ?? "");
  return "";
}

// ---- device-mapper projection -----------------------------------------------------------------

export function dmName(vg: string, lv: string): string {
  return `${vg.replace(/-/g, "--")}-${lv.replace(/-/g, "--")}`;
}

const compact = (u: string) => u.replace(/-/g, "");

export function dmCreate(s: State, vg: string, lv: string): void {
  const v = s.vgs[vg]!;
  const l = v.lvs[lv]!;
  if (l.minor === undefined) {
    // the kernel hands out the lowest free minor
    const used = new Set(Object.values(s.vgs).flatMap((x) => Object.values(x.lvs).map((y) => y.minor)));
    let m = 0;
    while (used.has(m)) m++;
    l.minor = m;
  }
  l.dm_size_m = l.size_m;
  const k = join(SYS_BLOCK, `dm-${l.minor}`);
  mkdirSync(join(k, "dm"), { recursive: true });
  writeFileSync(join(k, "dm", "name"), `${dmName(vg, lv)}\n`);
  writeFileSync(join(k, "dm", "uuid"), `LVM-${compact(v.uuid)}${compact(l.uuid)}\n`);
  writeFileSync(join(k, "dm", "suspended"), "0\n");
  writeFileSync(join(k, "size"), `${l.size_m * 2048}\n`);
  writeFileSync(join(k, "dev"), `253:${l.minor}\n`);
  mkdirSync(DEV_MAPPER, { recursive: true });
  writeFileSync(join(DEV_MAPPER, dmName(vg, lv)), Buffer.alloc(4096, 0xab));
}

export function dmRemove(s: State, vg: string, lv: string): void {
  const l = s.vgs[vg]?.lvs[lv];
  if (l?.minor !== undefined) rmSync(join(SYS_BLOCK, `dm-${l.minor}`), { recursive: true, force: true });
  rmSync(join(DEV_MAPPER, dmName(vg, lv)), { force: true });
  if (l) {
    l.minor = undefined;
    l.dm_size_m = undefined;
  }
}

export function uuid(): string {
  const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let x = "";
  for (let i = 0; i < 32; i++) x += a[Math.floor(Math.random() * a.length)];
  return [x.slice(0, 6), x.slice(6, 10), x.slice(10, 14), x.slice(14, 18), x.slice(18, 22), x.slice(22, 26), x.slice(26, 32)].join("-");
}
