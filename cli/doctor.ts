// `tsstor doctor`: read the CIB (cibadmin -Q, or a file with -f) and this node's DRBD, corosync,
// LVM, multipath and systemd configuration, run every check in cli/hazards/, print the findings
// (severity, what, why, the exact fix) for humans or as JSON. Exit 0 without errors, 1 with at
// least one error finding, 2 when the doctor itself could not run (unreadable CIB, bad options).
// Every path it reads has an option, and --root re-roots the defaults (tests use fixture trees).
import { runTool } from "./run.js";
import type { Argv, CommandModule } from "yargs";
import { hideBin } from "yargs/helpers";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CibError, parseCib, type Primitive } from "./doctor/cib.js";
import { ConfError } from "./doctor/conf.js";
import { readCorosync } from "./doctor/corosync.js";
import { readSysctl } from "./doctor/sysctl.js";
import { drbdKernelVersion, readDrbdConfig, type DrbdConfig } from "./doctor/drbd.js";
import { probeGfs2 } from "./doctor/gfs2.js";
import { readLvmConf } from "./doctor/lvm.js";
import { readMultipath } from "./doctor/multipath.js";
import { UnitDir } from "./doctor/systemd.js";
import { CATALOGUE, CHECKS } from "./hazards/index.js";
import { migrateScript } from "./hazards/migrate.js";
import { unavailable, type Finding, type Severity, type Sources, type Unavailable } from "./hazards/types.js";

export class DoctorError extends Error {}

export interface DoctorOptions {
  cib?: string;
  root: string;
  corosyncConf?: string;
  drbdConf?: string;
  lvmConf?: string;
  multipathConf?: string;
  multipathConfDir?: string;
  systemdDir?: string;
  procDrbd?: string;
}

const DEFAULTS = {
  corosyncConf: "/etc/corosync/corosync.conf",
  drbdConf: "/etc/drbd.conf",
  lvmConf: "/etc/lvm/lvm.conf",
  multipathConf: "/etc/multipath.conf",
  multipathConfDir: "/etc/multipath/conf.d",
  systemdDir: "/etc/systemd/system",
  procDrbd: "/proc/drbd",
};

function readCibXml(file: string | undefined): { xml: string; from: string } {
  if (file) {
    try {
      return { xml: readFileSync(file, "utf8"), from: file };
    } catch (e) {
      throw new DoctorError(`cannot read the CIB file ${file}: ${(e as Error).message}`);
    }
  }
  const r = runTool("cibadmin", ["-Q"]);
  if (r.code !== 0 || !r.stdout) throw new DoctorError(`cibadmin -Q failed (${r.stderr.trim() || `exit ${r.code}`}): run on a cluster node, or give a CIB file with -f FILE (pcs cluster cib FILE)`);
  return { xml: r.stdout, from: "cibadmin -Q" };
}

/** Read a config file: absent -> Unavailable (checks skipped), unparsable -> Unavailable + a warning finding. */
function load<T>(path: string, read: (p: string) => T, notes: Finding[]): T | Unavailable {
  if (!existsSync(path)) return { unavailable: true, path, error: `${path} not found` };
  try {
    return read(path);
  } catch (e) {
    const msg = e instanceof ConfError ? e.message : `${path}: ${(e as Error).message}`;
    notes.push({
      id: "config-unreadable",
      severity: "warning",
      subject: path,
      message: `cannot parse ${msg}`,
      reason: "The checks that need this file were skipped; the daemons reading it may reject it too.",
      fix: [],
    });
    return { unavailable: true, path, error: msg };
  }
}

export interface Report {
  sources: Record<string, string>;
  findings: Finding[];
  summary: Record<Severity, number>;
  exitCode: 0 | 1;
}

export function gather(o: DoctorOptions): { sources: Sources; notes: Finding[]; described: Record<string, string> } {
  const root = o.root || "/";
  const rooted = (p: string) => (root === "/" ? p : join(root, p));
  for (const [opt, v] of Object.entries({ "--corosync-conf": o.corosyncConf, "--drbd-conf": o.drbdConf, "--lvm-conf": o.lvmConf, "--multipath-conf": o.multipathConf, "--systemd-dir": o.systemdDir, "--proc-drbd": o.procDrbd }))
    if (v !== undefined && !existsSync(v)) throw new DoctorError(`${opt} ${v}: no such file or directory`);
  if (root !== "/" && !existsSync(root)) throw new DoctorError(`--root ${root}: no such directory`);
  const { xml, from } = readCibXml(o.cib);
  let cib;
  try {
    cib = parseCib(xml);
  } catch (e) {
    throw new DoctorError(`${from}: ${e instanceof CibError ? e.message : String(e)}`);
  }
  const notes: Finding[] = [];
  const paths = {
    corosync: o.corosyncConf ?? rooted(DEFAULTS.corosyncConf),
    lvm: o.lvmConf ?? rooted(DEFAULTS.lvmConf),
    multipath: o.multipathConf ?? rooted(DEFAULTS.multipathConf),
    multipathDir: o.multipathConfDir ?? rooted(DEFAULTS.multipathConfDir),
    systemd: o.systemdDir ?? rooted(DEFAULTS.systemdDir),
    procDrbd: o.procDrbd ?? rooted(DEFAULTS.procDrbd),
  };
  const corosync = load(paths.corosync, readCorosync, notes);
  const lvm = load(paths.lvm, readLvmConf, notes);
  const multipath = load(paths.multipath, (p) => readMultipath(p, paths.multipathDir), notes);
  const drbdCache = new Map<string, DrbdConfig | Unavailable>();
  const drbdConf = (p: Primitive) => {
    const path = o.drbdConf ?? rooted(p.params.drbdconf || DEFAULTS.drbdConf);
    if (!drbdCache.has(path)) drbdCache.set(path, load(path, (f) => readDrbdConfig(f, root), notes));
    return drbdCache.get(path)!;
  };
  const drbdKernel = drbdKernelVersion(paths.procDrbd);
  const sources: Sources = {
    cib,
    cibFrom: from,
    corosync,
    lvm,
    multipath,
    units: new UnitDir(paths.systemd),
    sysctl: readSysctl(rooted),
    drbdConf,
    gfs2: probeGfs2,
    drbdKernel,
    nodes: cib.nodes.length ? cib.nodes : unavailable(corosync) ? [] : corosync.nodes,
    path: rooted,
  };
  const state = (x: object) => (unavailable(x as Unavailable) ? `(${(x as Unavailable).error})` : "");
  const described = {
    cib: from,
    corosync: `${paths.corosync} ${state(corosync)}`.trim(),
    drbd: o.drbdConf ?? `${rooted(DEFAULTS.drbdConf)} (or each DRBD resource's drbdconf)`,
    lvm: `${paths.lvm} ${state(lvm)}`.trim(),
    multipath: `${paths.multipath} ${state(multipath)}`.trim(),
    systemd: paths.systemd,
  };
  return { sources, notes, described };
}

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function diagnose(o: DoctorOptions): Report {
  const { sources, notes, described } = gather(o);
  const findings = [...CHECKS.flatMap((c) => c(sources)), ...notes];
  findings.sort((a, b) => RANK[a.severity] - RANK[b.severity]); // stable: check order within a severity
  const summary = { error: 0, warning: 0, info: 0 };
  for (const f of findings) summary[f.severity]++;
  return { sources: described, findings, summary, exitCode: summary.error ? 1 : 0 };
}

/** Wrap prose at `width` columns, each line prefixed by `indent`. */
function wrap(text: string, indent: string, width = 100): string {
  const lines: string[] = [];
  let cur = "";
  for (const w of text.split(/\s+/).filter(Boolean)) {
    if (cur && indent.length + cur.length + 1 + w.length > width) {
      lines.push(indent + cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(indent + cur);
  return lines.join("\n");
}

export function renderHuman(r: Report): string {
  const L: string[] = [];
  L.push(`tsstor doctor: CIB from ${r.sources.cib}`);
  for (const k of ["corosync", "drbd", "lvm", "multipath", "systemd"]) L.push(`  ${k.padEnd(9)} ${r.sources[k]}`);
  L.push("");
  for (const f of r.findings) {
    L.push(`${f.severity.toUpperCase()} [${f.id}] ${f.subject}`);
    L.push(wrap(f.message, "  "));
    L.push(wrap(`why: ${f.reason}`, "  "));
    if (f.fix.length) {
      L.push("  fix:");
      for (const c of f.fix) L.push(`    ${c}`);
    }
    L.push("");
  }
  const { error, warning, info } = r.summary;
  L.push(`${error} error(s), ${warning} warning(s), ${info} info.${error ? " Exit status 1." : ""}`);
  return `${L.join("\n")}\n`;
}

export function renderJson(r: Report, version: string): string {
  return `${JSON.stringify({ tool: "tsstor doctor", version, ...r }, null, 2)}\n`;
}

const EPILOG = [
  "Severities: error = split brain, data loss, or the cluster cannot work as configured; warning = a failure waiting for the wrong moment; info = a migration offer, or a check that could not run here.",
  "Exit status: 0 no errors (warnings and info allowed), 1 at least one error, 2 the doctor could not run (CIB unreadable, a file given by option missing, bad options).",
  "Every hazard with its id and severity: tsstor doctor --list.",
].join("\n\n");

type Args = {
  cib?: string;
  json: boolean;
  list: boolean;
  "migrate-script": boolean;
  root: string;
  "corosync-conf"?: string;
  "drbd-conf"?: string;
  "lvm-conf"?: string;
  "multipath-conf"?: string;
  "multipath-conf-dir"?: string;
  "systemd-dir"?: string;
  "proc-drbd"?: string;
};

/** The yargs command; `setCode` receives the exit status. */
export function doctorCommand(setCode: (code: number) => void, version: string): CommandModule<object, Args> {
  return {
    command: "doctor",
    describe: "check the cluster and this node's DRBD/corosync/LVM/multipath/iSCSI/systemd configuration for known hazards",
    builder: (y: Argv) =>
      y
        .option("cib", { alias: "f", type: "string", describe: "read the CIB from FILE (e.g. from pcs cluster cib FILE) instead of cibadmin -Q" })
        .option("json", { type: "boolean", default: false, describe: "print the findings as JSON" })
        .option("list", { type: "boolean", default: false, describe: "list the hazards the doctor knows and exit" })
        .option("migrate-script", { type: "boolean", default: false, describe: "print a bash script moving every ocf:heartbeat/ocf:linbit resource with a tsstor equivalent to ocf:tsstor in one transaction" })
        .option("root", { type: "string", default: "/", describe: "prefix of every default path below (a copy of a node's /etc)" })
        .option("corosync-conf", { type: "string", describe: `corosync.conf (default ${DEFAULTS.corosyncConf})` })
        .option("drbd-conf", { type: "string", describe: `drbd.conf for every DRBD resource (default: each resource's drbdconf parameter, else ${DEFAULTS.drbdConf})` })
        .option("lvm-conf", { type: "string", describe: `lvm.conf (default ${DEFAULTS.lvmConf})` })
        .option("multipath-conf", { type: "string", describe: `multipath.conf (default ${DEFAULTS.multipathConf})` })
        .option("multipath-conf-dir", { type: "string", describe: `multipath config_dir (default ${DEFAULTS.multipathConfDir})` })
        .option("systemd-dir", { type: "string", describe: `systemd unit directory holding the *.wants links and the drop-ins (default ${DEFAULTS.systemdDir})` })
        .option("proc-drbd", { type: "string", describe: `the DRBD module's version file (default ${DEFAULTS.procDrbd})` })
        .epilog(EPILOG) as Argv<Args>,
    handler: (a) => {
      if (a.list) {
        const w = Math.max(...CATALOGUE.map((c) => c.id.length));
        process.stdout.write(CATALOGUE.map((c) => `${c.id.padEnd(w)}  ${c.severity.padEnd(13)}  ${c.what}`).join("\n") + "\n");
        setCode(0);
        return;
      }
      const o: DoctorOptions = {
        cib: a.cib,
        root: a.root,
        corosyncConf: a["corosync-conf"],
        drbdConf: a["drbd-conf"],
        lvmConf: a["lvm-conf"],
        multipathConf: a["multipath-conf"],
        multipathConfDir: a["multipath-conf-dir"],
        systemdDir: a["systemd-dir"],
        procDrbd: a["proc-drbd"],
      };
      try {
        if (a["migrate-script"]) {
          process.stdout.write(migrateScript(gather(o).sources, hideBin(process.argv)));
          setCode(0);
          return;
        }
        const r = diagnose(o);
        process.stdout.write(a.json ? renderJson(r, version) : renderHuman(r));
        setCode(r.exitCode);
      } catch (e) {
        if (!(e instanceof DoctorError)) throw e;
        process.stderr.write(`tsstor doctor: ${e.message}\n`);
        setCode(2);
      }
    },
  };
}
