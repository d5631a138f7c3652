// `tsstor drbd init` and `tsstor drbd first-sync` on this node: every external program runs through
// the agents' runner (lib/system/run.ts: argv only, never a shell, LC_ALL=C, a time limit), the
// DRBD state and module through lib/drbd/tools.ts, the disk through one typed probe (stat, an
// exclusive open, wipefs/blkid, drbdadm dump-md). Nothing is written or run before every check
// passed; the plan and the file text come from cli/drbd/init.ts.
import { closeSync, constants, existsSync, fsyncSync, mkdtempSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Budget } from "../../lib/ocf/budget.js";
import { Logger } from "../../lib/ocf/log.js";
import { Drbd, drbdError } from "../../lib/drbd/tools.js";
import { describeState, type DrbdState, type KernelVersion } from "../../lib/drbd/state.js";
import { Runner, type RunResult } from "../../lib/system/run.js";
import { sleepMs } from "../../lib/system/sleep.js";
import { readDrbdConfig } from "../doctor/drbd.js";
import { absPath } from "../validate.js";
import {
  admKernelVersion,
  commandLine,
  firstSyncProblems,
  firstSyncSteps,
  parseBlkid,
  parseDumpMd,
  parseWipefsJson,
  renderResource,
  resourceName,
  versionOf,
  type Detected,
  type DrbdVersion,
  type InitPlan,
  type MetaData,
  type Signature,
} from "./init.js";

/** Exit codes: done (or nothing to do), refused or failed, invalid options. */
export const EXIT = { OK: 0, REFUSED: 1, INVALID: 2 } as const;

export interface NodeEnv {
  /** the tools' environment (PATH); LC_ALL=C is added */
  env: Record<string, string | undefined>;
  /** this node's name as drbdadm matches `on` sections (uname -n) */
  hostname: string;
  /** where /proc is (TSSTOR_PROC_ROOT, as for the agents and `tsstor status`) */
  procRoot: string;
  out: (s: string) => void;
  err: (s: string) => void;
  /** pause between retries */
  sleep: (ms: number) => void;
}

export function nodeEnv(env: NodeJS.ProcessEnv = process.env): NodeEnv {
  return {
    env,
    hostname: hostname(),
    procRoot: env.TSSTOR_PROC_ROOT || "/proc",
    out: (s) => void writeSync(1, s),
    err: (s) => void writeSync(2, s),
    sleep: sleepMs,
  };
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const quiet = new Logger("tsstor", "drbd", false, () => {});

/** The tools of this node, each call bounded; one budget for the whole command. */
export class NodeTools {
  readonly runner: Runner;
  constructor(readonly e: NodeEnv, totalMs = 30 * 60_000) {
    this.runner = new Runner(new Budget(totalMs, undefined, totalMs), quiet, e.env);
  }

  run(cmd: string, args: readonly string[], timeoutMs = 60_000): RunResult {
    return this.runner.run(cmd, args, { timeoutMs });
  }

  /** drbdadm -c CONF ARGS... */
  adm(conf: string, args: readonly string[], timeoutMs = 120_000): RunResult {
    return this.run("drbdadm", ["-c", conf, ...args], timeoutMs);
  }

  drbd(resource: string, conf: string): Drbd {
    return new Drbd({ runner: this.runner, resource, conf, procRoot: this.e.procRoot });
  }

  /**
   * The DRBD version of this node: the loaded module's (/proc/drbd), else what drbdadm --version
   * reports for the kernel, else the module file's (modinfo).
   */
  detectVersion(): Detected {
    const k = this.drbd("-", "/dev/null").kernel();
    if (k) {
      const v = versionOf(k.major, k.minor);
      return v ? { version: v, source: `/proc/drbd (${k.text})` } : { error: `the loaded module is DRBD ${k.text}; tsstor supports 8.4 and 9` };
    }
    const a = this.run("drbdadm", ["--version"], 15_000);
    const av = a.code === 0 ? admKernelVersion(a.stdout) : undefined;
    if (av) return { version: av, source: "drbdadm --version (DRBD_KERNEL_VERSION_CODE)" };
    const m = this.drbd("-", "/dev/null").moduleFileVersion();
    if (m) {
      const v = versionOf(m.major, m.minor);
      return v ? { version: v, source: `modinfo drbd (${m.text}, not loaded)` } : { error: `the drbd module on disk is ${m.text}; tsstor supports 8.4 and 9` };
    }
    return { error: `no DRBD module loaded (${join(this.e.procRoot, "drbd")}), ${a.missing ? "drbdadm not installed" : "drbdadm --version names no kernel module"}, modinfo finds no drbd module` };
  }
}

// ---- the backing disk ---------------------------------------------------------------------------

export interface DiskProbe {
  /** not usable at all: missing, not a block device, unreadable */
  error?: string;
  /** claimed by someone (mounted, device-mapper, md, LVM, an exclusive open): open(O_EXCL) says EBUSY */
  inUse: boolean;
  /** wipefs (or blkid) signatures */
  signatures: Signature[];
  /** wipefs and blkid both failed */
  probeError?: string;
  /** the first MiB reads as zeros */
  zeroHead?: boolean;
}

const HEAD = 1 << 20;

/** Probe a backing disk without writing to it: stat, an exclusive open, its first MiB, wipefs. */
export function probeDisk(t: NodeTools, dev: string): DiskProbe {
  const r: DiskProbe = { inUse: false, signatures: [] };
  try {
    if (!statSync(dev).isBlockDevice()) return { ...r, error: "not a block device" };
  } catch (e) {
    return { ...r, error: (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such device" : message(e) };
  }
  let fd: number | undefined;
  try {
    fd = openSync(dev, constants.O_RDONLY | constants.O_EXCL);
    const buf = Buffer.alloc(HEAD);
    let n = 0;
    while (n < HEAD) {
      const got = readSync(fd, buf, n, HEAD - n, n);
      if (got <= 0) break;
      n += got;
    }
    r.zeroHead = buf.subarray(0, n).every((b) => b === 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EBUSY") r.inUse = true;
    else return { ...r, error: `cannot read it (${message(e)})` };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const w = t.run("wipefs", ["--no-act", "--json", dev], 30_000);
  const ws = w.code === 0 ? parseWipefsJson(w.stdout) : undefined;
  if (ws) r.signatures = ws;
  else {
    const b = t.run("blkid", ["-p", "-o", "export", dev], 30_000);
    const bs = b.missing ? { error: "blkid not found" } : parseBlkid(b.code, b.stdout);
    if (Array.isArray(bs)) r.signatures = bs;
    else r.probeError = `${w.missing ? "wipefs not found" : `wipefs --no-act failed (exit ${w.code})`}, ${bs.error}`;
  }
  return r;
}

// ---- files --------------------------------------------------------------------------------------

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/** Replace a file in one rename (a half-written resource file is never read), mode 0644. */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tsstor-new`;
  const fd = openSync(tmp, "w", 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** The plan's resource alone in a scratch file, for drbdadm before anything is written. */
function withScratchConf<T>(p: InitPlan, text: string, fn: (conf: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "tsstor-drbd-"));
  try {
    const f = join(dir, `${p.resource}.res`);
    writeFileSync(f, text, { mode: 0o600 });
    return fn(f);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** drbd.conf must exist, and no other file may define this resource or use its minor. */
function confProblems(p: InitPlan): string[] {
  if (!existsSync(p.drbdconf)) return [`${p.drbdconf} does not exist: install drbd-utils (its drbd.conf includes /etc/drbd.d/*.res), or name the configuration with --drbdconf`];
  let conf;
  try {
    conf = readDrbdConfig(p.drbdconf);
  } catch (e) {
    return [`${p.drbdconf} cannot be read: ${message(e)}`];
  }
  const out: string[] = [];
  const mine = resolve(p.out);
  for (const r of conf.resources.values()) {
    if (resolve(r.file) === mine) continue;
    if (r.name === p.resource) out.push(`resource ${p.resource} is defined already in ${r.file}:${r.line}: remove that definition first (drbdadm reads every included file)`);
    else if (r.minors.includes(p.minor)) out.push(`minor ${p.minor} (${p.device}) is used by resource ${r.name} (${r.file}:${r.line}): choose another --device`);
  }
  return out;
}

// ---- init ---------------------------------------------------------------------------------------

function list(lines: string[]): string {
  return lines.map((l) => `  - ${l}`).join("\n");
}

/** `tsstor drbd init` after planning: print, or write the file and bring the resource up here. */
export function runInit(p: InitPlan, e: NodeEnv): number {
  const text = renderResource(p);
  if (p.print) {
    e.out(text);
    return EXIT.OK;
  }
  const say = (s: string) => e.out(`${s}\n`);
  const stop = (code: number, lines: string[], tail = "nothing was written or run.") => {
    e.err(`tsstor drbd init: ${code === EXIT.INVALID ? "invalid" : "refused"}:\n${list(lines)}\n${tail}\n`);
    return code;
  };
  const fail = (what: string, r: RunResult, after: string) => {
    e.err(`tsstor drbd init: ${what} failed: ${drbdError(r)}\n${after}\n`);
    return EXIT.REFUSED;
  };

  const me = p.nodes.find((n) => n.name === e.hostname);
  if (!me)
    return stop(EXIT.INVALID, [
      `this host is "${e.hostname}" (uname -n), not one of ${p.nodes.map((n) => n.name).join(", ")}: drbdadm finds a node's \`on\` section by its host name. Run this on each node, or print the file with --print`,
    ]);
  const t = new NodeTools(e);
  if (!t.runner.which("drbdadm")) return stop(EXIT.REFUSED, ["drbdadm not found on this node: install drbd-utils"]);
  const drbd = t.drbd(p.resource, p.drbdconf);
  let k = drbd.kernel();
  const mismatch = (kv: KernelVersion) => (versionOf(kv.major, kv.minor) !== p.version ? `this node runs DRBD ${kv.text}, the file is for DRBD ${p.version}: use --drbd-version ${kv.major >= 9 ? "9" : "8.4"} (the same on every node)` : undefined);
  if (k && mismatch(k)) return stop(EXIT.INVALID, [mismatch(k)!]);

  let old: string | undefined;
  try {
    old = readIfExists(p.out);
  } catch (err) {
    return stop(EXIT.REFUSED, [`cannot read ${p.out}: ${message(err)}`]);
  }
  const same = old === text;
  const problems: string[] = [];
  if (old !== undefined && !same && !p.force) problems.push(`${p.out} exists with other content: compare it with \`${commandLine(p, true)} --print\`, then --force to replace it`);
  if (!existsSync(dirname(p.out))) problems.push(`${dirname(p.out)} does not exist (drbd-utils creates /etc/drbd.d)`);

  // ---- already up: report, never redo
  let st: DrbdState | undefined;
  if (k) {
    try {
      st = drbd.state(k);
    } catch (err) {
      return stop(EXIT.REFUSED, [`cannot read the state of ${p.resource}: ${message(err)}`]);
    }
  }
  if (st?.configured) {
    if (old === undefined && !p.force) problems.push(`${p.resource} is up on this node, but ${p.out} does not exist: it runs from another configuration (drbdadm -c ${p.drbdconf} dump ${p.resource} shows which); --force writes this file`);
    if (problems.length) return stop(EXIT.REFUSED, [...problems, `${p.resource} is up on this node: its disk and metadata are not touched either way`]);
    if (same) {
      say(`${p.resource} is up on ${me.name} with this file already (${describeState(st)}): nothing to do.`);
      nextSteps(p, me.name, say);
      return EXIT.OK;
    }
    const c = confProblems(p);
    if (c.length) return stop(EXIT.REFUSED, c);
    const w = writeChecked(t, p, text, old);
    if (w) return stop(EXIT.REFUSED, [w]);
    say(`${p.out} ${old === undefined ? "written" : "replaced"} (--force). ${p.resource} is up on ${me.name}: its disk and metadata were not touched.`);
    say(`Apply the change once the new file is on every node: drbdadm adjust ${p.resource}    # on every node`);
    return EXIT.OK;
  }

  // ---- this node's backing disk
  const hard: string[] = [];
  let keepMd = false;
  // the generated file, checked by this node's drbdadm before anything else uses it; then the
  // metadata drbdmeta finds where this file puts it
  const checked = withScratchConf(p, text, (conf): RunResult | MetaData => {
    const d = t.adm(conf, ["dump", p.resource], 30_000);
    if (d.code !== 0) return d;
    if (!me.disk) return { present: false };
    const m = t.adm(conf, ["dump-md", p.resource], 60_000);
    return parseDumpMd(m.code, m.stdout, m.stderr);
  });
  if ("argv" in checked) return stop(EXIT.REFUSED, [`this node's drbdadm does not accept the generated file: ${drbdError(checked)}`]);
  const md: MetaData = checked;
  if (me.disk) {
    const d = probeDisk(t, me.disk);
    if (d.error) return stop(EXIT.INVALID, [`--disk ${me.disk}: ${d.error} on ${me.name}`]);
    if (d.inUse) hard.push(`${me.disk} is in use (mounted, an LV/md/dm device on it, or open exclusively): DRBD needs it to itself; --force does not change that`);
    const data = d.signatures.filter((s) => s.type !== "drbd");
    const drbdSig = d.signatures.some((s) => s.type === "drbd");
    if (data.length && !p.force)
      problems.push(`${me.disk} holds data: ${data.map((s) => `${s.type}${s.offset ? ` at ${s.offset}` : ""}`).join(", ")} (wipefs --no-act). The first sync overwrites a disk's content: --force if it is disposable`);
    if (d.probeError && !p.force) problems.push(`cannot tell whether ${me.disk} holds data (${d.probeError}): --force to go ahead anyway`);
    if ("error" in md && !p.force) problems.push(`cannot tell whether ${me.disk} holds DRBD metadata (${md.error}): --force to go ahead anyway`);
    const mdPresent = "present" in md && md.present;
    if (mdPresent || drbdSig) {
      if (same && mdPresent && "fresh" in md && md.fresh) keepMd = true;
      else if (!p.force)
        problems.push(
          `${me.disk} holds DRBD metadata${mdPresent ? " (drbdadm dump-md)" : " (wipefs: a drbd signature, of another DRBD version or layout)"}: it belongs to a resource that existed before. ` +
            `If it is this resource's and the file is unchanged, bring it up with \`drbdadm up ${p.resource}\`; --force creates new metadata (this node then needs a full sync)`,
        );
    }
    if (!data.length && !drbdSig && !mdPresent && !d.probeError && d.zeroHead === false && !p.force)
      problems.push(`${me.disk} has no known signature, but its first MiB is not zeros: unknown data (a raw database, a wiped partition table?). --force if it is disposable`);
  }
  if (hard.length || problems.length) return stop(EXIT.REFUSED, [...hard, ...problems]);

  // ---- drbd.conf, the file
  const c = confProblems(p);
  if (c.length) return stop(EXIT.REFUSED, c);
  const w = writeChecked(t, p, text, old);
  if (w) return stop(EXIT.REFUSED, [w]);
  say(same ? `${p.out} unchanged.` : `${p.out} written${old !== undefined ? " (replaced, --force)" : ""}.`);

  // ---- the module, the metadata, up
  if (!k) {
    const r = drbd.loadModule();
    k = drbd.kernel();
    if (!k) return fail("loading the drbd module (modprobe drbd)", r, "The file is in place; load the module, then run the same command again.");
    if (mismatch(k)) return stop(EXIT.REFUSED, [mismatch(k)!], "The file is in place; regenerate it for this version.");
  }
  if (me.disk && !keepMd) {
    const r = t.adm(p.drbdconf, ["create-md", "--force", p.resource], 600_000);
    if (r.code !== 0) return fail(`drbdadm create-md --force ${p.resource}`, r, "The file is in place; nothing else was changed.");
    say(`DRBD metadata created on ${me.disk} (drbdadm create-md --force ${p.resource}, after the checks above).`);
  } else if (keepMd) say(`${me.disk}: the metadata of an earlier run, never used for data, kept.`);
  const up = t.adm(p.drbdconf, ["up", p.resource], 120_000);
  if (up.code !== 0) return fail(`drbdadm up ${p.resource}`, up, "The file and the metadata are in place: fix the cause, then run the same command again.");
  let now = "";
  try {
    now = describeState(drbd.state(k));
  } catch (err) {
    now = `state not readable: ${message(err)}`;
  }
  say(`${p.resource} is up on ${me.name}: ${now}.`);
  nextSteps(p, me.name, say);
  return EXIT.OK;
}

/**
 * Write the file (unless it is already there), then make sure drbdadm finds the resource through
 * drbd.conf; when it does not, put the old content back (or remove the new file). The error, or
 * undefined.
 */
function writeChecked(t: NodeTools, p: InitPlan, text: string, old: string | undefined): string | undefined {
  if (old !== text) {
    try {
      writeAtomic(p.out, text);
    } catch (err) {
      return `cannot write ${p.out}: ${message(err)}`;
    }
  }
  const r = t.adm(p.drbdconf, ["dump", p.resource], 30_000);
  if (r.code === 0) return undefined;
  if (old !== text) {
    try {
      if (old === undefined) unlinkSync(p.out);
      else writeAtomic(p.out, old);
    } catch {
      // reported below either way
    }
  }
  return `drbdadm -c ${p.drbdconf} does not find ${p.resource} once ${p.out} is written (${drbdError(r)}): ${p.drbdconf} must include it (drbd-utils' drbd.conf includes "drbd.d/*.res"). ${old === text ? "The file was already there." : "The file was taken back."}`;
}

function nextSteps(p: InitPlan, self: string, say: (s: string) => void): void {
  const others = p.nodes.filter((n) => n.name !== self).map((n) => n.name);
  say("Next:");
  if (others.length) say(`  1. on ${others.join(", ")}: ${commandLine(p)}`);
  say(`  ${others.length ? 2 : 1}. when every node shows Connected and Inconsistent (drbdadm status ${p.resource}), on ONE node with a disk:`);
  say(`       tsstor drbd first-sync ${p.resource}${p.drbdconf !== "/etc/drbd.conf" ? ` --drbdconf ${p.drbdconf}` : ""}`);
}

// ---- first sync ---------------------------------------------------------------------------------

/** `tsstor drbd first-sync RES`: make this node's (fresh) data the source the peers sync from. */
export function runFirstSync(resource: string, drbdconf: string, e: NodeEnv): number {
  const say = (s: string) => e.out(`${s}\n`);
  const stop = (code: number, lines: string[]) => {
    e.err(`tsstor drbd first-sync: ${code === EXIT.INVALID ? "invalid" : "refused"}:\n${list(lines)}\nnothing was run.\n`);
    return code;
  };
  const bad = [resourceName(resource), absPath(drbdconf)].filter((x): x is string => x !== undefined);
  if (bad.length) return stop(EXIT.INVALID, bad);
  const t = new NodeTools(e);
  const drbd = t.drbd(resource, drbdconf);
  const k = drbd.kernel();
  if (!k) return stop(EXIT.REFUSED, [`the DRBD module is not loaded here (${join(e.procRoot, "drbd")}): run \`tsstor drbd init\` on every node first`]);
  const version: DrbdVersion = k.major >= 9 ? "9" : "8.4";
  let st: DrbdState;
  try {
    st = drbd.state(k);
  } catch (err) {
    return stop(EXIT.REFUSED, [`cannot read the state of ${resource}: ${message(err)}`]);
  }
  const problems = firstSyncProblems(st);
  if (problems.length) return stop(EXIT.REFUSED, [...problems, `now: ${describeState(st)}`]);

  const [promote, demote] = firstSyncSteps(version, resource) as [string[], string[]];
  const r = t.adm(drbdconf, promote, 60_000);
  if (r.code !== 0) {
    e.err(`tsstor drbd first-sync: drbdadm ${promote.join(" ")} failed: ${drbdError(r)}\n`);
    return EXIT.REFUSED;
  }
  say(`${resource}: this node's data is now the truth (drbdadm ${promote.join(" ")}): the peers sync from it.`);
  // udev opens a device that just became Primary (blkid probing): "held open" (11) for a moment
  let d = t.adm(drbdconf, demote, 30_000);
  for (let i = 0; d.code === 11 && i < 20; i++) {
    e.sleep(500);
    d = t.adm(drbdconf, demote, 30_000);
  }
  if (d.code !== 0) {
    e.err(`tsstor drbd first-sync: drbdadm ${demote.join(" ")} failed: ${drbdError(d)}\nthis node is still Primary: run \`drbdadm secondary ${resource}\` before Pacemaker manages the resource.\n`);
    return EXIT.REFUSED;
  }
  say(`${resource}: back to Secondary (drbdadm ${demote.join(" ")}), the sync goes on: Pacemaker promotes it from here.`);
  try {
    const now = drbd.state(k);
    for (const c of now.connections) {
      for (const pd of c.peerDevices) say(`  ${c.name} volume ${pd.volume}: ${pd.replication} ${pd.peerDisk}${pd.done !== undefined ? ` ${pd.done.toFixed(1)}%` : ""}`);
    }
  } catch {
    // the report is a courtesy
  }
  say(`Progress: \`tsstor status\` shows the resync with a progress bar and ETA once the DRBD clone is in the cluster (tsstor stack ...); until then: drbdadm status ${resource}`);
  return EXIT.OK;
}
