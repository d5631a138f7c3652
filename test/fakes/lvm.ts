// Fakes of the cluster LVM stack for hosts without device-mapper and DLM: lvm (vgs, lvs, vgchange,
// lvchange, pvscan, vgscan, lvmconfig), lvmlockd + lvmlockctl, dlm_controld + dlm_tool, sanlock,
// wdmd, dmsetup, clvmd/cmirrord. They keep one state file (test/fakes/lvm/state.ts), print the
// formats of LVM 2.03.16 / dlm 4.2 / sanlock 3.8 (test/recordings/lvm2-2.03.16-testmode/), and
// honour faults from the state file so tests reach every exit path. Tests run them inside a
// private mount namespace (test/lvm/world.ts): the compiled-in /run paths are the real ones.

import { sleepMs } from "../../lib/system/run.js";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { hostname } from "node:os";
import { request } from "./lvm/client.js";
import {
  DLM_PIDFILE, LOCKD_PIDFILE, LOCKD_SOCKET, SANLOCK_PIDFILE, STATE_DIR, SYS_BLOCK, WDMD_PIDFILE,
  conf, dmCreate, dmName, dmRemove, fault, livePid, load, localSystemId, update, useLvmlockd,
  type FLv, type FVg, type State,
} from "./lvm/state.js";
import { fakes as fsFakes } from "./fs-cluster.js";
import { err, out, type FakeMain } from "./lib.js";


// ---- daemons ----------------------------------------------------------------------------------

/** Start the fake daemon process named `name` (like the real ones: fork, parent exits when ready). */
function launch(name: string, kind: string, pidfile: string, socket?: string): number {
  // exec'd under the daemon's own name so /proc/PID/comm matches, as the agents check
  const bin = join(STATE_DIR(), "bin");
  mkdirSync(bin, { recursive: true });
  const self = join(bin, name);
  if (!existsSync(self)) symlinkSync(process.execPath, self);
  const script = resolve(dirname(process.execPath), "../../../test/fakes/lvm/daemon.ts");
  const child = spawn(self, ["run", script, kind, pidfile, ...(socket ? [socket] : [])], {
    env: { ...process.env, BUN_BE_BUN: "1" },
    stdio: "ignore",
    detached: true,
  });
  child.unref();
  for (let i = 0; i < 400; i++) {
    if (livePid(pidfile, name) !== undefined && (!socket || existsSync(socket))) return 0;
    if (child.exitCode !== null) break;
    sleepMs(25);
  }
  err(`${name}: daemon failed to start\n`);
  return 1;
}

function simpleDaemon(name: string, pidfile: string): FakeMain {
  return (args) => {
    const c = fault(name, args);
    if (c !== undefined) return c;
    if (livePid(pidfile, name) !== undefined) {
      err(`${name} is already running\n`);
      return 1;
    }
    return launch(name, name, pidfile);
  };
}

function lvmlockd(args: string[]): number {
  const c = fault("lvmlockd", args);
  if (c !== undefined) return c;
  let pidfile = LOCKD_PIDFILE;
  let socket = LOCKD_SOCKET;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-p" || a === "--pid-file") pidfile = args[++i]!;
    else if (a === "-s" || a === "--socket-path") socket = args[++i]!;
    else if (a === "-g" || a === "--gl-type") {
      const g = args[++i];
      if (g !== "dlm" && g !== "sanlock") {
        err(`lvmlockd: invalid gl-type ${g}\n`);
        return 1;
      }
    } else if (a === "-i" || a === "-F") {
      // lvm2 2.03.16: --help lists -i and -F, getopt's short options lack them (seen in the lab VM)
      err(`lvmlockd: invalid option -- '${a.slice(1)}'\n`);
      return 1;
    } else if (["-S", "--syslog-priority", "-A", "--adopt", "--host-id", "--host-id-file", "-o", "--sanlock-timeout", "--adopt-file"].includes(a)) i++;
    else if (a === "-h" || a === "--help") {
      out("Usage:\nlvmlockd [options]\n");
      return 0;
    }
  }
  if (livePid(pidfile, "lvmlockd") !== undefined) {
    err(`Failed to acquire lock on ${pidfile}. Already running?\n`);
    return 1;
  }
  return launch("lvmlockd", "lvmlockd", pidfile, socket);
}

// ---- lvmlockctl -------------------------------------------------------------------------------

/** lvmlockctl's szscanf: %s skips blanks and takes non-blanks; a literal mismatch ends the scan. */
function szscanf(input: string, format: string): string[] {
  const outv: string[] = [];
  let i = 0;
  let f = 0;
  while (f < format.length) {
    if (format[f] === "%") {
      f += 2;
      while (i < input.length && /\s/.test(input[i]!)) i++;
      let v = "";
      while (i < input.length && !/\s/.test(input[i]!)) v += input[i++];
      if (!v) break;
      outv.push(v);
    } else if (/\s/.test(format[f]!)) {
      while (i < input.length && /\s/.test(input[i]!)) i++;
      f++;
    } else if (format[f] === input[i]) {
      f++;
      i++;
    } else break;
  }
  return outv;
}

function formatInfo(dump: string): string {
  let o = "";
  let first = true;
  let rName = "";
  let rType = "";
  for (const line of dump.split("\n")) {
    if (!line || line.startsWith("info=structs ") || line.startsWith("info=client ")) continue;
    if (line.startsWith("info=ls ")) {
      const [ls = "", vg = "", vgUuid = "", , , lm = ""] = szscanf(line, "info=ls ls_name=%s vg_name=%s vg_uuid=%s vg_sysid=%s vg_args=%s lm_type=%s");
      if (!first) o += "\n";
      first = false;
      o += `VG ${vg} lock_type=${lm} ${vgUuid}\nLS ${lm} ${ls}\n`;
    } else if (line.startsWith("info=r ")) {
      const [name = "", type = "", mode = "", , ver = "0"] = szscanf(line, "info=r name=%s type=%s mode=%s sh_count=%d version=%u");
      rName = name;
      rType = type;
      if (mode !== "un") continue;
      if (type === "gl") o += `LK GL un ver ${ver}\n`;
      else if (type === "vg") o += `LK VG un ver ${ver}\n`;
      else if (type === "lv") o += `LK LV un ${name}\n`;
    } else if (line.startsWith("info=lk ")) {
      const [mode = "", ver = "0"] = szscanf(line, "info=lk mode=%s version=%u flags=%s client_id=%u");
      if (rType === "gl") o += `LK GL ${mode} ver ${ver} pid 0 ()\n`;
      else if (rType === "vg") o += `LK VG ${mode} ver ${ver} pid 0 ()\n`;
      else if (rType === "lv") o += `LK LV ${mode} ${rName}\n`;
    } else o += `UN ${line}\n`;
  }
  return o;
}

function lvmlockctl(args: string[]): number {
  const c = fault("lvmlockctl", args);
  if (c !== undefined) return c;
  if (!args.length) {
    out("lvmlockctl options\n");
    return 0;
  }
  const has = (...o: string[]) => args.some((a) => o.includes(a));
  const req = has("--info", "-i") ? (has("--dump", "-d") ? "dump" : "info") : has("--dump", "-d") ? "dump" : has("--stop-lockspaces", "-S") ? "stop_all" : has("--quit", "-q") ? "quit" : "hello";
  // lvmlockctl has the socket path compiled in (it ignores LVM_LVMLOCKD_SOCKET)
  const r = request(LOCKD_SOCKET, req);
  if (!r.ok) {
    err(`${LOCKD_SOCKET}: ${r.error}\n`);
    out("Cannot connect to lvmlockd.\n");
    return 255;
  }
  if (req === "info") out(formatInfo(r.answer));
  else if (req === "dump") out(`${r.answer}\n`);
  return 0;
}

// ---- LVM commands -----------------------------------------------------------------------------

const VALUE_OPTS = new Set([
  "-o", "--options", "--config", "-S", "--select", "--reportformat", "--separator", "--units", "--systemid", "--addtag", "--deltag",
  "--activationmode", "--locktype", "--lock-type", "--lockopt", "--setautoactivation", "--driverloaded", "-a", "--activate", "-O", "--sort", "--type", "--typeconfig",
]);

interface Args {
  opts: Map<string, string[]>;
  flags: Set<string>;
  pos: string[];
}

function parse(args: string[]): Args {
  const a: Args = { opts: new Map(), flags: new Set(), pos: [] };
  for (let i = 0; i < args.length; i++) {
    const x = args[i]!;
    if (x === "--") {
      a.pos.push(...args.slice(i + 1));
      break;
    }
    let m: RegExpExecArray | null;
    if ((m = /^-a(.+)$/.exec(x))) a.opts.set("-a", [m[1]!]);
    else if ((m = /^(--[a-z-]+)=(.*)$/.exec(x))) a.opts.set(m[1]!, [...(a.opts.get(m[1]!) ?? []), m[2]!]);
    else if (VALUE_OPTS.has(x)) a.opts.set(x, [...(a.opts.get(x) ?? []), args[++i] ?? ""]);
    else if (x.startsWith("-")) a.flags.add(x);
    else a.pos.push(x);
  }
  return a;
}
const opt = (a: Args, ...names: string[]) => names.map((n) => a.opts.get(n)?.at(-1)).find((v) => v !== undefined);
const flag = (a: Args, ...names: string[]) => names.some((n) => a.flags.has(n));

interface Ctx {
  use: boolean;
  /** lvmlockd's pid file exists (what LVM checks) */
  lockdPid: boolean;
  warned: boolean;
}

function preamble(): Ctx {
  const use = useLvmlockd();
  const lockdPid = existsSync(LOCKD_PIDFILE);
  if (use && !lockdPid) err("  WARNING: lvmlockd process is not running.\n");
  return { use, lockdPid, warned: use && !lockdPid };
}

function lockdAnswers(): boolean {
  return request(LOCKD_SOCKET, "hello").ok;
}

const shared = (v: FVg) => v.lock_type === "dlm" || v.lock_type === "sanlock";

function vgNotFound(vg: string): number {
  err(`  Volume group "${vg}" not found\n  Cannot process volume group ${vg}\n`);
  return 5;
}

function sizeStr(m: number): string {
  return m >= 1024 ? `${(m / 1024).toFixed(2)}g` : `${m.toFixed(2)}m`;
}

function vgAttr(v: FVg): string {
  return `wz-${v.partial ? "p" : "-"}n${v.lock_type === "clvm" ? "c" : shared(v) ? "s" : "-"}`;
}

function lvAttr(l: FLv): string {
  return `-wi-${l.active ? "a" : "-"}${l.open ? "o" : "-"}----`;
}

function vgRow(name: string, v: FVg): Record<string, string> {
  const used = Object.values(v.lvs).reduce((n, l) => n + l.size_m, 0);
  return {
    vg_name: name, vg_uuid: v.uuid, vg_lock_type: v.lock_type === "clvm" ? "" : v.lock_type, vg_lock_args: shared(v) ? v.lock_args : "", vg_systemid: v.systemid,
    vg_tags: v.tags.join(","), vg_attr: vgAttr(v), lv_count: String(Object.keys(v.lvs).length), pv_count: String(v.pvs.length), snap_count: "0",
    vg_size: sizeStr(v.size_m), vg_free: sizeStr(v.size_m - used), vg_clustered: v.lock_type === "clvm" ? "clustered" : "", vg_shared: shared(v) ? "shared" : "",
    vg_autoactivation: v.autoactivation ? "enabled" : "",
  };
}

function lvRow(vg: string, name: string, l: FLv): Record<string, string> {
  return {
    vg_name: vg, lv_name: name, lv_uuid: l.uuid, lv_attr: lvAttr(l), lv_active: l.active ? "active" : "", lv_size: sizeStr(l.size_m),
    lv_dm_path: `/dev/mapper/${dmName(vg, name)}`, lv_tags: (l.tags ?? []).join(","), lv_path: `/dev/${vg}/${name}`,
    lv_active_exclusively: l.active === "ex" || l.active === "local" ? "active exclusively" : "", lv_active_locally: l.active ? "active locally" : "",
  };
}

const ALIAS: Record<string, Record<string, string>> = {
  vg: { name: "vg_name", attr: "vg_attr", tags: "vg_tags", uuid: "vg_uuid", clustered: "vg_clustered", shared: "vg_shared", lock_type: "vg_lock_type", locktype: "vg_lock_type", lockargs: "vg_lock_args", lock_args: "vg_lock_args", systemid: "vg_systemid", autoactivation: "vg_autoactivation", size: "vg_size", free: "vg_free" },
  lv: { name: "lv_name", attr: "lv_attr", tags: "lv_tags", uuid: "lv_uuid", size: "lv_size", active: "lv_active", lock_type: "vg_lock_type" },
};
const HEAD: Record<string, string> = {
  vg_name: "VG", pv_count: "#PV", lv_count: "#LV", snap_count: "#SN", vg_attr: "Attr", vg_size: "VSize", vg_free: "VFree", vg_lock_type: "LockType", vg_lock_args: "VLockArgs",
  vg_systemid: "System ID", vg_tags: "VG Tags", vg_uuid: "VG UUID", vg_clustered: "Clustered", vg_shared: "Shared", vg_autoactivation: "AutoAct",
  lv_name: "LV", lv_attr: "Attr", lv_size: "LSize", lv_active: "Active", lv_uuid: "LV UUID", lv_dm_path: "DMPath", lv_tags: "LV Tags", lv_path: "Path",
  lv_active_exclusively: "ActExcl", lv_active_locally: "ActLocal",
};
const MINW: Record<string, number> = { lv_name: 4, data_percent: 6, metadata_percent: 6 };
const NUMERIC = new Set(["pv_count", "lv_count", "snap_count", "vg_size", "vg_free", "lv_size"]);
const DEFAULT_FIELDS = {
  vg: ["vg_name", "pv_count", "lv_count", "snap_count", "vg_attr", "vg_size", "vg_free"],
  lv: ["lv_name", "vg_name", "lv_attr", "lv_size", "pool_lv", "origin", "data_percent", "metadata_percent", "move_pv", "mirror_log", "copy_percent", "convert_lv"],
};
Object.assign(HEAD, { pool_lv: "Pool", origin: "Origin", data_percent: "Data%", metadata_percent: "Meta%", move_pv: "Move", mirror_log: "Log", copy_percent: "Cpy%Sync", convert_lv: "Convert" });

function report(kind: "vg" | "lv", a: Args, rows: Array<Record<string, string>>): void {
  const o = opt(a, "-o", "--options");
  let fields = DEFAULT_FIELDS[kind];
  if (o) {
    const list = o.replace(/^\+/, "").split(",").map((f) => ALIAS[kind]![f] ?? f);
    fields = o.startsWith("+") ? [...fields, ...list] : list;
  }
  const sel = opt(a, "-S", "--select");
  if (sel) {
    const conds = sel.split("&&").map((c) => c.trim().split("=").map((x) => x.trim()));
    rows = rows.filter((r) => conds.every(([k, v]) => (r[ALIAS[kind]![k!] ?? k!] ?? "") === v));
  }
  const val = (r: Record<string, string>, f: string) => r[f] ?? "";
  if (opt(a, "--reportformat") === "json") {
    const body = rows.map((r) => `                  {${fields.map((f) => `"${f}":${JSON.stringify(val(r, f))}`).join(", ")}}`).join(",\n");
    out(`  {\n      "report": [\n          {\n              "${kind}": [\n${body}${body ? "\n" : ""}              ]\n          }\n      ]\n  }\n`);
    return;
  }
  if (flag(a, "--nameprefixes")) {
    const key = (f: string) => `LVM2_${f.toUpperCase()}`;
    if (flag(a, "--rows")) for (const f of fields) out(`  ${key(f)}=${rows.map((r) => `'${val(r, f)}'`).join(" ")}\n`);
    else for (const r of rows) out(`  ${fields.map((f) => `${key(f)}='${val(r, f)}'`).join(" ")}\n`);
    return;
  }
  const sep = opt(a, "--separator");
  const heads = fields.map((f) => HEAD[f] ?? f);
  if (sep !== undefined) {
    if (!flag(a, "--noheadings")) out(`  ${heads.join(sep)}\n`);
    for (const r of rows) out(`  ${fields.map((f) => val(r, f)).join(sep)}\n`);
    return;
  }
  // LVM's column widths: the field's minimum width (columns.h), the heading, the longest value;
  // headings are left-aligned, numbers right-aligned
  const w = fields.map((f, i) => Math.max(MINW[f] ?? 0, heads[i]!.length, ...rows.map((r) => val(r, f).length)));
  const line = (cells: string[], head: boolean) => `  ${cells.map((c, i) => (!head && NUMERIC.has(fields[i]!) ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join(" ")}\n`;
  if (!flag(a, "--noheadings")) out(line(heads, true));
  for (const r of rows) out(line(fields.map((f) => val(r, f)), false));
}

function readWarn(ctx: Ctx, s: State, vg: string, a: Args): void {
  const v = s.vgs[vg];
  if (v && shared(v) && ctx.use && !flag(a, "--nolocking") && !s.lockspaces[vg]) err(`  Reading VG ${vg} without a lock.\n`);
}

function vgs(args: string[]): number {
  const c = fault("vgs", args);
  if (c !== undefined) return c;
  const a = parse(args);
  const ctx = preamble();
  const s = load();
  const names = a.pos.length ? a.pos : Object.keys(s.vgs).sort();
  const rows: Array<Record<string, string>> = [];
  let rc = 0;
  for (const n of names) {
    const v = s.vgs[n];
    if (!v) {
      rc = vgNotFound(n);
      continue;
    }
    readWarn(ctx, s, n, a);
    rows.push(vgRow(n, v));
  }
  report("vg", a, rows);
  return rc;
}

function lvs(args: string[]): number {
  const c = fault("lvs", args);
  if (c !== undefined) return c;
  const a = parse(args);
  const ctx = preamble();
  const s = load();
  const rows: Array<Record<string, string>> = [];
  let rc = 0;
  const targets = a.pos.length ? a.pos : Object.keys(s.vgs).sort();
  for (const t of targets) {
    const [vg, lv] = t.split("/") as [string, string | undefined];
    const v = s.vgs[vg];
    if (!v) {
      rc = vgNotFound(vg);
      continue;
    }
    readWarn(ctx, s, vg, a);
    if (lv !== undefined && !v.lvs[lv]) {
      err(`  Failed to find logical volume "${vg}/${lv}"\n`);
      rc = 5;
      continue;
    }
    for (const n of lv !== undefined ? [lv] : Object.keys(v.lvs).sort()) rows.push(lvRow(vg, n, v.lvs[n]!));
  }
  report("lv", a, rows);
  return rc;
}

/** Can this command use the VG's locks? Prints LVM's error and returns 5 if not. */
function lockAccess(ctx: Ctx, s: State, vg: string, v: FVg, forLvLock: boolean): number {
  if (!shared(v)) return 0;
  if (!ctx.use) {
    err(`  Cannot access VG ${vg} with lock type ${v.lock_type} that requires lvmlockd.\n`);
    return 5;
  }
  if (!ctx.lockdPid || !lockdAnswers()) {
    err(`  Cannot access VG ${vg} due to failed lock.\n`);
    return 5;
  }
  if (!s.lockspaces[vg]) {
    err(`  Cannot access VG ${vg} due to failed lock.\n`);
    return 5;
  }
  if (forLvLock && (s.pendingStart[vg] ?? 0) > 0) {
    s.pendingStart[vg]!--;
    err(`  VG ${vg} lock skipped: lock start in progress\n  Cannot access VG ${vg} due to failed lock.\n`);
    return 5;
  }
  return 0;
}

function foreignSystemId(s: State, vg: string, v: FVg, a: Args): number {
  if (!v.systemid || v.systemid === localSystemId()) return 0;
  const extra = /extra_system_ids=\["([^"]*)"\]/.exec(a.opts.get("--config")?.join(" ") ?? "")?.[1];
  if (extra === v.systemid) return 0;
  err(`  Cannot access VG ${vg} with system ID ${v.systemid} with local system ID ${localSystemId()}.\n`);
  return 5;
}

function activate(s: State, ctx: Ctx, a: Args, vg: string, lvNames: string[], mode: string): number {
  const v = s.vgs[vg]!;
  const deact = /^(n|ln)$/.test(mode);
  if (!deact) {
    const rc = lockAccess(ctx, s, vg, v, true) || foreignSystemId(s, vg, v, a);
    if (rc) return rc;
    if (v.partial && !flag(a, "--partial") && opt(a, "--activationmode") !== "partial") {
      err(`  Refusing activation of partial LV ${vg}/${lvNames[0]}.  Use '--activationmode partial' to override.\n`);
      return 5;
    }
    const vl = /volume_list=\[([^\]]*)\]/.exec(a.opts.get("--config")?.join(" ") ?? "")?.[1];
    if (vl !== undefined) {
      const allowed = [...vl.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
      if (!allowed.some((x) => x === vg || (x.startsWith("@") && v.tags.includes(x.slice(1))))) {
        // LVM skips it quietly and still exits 0
        return 0;
      }
    }
  }
  let rc = 0;
  for (const n of lvNames) {
    const l = v.lvs[n]!;
    if (deact) {
      if (!l.active) continue;
      if (l.open) {
        err(`  Logical volume ${vg}/${n} in use.\n`);
        rc = 5;
        continue;
      }
      l.active = "";
      dmRemove(s, vg, n);
      continue;
    }
    const want: FLv["active"] = !shared(v) ? "local" : mode === "sy" ? "sh" : "ex";
    if (shared(v) && (l.remote === "ex" || (want === "ex" && l.remote === "sh"))) {
      err(`  LV locked by other host: ${vg}/${n}\n`);
      rc = 5;
      continue;
    }
    if (l.active) continue; // already active here, in whatever mode: LVM does nothing (lab lvm/59)
    l.active = want;
    if (l.minor === undefined) dmCreate(s, vg, n);
  }
  return rc;
}

/** -a values: ey/e, sy/s, y, ay (auto), n, ln -> "ey" | "sy" | "y" | "n" */
function amode(m: string): string {
  if (m === "ey" || m === "e") return "ey";
  if (m === "sy" || m === "s") return "sy";
  return m.endsWith("n") ? "n" : "y";
}

function lvchange(args: string[]): number {
  const c = fault("lvchange", args);
  if (c !== undefined) return c;
  const a = parse(args);
  const ctx = preamble();
  return update((s) => {
    let rc = 0;
    for (const t of a.pos) {
      const [vg, lv] = t.replace(/^\/dev\//, "").split("/") as [string, string | undefined];
      const v = s.vgs[vg];
      if (!v) {
        rc = vgNotFound(vg);
        continue;
      }
      if (lv !== undefined && !v.lvs[lv]) {
        err(`  Failed to find logical volume "${vg}/${lv}"\n`);
        rc = 5;
        continue;
      }
      const names = lv !== undefined ? [lv] : Object.keys(v.lvs).filter((n) => n !== "lvmlock").sort();
      const mode = opt(a, "-a", "--activate");
      if (mode !== undefined) {
        rc = activate(s, ctx, a, vg, names, amode(mode)) || rc;
      } else if (flag(a, "--refresh")) {
        const r = lockAccess(ctx, s, vg, v, false);
        if (r) return r;
        for (const n of names) {
          const l = v.lvs[n]!;
          if (l.minor === undefined) continue;
          l.dm_size_m = l.size_m;
          const k = join(SYS_BLOCK, `dm-${l.minor}`, "size");
          if (existsSync(k)) writeFileSync(k, `${l.size_m * 2048}\n`);
        }
      }
    }
    return rc;
  });
}

function vgchange(args: string[]): number {
  const c = fault("vgchange", args);
  if (c !== undefined) return c;
  const a = parse(args);
  const ctx = preamble();
  const start = flag(a, "--lockstart", "--lock-start");
  const stop = flag(a, "--lockstop", "--lock-stop");
  if ((start || stop) && !ctx.use) {
    err("  Using lock start and lock stop requires lvmlockd.\n");
    return 0;
  }
  return update((s) => {
    const names = a.pos.length ? a.pos : Object.keys(s.vgs).sort();
    let rc = 0;
    if (start) {
      if (!ctx.lockdPid) {
        err("  Reading without shared global lock.\n");
        return 0;
      }
      if (!lockdAnswers()) {
        err("  Global lock failed: check that lvmlockd is running.\n");
        return 5;
      }
      for (const n of names) {
        const v = s.vgs[n];
        if (!v) {
          rc = vgNotFound(n);
          continue;
        }
        if (!shared(v) || s.lockspaces[n]) continue;
        if (v.lock_type === "dlm" && livePid(DLM_PIDFILE, "dlm_controld") === undefined) {
          err(`  VG ${n} start failed: lock manager dlm is not running\n`);
          rc = 5;
          continue;
        }
        if (v.lock_type === "sanlock" && livePid(SANLOCK_PIDFILE, "sanlock") === undefined) {
          err(`  VG ${n} start failed: lock manager sanlock is not running\n`);
          rc = 5;
          continue;
        }
        const hostId = conf().int("local/host_id") ?? 0;
        out(`  VG ${n} starting ${v.lock_type} lockspace\n`);
        if (v.lock_type === "dlm" && !s.lockspaces[""]) s.lockspaces[""] = { lm_type: "dlm", vg_uuid: "", host_id: 0 };
        s.lockspaces[n] = { lm_type: v.lock_type, vg_uuid: v.uuid, host_id: hostId };
        if (s.lockStartDelay) s.pendingStart[n] = s.lockStartDelay;
        if (v.lock_type === "sanlock" && v.lvs.lvmlock) {
          v.lvs.lvmlock.active = "local";
          dmCreate(s, n, "lvmlock");
        }
      }
      const sanlockVg = names.some((n) => s.vgs[n]?.lock_type === "sanlock");
      out(sanlockVg ? "  Starting locking.  Waiting for sanlock may take 20 sec to 3 min...\n" : "  Starting locking.  Waiting until locks are ready...\n");
      return rc;
    }
    if (stop) {
      if (!ctx.lockdPid || !lockdAnswers()) return 0;
      for (const n of names) {
        const v = s.vgs[n];
        if (!v) {
          rc = vgNotFound(n);
          continue;
        }
        if (!s.lockspaces[n]) continue;
        if (Object.entries(v.lvs).some(([ln, l]) => ln !== "lvmlock" && l.active)) {
          err(`  VG ${n} stop failed: LVs must first be deactivated\n`);
          rc = 5;
          continue;
        }
        delete s.lockspaces[n];
        if (v.lvs.lvmlock?.active) {
          v.lvs.lvmlock.active = "";
          dmRemove(s, n, "lvmlock");
        }
      }
      if (!Object.keys(s.lockspaces).some((k) => k !== "")) delete s.lockspaces[""];
      return rc;
    }
    for (const n of names) {
      const v = s.vgs[n];
      if (!v) {
        rc = vgNotFound(n);
        continue;
      }
      const mode = opt(a, "-a", "--activate");
      if (mode !== undefined) {
        const r = activate(s, ctx, a, n, Object.keys(v.lvs).filter((x) => x !== "lvmlock"), amode(mode));
        if (r === 0 || Object.values(v.lvs).some((l) => l.active)) out(`  ${Object.entries(v.lvs).filter(([ln, l]) => ln !== "lvmlock" && l.active).length} logical volume(s) in volume group "${n}" now active\n`);
        rc = r || rc;
        continue;
      }
      const r = lockAccess(ctx, s, n, v, false) || (opt(a, "--systemid") === undefined ? foreignSystemId(s, n, v, a) : 0);
      if (r) return r;
      const add = a.opts.get("--addtag") ?? [];
      const del = a.opts.get("--deltag") ?? [];
      v.tags = [...v.tags.filter((t) => !del.includes(t)), ...add.filter((t) => !v.tags.includes(t))];
      const sid = opt(a, "--systemid");
      if (sid !== undefined) {
        if (v.partial && !flag(a, "--majoritypvs")) {
          err(`  Cannot change system ID of VG ${n} with missing PVs.\n`);
          return 5;
        }
        if (foreignSystemId(s, n, v, a)) return 5;
        v.systemid = sid;
      }
      const aa = opt(a, "--setautoactivation");
      if (aa !== undefined) v.autoactivation = aa === "y";
      out(`  Volume group "${n}" successfully changed\n`);
    }
    return rc;
  });
}

function lvmconfig(args: string[]): number {
  const c = fault("lvmconfig", args);
  if (c !== undefined) return c;
  const a = parse(args);
  if (flag(a, "--version")) return version();
  const cf = conf();
  let rc = 0;
  for (const p of a.pos) {
    const st = cf.get(p);
    if (!st) {
      err(`  Configuration node ${p} not found\n`);
      rc = 5;
      continue;
    }
    const key = p.split("/").pop();
    const v = st.value;
    out(`${key}=${Array.isArray(v) ? `[${v.map((x) => JSON.stringify(x)).join(",")}]` : typeof v === "string" ? JSON.stringify(v) : v}\n`);
  }
  return rc;
}

function version(): number {
  out("  LVM version:     2.03.16(2) (2022-05-18)\n  Library version: 1.02.185 (2022-05-18)\n  Driver version:  4.47.0\n  Configuration:   ./configure --build=x86_64-linux-gnu --prefix=/usr\n");
  return 0;
}

function lvm(args: string[]): number {
  const [cmd, ...rest] = args;
  switch (cmd) {
    case "vgs":
      return vgs(rest);
    case "lvs":
      return lvs(rest);
    case "vgchange":
      return vgchange(rest);
    case "lvchange":
      return lvchange(rest);
    case "config":
    case "dumpconfig":
    case "lvmconfig":
      return lvmconfig(rest);
    case "version":
      return version();
    case "pvscan":
      return 0;
    case "vgscan":
      return vgscan(rest);
    case "systemid": {
      const c = fault("lvm", args);
      if (c !== undefined) return c;
      out(`  system ID: ${localSystemId()}\n`);
      return 0;
    }
    default:
      err(`  No such command '${cmd}'.  Try 'help'.\n`);
      return 3;
  }
}

function vgscan(args: string[]): number {
  const c = fault("vgscan", args);
  if (c !== undefined) return c;
  for (const n of Object.keys(load().vgs).sort()) out(`  Found volume group "${n}" using metadata type lvm2\n`);
  return 0;
}

// ---- dlm, sanlock, dmsetup --------------------------------------------------------------------

function dlmTool(args: string[]): number {
  // test/fakes/fs-cluster.ts answers for the Filesystem tests (driven by TSSTOR_FAKE_DLM);
  // ours serves the LVM world (TSSTOR_FAKE_LVM). The build keeps one fake per name: this one.
  if (process.env.TSSTOR_FAKE_DLM !== undefined || process.env.TSSTOR_FAKE_LVM === undefined) return fsFakes.dlm_tool!(args);
  const c = fault("dlm_tool", args);
  if (c !== undefined) return c;
  const up = livePid(DLM_PIDFILE, "dlm_controld") !== undefined;
  const [cmd, name] = args;
  if (cmd === "status") {
    if (!up) {
      out("cannot connect to dlm_controld\n");
      return 0;
    }
    out("cluster nodeid 1 quorate 1 ring seq 12 12\ndaemon now 4242 fence_pid 0 \nnode 1 M add 20 rem 0 fail 0 fence 0 at 0 0\n");
    return 0;
  }
  if (cmd === "ls") {
    if (!up) return 1;
    const s = load();
    const names = Object.entries(s.lockspaces)
      .filter(([, l]) => l.lm_type === "dlm")
      .map(([vg]) => `lvm_${vg || "global"}`)
      .filter((n) => !name || n === name);
    if (name && !names.length) return 1;
    if (names.length) out("dlm lockspaces\n");
    names.forEach((n, i) => out(`name          ${n}\nid            0x${(0x1a2b3c00 + i).toString(16).padStart(8, "0")}\nflags         0x00000000 \nchange        member 1 joined 1 remove 0 failed 0 seq 1,1\nmembers       1 \n\n`));
    return 0;
  }
  err("Usage:\n\ndlm_tool [command] [options] [name]\n");
  return 1;
}

function sanlock(args: string[]): number {
  const c = fault("sanlock", args);
  if (c !== undefined) return c;
  if (args[0] === "daemon") return simpleDaemon("sanlock", SANLOCK_PIDFILE)(args);
  if (args[0] === "client" && (args[1] === "status" || args[1] === "gets")) {
    if (livePid(SANLOCK_PIDFILE, "sanlock") === undefined) return 1;
    const s = load();
    const lockd = livePid(LOCKD_PIDFILE, "lvmlockd");
    let o = `daemon 3f4b2c1a-0d9e-4e8f-9a1b-2c3d4e5f6a7b.${hostname()}\np -1 helper\np -1 listener\n`;
    if (lockd) o += `p ${lockd} ${lockd}\n`;
    o += "p -1 status\n";
    for (const [vg, l] of Object.entries(s.lockspaces)) if (l.lm_type === "sanlock") o += `s lvm_${vg}:${l.host_id}:/dev/mapper/${dmName(vg, "lvmlock")}:0\n`;
    out(o);
    return 0;
  }
  err("sanlock: unknown command\n");
  return 1;
}

function dmsetup(args: string[]): number {
  const c = fault("dmsetup", args);
  if (c !== undefined) return c;
  const a = parse(args.filter((x) => x !== "-c" && x !== "--columns"));
  const cols = args.includes("-c") || args.includes("--columns");
  const devs: Array<Record<string, string>> = [];
  let kn: string[] = [];
  try {
    kn = readdirSync(SYS_BLOCK).filter((k) => k.startsWith("dm-"));
  } catch {}
  const s = load();
  for (const k of kn.sort((x, y) => Number(x.slice(3)) - Number(y.slice(3)))) {
    const rd = (f: string) => readFileSync(join(SYS_BLOCK, k, f), "utf8").trim();
    const name = rd("dm/name");
    const [vg, lv] = Object.entries(s.vgs).flatMap(([vn, v]) => Object.keys(v.lvs).filter((ln) => dmName(vn, ln) === name).map((ln) => [vn, ln]))[0] ?? ["", ""];
    devs.push({ name, blkdevname: k, major: "253", minor: k.slice(3), attr: rd("dm/suspended") === "1" ? "L-sw" : "L--w", open: String(s.vgs[vg!]?.lvs[lv!]?.open ?? 0), segments: "1", events: "0", uuid: rd("dm/uuid"), vg_name: vg!, lv_name: lv! });
  }
  const [cmd] = a.pos;
  if (cmd === "info" || cmd === "ls") {
    if (!devs.length && !a.pos[1]) {
      out("No devices found\n");
      return 0;
    }
    let rows = (a.pos[1] ? devs.filter((d) => d.name === a.pos[1]) : devs).sort((x, y) => (x.name! < y.name! ? -1 : 1));
    const sel = opt(a, "-S", "--select");
    if (sel) {
      const conds = sel.split("&&").map((x) => x.trim().split("=").map((y) => y.trim()));
      rows = rows.filter((r) => conds.every(([k, v]) => r[k!] === v));
    }
    if (a.pos[1] && !rows.length) {
      err("Device does not exist.\nCommand failed.\n");
      return 1;
    }
    if (cmd === "ls") {
      for (const r of rows) out(`${r.name}\t(${r.major}:${r.minor})\n`);
      return 0;
    }
    if (!cols) {
      for (const r of rows) out(`Name:              ${r.name}\nState:             ${r.attr!.includes("s") ? "SUSPENDED" : "ACTIVE"}\nRead Ahead:        256\nTables present:    LIVE\nOpen count:        ${r.open}\nEvent number:      0\nMajor, minor:      ${r.major}, ${r.minor}\nNumber of targets: 1\nUUID: ${r.uuid}\n\n`);
      return 0;
    }
    // dmsetup's report: fixed minimum widths per field, ":" and no alignment with --noheadings
    const FIELDS: Record<string, [string, number, boolean]> = {
      name: ["Name", 16, false], major: ["Maj", 3, true], minor: ["Min", 3, true], attr: ["Stat", 4, false], open: ["Open", 4, true],
      segments: ["Targ", 4, true], events: ["Event", 6, true], uuid: ["UUID", 68, false], blkdevname: ["BlkDevName", 10, false],
    };
    const f = (opt(a, "-o", "--options") ?? "name,major,minor,attr,open,segments,events,uuid").split(",");
    if (!rows.length) return 0;
    if (flag(a, "--noheadings")) {
      const sep = opt(a, "--separator") ?? ":";
      for (const r of rows) out(`${f.map((x) => r[x] ?? "").join(sep)}\n`);
      return 0;
    }
    const w = f.map((x) => Math.max(FIELDS[x]?.[1] ?? 0, FIELDS[x]?.[0].length ?? x.length, ...rows.map((r) => (r[x] ?? "").length)));
    const line = (cells: string[], head: boolean) => `${cells.map((c2, i) => (!head && FIELDS[f[i]!]?.[2] ? c2.padStart(w[i]!) : i === cells.length - 1 && !head ? c2 : c2.padEnd(w[i]!))).join(" ")}\n`;
    out(line(f.map((x) => FIELDS[x]?.[0] ?? x), true));
    for (const r of rows) out(line(f.map((x) => r[x] ?? ""), false));
    return 0;
  }
  if (cmd === "table") {
    const d = devs.find((x) => x.name === a.pos[1]);
    if (!d) {
      err(`Device ${a.pos[1]} not found\nCommand failed.\n`);
      return 1;
    }
    const lv = Object.entries(s.vgs).flatMap(([vn, v]) => Object.entries(v.lvs).filter(([ln]) => dmName(vn, ln) === d.name).map(([, l]) => l))[0];
    out(`0 ${(lv?.dm_size_m ?? 0) * 2048} linear 7:0 2048\n`);
    return 0;
  }
  err(`dmsetup: unsupported command ${cmd}\n`);
  return 1;
}

export const fakes: Record<string, FakeMain> = {
  lvm,
  vgs,
  lvs,
  vgchange,
  lvchange,
  lvmconfig,
  vgscan,
  pvscan: (args) => fault("pvscan", args) ?? 0,
  lvmlockd,
  lvmlockctl,
  dlm_tool: dlmTool,
  dlm_controld: simpleDaemon("dlm_controld", DLM_PIDFILE),
  wdmd: simpleDaemon("wdmd", WDMD_PIDFILE),
  clvmd: simpleDaemon("clvmd", "/run/clvmd.pid"),
  cmirrord: simpleDaemon("cmirrord", "/run/cmirrord.pid"),
  sanlock,
  dmsetup,
};
