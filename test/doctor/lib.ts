// Helpers for the doctor tests: CIB files built with the real pcs (cibadmin --empty, then
// pcs -f ... for each command, as an operator would), node roots copied from the fixture tree
// test/doctor/fixtures/node with per-test edits, and the built CLI run with --json.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { BUILD } from "../lib/harness.js";
import { REPO } from "../lib/xml.js";
import { builtAgents } from "../stack/agents.js";

export const CLI = join(BUILD, "tsstor");
export const FIXTURE = join(REPO, "test/doctor/fixtures/node");
const built = builtAgents();

export interface Finding {
  id: string;
  severity: "error" | "warning" | "info";
  subject: string;
  message: string;
  reason: string;
  fix: string[];
}
export interface Report {
  findings: Finding[];
  summary: { error: number; warning: number; info: number };
  exitCode: number;
  sources: Record<string, string>;
}

function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, LC_ALL: "C", ...env }, timeout: 120_000 });
  return { code: r.status ?? 128, stdout: r.stdout ?? "", stderr: r.stderr ?? "", out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/**
 * A CIB file made by pcs: `cibadmin --empty`, the nodes (cibadmin --create, as the cluster adds
 * them when they join), then `pcs -f FILE <cmd>` for each command. ocf:tsstor agents this
 * checkout has not built are created with --force (pcs cannot read their metadata).
 */
export function buildCib(file: string, cmds: string[][], nodes: string[] = ["n1", "n2"]): string {
  writeFileSync(file, run("cibadmin", ["--empty"]).stdout);
  nodes.forEach((n, i) => {
    const r = run("cibadmin", ["--create", "-o", "nodes", "--xml-text", `<node id="${i + 1}" uname="${n}"/>`], { CIB_file: file });
    if (r.code !== 0) throw new Error(`cibadmin --create node ${n}: ${r.out}`);
  });
  for (const c of cmds) {
    const agent = c.find((w) => w.startsWith("ocf:tsstor:"));
    const force = c[0] === "resource" && c[1] === "create" && agent !== undefined && !built.includes(agent.slice("ocf:tsstor:".length));
    const r = run("pcs", ["-f", file, ...c, ...(force ? ["--force"] : [])]);
    if (r.code !== 0) throw new Error(`pcs -f ${file} ${c.join(" ")}: ${r.out}`);
  }
  return file;
}

export interface RootEdits {
  /** files to write, relative to the root (e.g. "etc/drbd.d/r0.res") */
  write?: Record<string, string>;
  /** files to delete */
  remove?: string[];
  /** systemd unit links to add under etc/systemd/system ("multi-user.target.wants/x.service") */
  enable?: string[];
}

/**
 * A node root: the fixture tree (drbd.conf + drbd.d, corosync.conf, lvm.conf, multipath.conf,
 * /proc/drbd) and an etc/systemd/system with corosync and pacemaker enabled, plus `edits`.
 */
export function nodeRoot(dir: string, edits: RootEdits = {}): string {
  rmSync(dir, { recursive: true, force: true });
  cpSync(FIXTURE, dir, { recursive: true });
  const units = join(dir, "etc/systemd/system");
  for (const l of ["multi-user.target.wants/corosync.service", "multi-user.target.wants/pacemaker.service", ...(edits.enable ?? [])]) {
    mkdirSync(dirname(join(units, l)), { recursive: true });
    symlinkSync(`/lib/systemd/system/${l.split("/").pop()}`, join(units, l));
  }
  for (const [f, text] of Object.entries(edits.write ?? {})) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  for (const f of edits.remove ?? []) rmSync(join(dir, f), { force: true });
  return dir;
}

export function doctor(args: string[], env: Record<string, string> = {}): { code: number; report: Report; stdout: string; stderr: string } {
  const r = run(CLI, ["doctor", ...args, "--json"], env);
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`tsstor doctor ${args.join(" ")} (exit ${r.code}) printed no JSON:\n${r.out}`);
  }
  return { code: r.code, report, stdout: r.stdout, stderr: r.stderr };
}

export const ids = (r: Report, severity?: Finding["severity"]) => [...new Set(r.findings.filter((f) => !severity || f.severity === severity).map((f) => f.id))].sort();
export const find = (r: Report, id: string) => r.findings.filter((f) => f.id === id);

/** A two-node DRBD + iSCSI cluster the way a widely copied how-to builds it, with upstream agents. */
export const HOWTO_DRBD_ISCSI: string[][] = [
  ["resource", "create", "p_DRBD", "ocf:linbit:drbd", "drbd_resource=r0", "op", "monitor", "interval=29s", "role=Promoted", "op", "monitor", "interval=31s", "role=Unpromoted"],
  ["resource", "promotable", "p_DRBD", "promoted-max=1", "promoted-node-max=1", "clone-max=2", "clone-node-max=1", "notify=true"],
  ["resource", "create", "p_iSCSITarget", "ocf:heartbeat:iSCSITarget", "iqn=iqn.2003-01.org.linux-iscsi.pcmk-1.x8664:sn.6425f3536d03", "portals=0.0.0.0:3260", "op", "monitor", "interval=10s"],
  ["resource", "create", "p_iSCSI_lun1", "ocf:heartbeat:iSCSILogicalUnit", "target_iqn=iqn.2003-01.org.linux-iscsi.pcmk-1.x8664:sn.6425f3536d03", "lun=1", "path=/dev/drbd1", "op", "monitor", "interval=10s"],
  ["resource", "create", "ClusterIP", "ocf:heartbeat:IPaddr2", "ip=192.168.23.100", "cidr_netmask=24", "op", "monitor", "interval=30s"],
  ["constraint", "colocation", "add", "p_iSCSITarget", "with", "Promoted", "p_DRBD-clone"],
  ["constraint", "order", "promote", "p_DRBD-clone", "then", "start", "p_iSCSITarget"],
  ["constraint", "colocation", "add", "p_iSCSI_lun1", "with", "p_iSCSITarget", "INFINITY"],
  ["constraint", "order", "p_iSCSITarget", "then", "p_iSCSI_lun1"],
];

/** Fencing as a two-node cluster should have it: one IPMI device per node, a random delay on one. */
export const STONITH: string[][] = [
  ["stonith", "create", "fence-n1", "fence_ipmilan", "ip=10.233.9.1", "username=admin", "password=secret", "lanplus=1", "pcmk_host_list=n1", "pcmk_delay_max=15s"],
  ["stonith", "create", "fence-n2", "fence_ipmilan", "ip=10.233.9.2", "username=admin", "password=secret", "lanplus=1", "pcmk_host_list=n2"],
];
