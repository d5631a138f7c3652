// targetcli (targetcli-fb): every LIO object change of one action goes to ONE targetcli process
// as a batch of commands on stdin. Reads never use it (lib/iscsi/configfs.ts reads configfs directly).
//
// - targetcli runs with TARGETCLI_HOME in HA_RSCTMP, so the operator's ~/.targetcli preferences
//   are neither read nor changed; the batch's first line pins the preferences our commands rely
//   on in that private home: no saveconfig on exit (the cluster owns this configuration), no
//   default portal, TPGs created disabled (enabled once ACLs and CHAP are in place), no
//   automatic LUN mappings (mappings are explicit).
// - In batch mode an error does not stop targetcli (it logs it on stderr and goes on, exit 0):
//   callers verify the result in configfs and report stderr when it is not as asked.
// - configshell's grammar silently drops the rest of a line at a character it does not know, so
//   every token is checked here against that grammar before it is sent.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Runner, RunResult } from "../system/run.js";
import { OCF, OcfError, fail } from "../ocf/codes.js";
import type { Bstype } from "./configfs.js";

export const PREFS_LINE =
  "set global auto_save_on_exit=false auto_add_default_portal=false auto_enable_tpgt=false auto_add_mapped_luns=false auto_cd_after_create=false export_backstore_name_as_model=true";

// configshell_fb: parameter values are Word(alphanums + '?;&*$!#,=_+/.<>()~@:-%[]'); paths are
// [A-Za-z0-9:_.[]-]* '/' [A-Za-z0-9:_.[]/-]*.
const VALUE_RE = /^[A-Za-z0-9?;&*$!#,=_+/.<>()~@:\-%[\]]+$/;
const PATH_RE = /^[A-Za-z0-9:_.[\]-]*\/[A-Za-z0-9:_.[\]/-]*$/;

/** Refuse a value targetcli would truncate or misread. */
function token(v: string, what: string, path = false): string {
  if (!(path ? PATH_RE : VALUE_RE).test(v)) {
    throw new OcfError(OCF.ERR_CONFIGURED, `${what} ${JSON.stringify(v.slice(0, 80))} contains characters targetcli cannot take`);
  }
  return v;
}

const tpg = (iqn: string) => token(`/iscsi/${iqn}/tpg1`, "target IQN", true);

/** The commands of one action, in order. */
export class Batch {
  readonly lines: string[] = [];
  get empty(): boolean {
    return this.lines.length === 0;
  }
  private add(line: string): this {
    this.lines.push(line);
    return this;
  }

  createTarget(iqn: string) {
    return this.add(`/iscsi create ${token(iqn, "IQN")}`);
  }
  deleteTarget(iqn: string) {
    return this.add(`/iscsi delete ${token(iqn, "IQN")}`);
  }
  createTpg(iqn: string) {
    return this.add(`${token(`/iscsi/${iqn}`, "IQN", true)} create 1`);
  }
  /** `ip` without brackets, as targetcli's `portals create` wants it */
  createPortal(iqn: string, ip: string, port: number) {
    return this.add(`${tpg(iqn)}/portals create ${token(ip, "portal address")} ${port}`);
  }
  deletePortal(iqn: string, ip: string, port: number) {
    return this.add(`${tpg(iqn)}/portals delete ${token(ip, "portal address")} ${port}`);
  }
  createAcl(iqn: string, initiator: string) {
    return this.add(`${tpg(iqn)}/acls create ${token(initiator, "initiator")} add_mapped_luns=false`);
  }
  deleteAcl(iqn: string, initiator: string) {
    return this.add(`${tpg(iqn)}/acls delete ${token(initiator, "initiator")}`);
  }
  mapLun(iqn: string, initiator: string, mapped: number, tpgLun: number) {
    return this.add(`${token(`${tpg(iqn)}/acls/${initiator}`, "initiator", true)} create ${mapped} ${tpgLun}`);
  }
  unmapLun(iqn: string, initiator: string, mapped: number) {
    return this.add(`${token(`${tpg(iqn)}/acls/${initiator}`, "initiator", true)} delete ${mapped}`);
  }
  createBackstore(type: Bstype, name: string, path: string, serial: string | undefined, writeBack?: boolean) {
    const n = token(name, "backstore name");
    const p = token(path, "path");
    const wwn = serial === undefined ? "" : ` wwn=${token(serial, "scsi_sn")}`;
    if (type === "block") return this.add(`/backstores/block create name=${n} dev=${p}${wwn}`);
    if (type === "fileio") return this.add(`/backstores/fileio create name=${n} file_or_dev=${p}${wwn}${writeBack === undefined ? "" : ` write_back=${writeBack}`}`);
    // pscsi reports the device's own serial: no wwn
    return this.add(`/backstores/pscsi create name=${n} dev=${p}`);
  }
  deleteBackstore(type: Bstype, name: string) {
    return this.add(`/backstores/${type} delete ${token(name, "backstore name")}`);
  }
  setBackstoreAttribute(type: Bstype, name: string, attr: string, value: string) {
    return this.add(`${token(`/backstores/${type}/${name}`, "backstore name", true)} set attribute ${token(attr, "attribute")}=${token(value, "value")}`);
  }
  createLun(iqn: string, type: Bstype, name: string, lun: number) {
    return this.add(`${tpg(iqn)}/luns create ${token(`/backstores/${type}/${name}`, "backstore name")} ${lun} add_mapped_luns=false`);
  }
  deleteLun(iqn: string, lun: number) {
    return this.add(`${tpg(iqn)}/luns delete ${lun}`);
  }
}

export interface BatchResult {
  /** what targetcli printed on stderr: its errors, one per line */
  errors: string[];
  stdout: string;
}

/** targetcli's private home (preferences, history) under HA_RSCTMP. */
export function targetcliHome(rscTmp: string): string {
  const d = join(rscTmp, "tsstor-targetcli");
  mkdirSync(d, { recursive: true, mode: 0o700 });
  return d;
}

/** Run one batch in one targetcli process. Nothing runs for an empty batch. */
export function runBatch(run: Runner, batch: Batch, home: string): BatchResult {
  if (batch.empty) return { errors: [], stdout: "" };
  const input = [PREFS_LINE, ...batch.lines, "exit"].join("\n") + "\n";
  return result(run.run("targetcli", [], { input, env: { TARGETCLI_HOME: home } }));
}

/**
 * A command targetcli does not know (letters, digits and _ only: configshell reads a command as
 * Word(alphanums + "_"), so "a-b" would be the command "a"): its "Command not found" line on stderr marks that every
 * line before it has run (targetcli reads stdin line by line and never stops at an error).
 */
const BARRIER = "tsstor_barrier";
const barrierLine = (s: string) => s.trim() === `Command not found ${BARRIER}`;

/**
 * Run `first`, then `between()` (configfs writes targetcli cannot make, e.g. vendor_id before
 * the LUN exports the backstore), then `second`, in ONE targetcli process: the agent waits on
 * the barrier's echo before feeding the rest. Two processes where the runner cannot stream
 * (Node). The marker's error line is not one of the errors returned.
 */
export function runBatchAround(run: Runner, first: Batch, between: () => void, second: Batch, home: string): BatchResult {
  const s = run.session("targetcli", [], home, { env: { TARGETCLI_HOME: home } });
  if (!s) {
    const a = runBatch(run, first, home);
    between();
    const b = runBatch(run, second, home);
    return { errors: [...a.errors, ...b.errors], stdout: a.stdout + b.stdout };
  }
  if (!s.missing) {
    s.send([PREFS_LINE, ...first.lines, BARRIER].join("\n") + "\n");
    if (s.waitFor((_out, err) => err.split("\n").some(barrierLine))) {
      between();
      s.send([...second.lines, "exit"].join("\n") + "\n");
    }
  }
  const r = s.finish();
  return result({ ...r, stderr: r.stderr.split("\n").filter((l) => !barrierLine(l)).join("\n") });
}

function result(r: RunResult): BatchResult {
  if (r.missing) throw fail.installed("targetcli not found");
  if (r.timedOut) throw fail.generic("targetcli timed out");
  const errors = r.stderr.split("\n").map((l) => l.trim()).filter(Boolean);
  if (r.code !== 0) {
    // Start-up failures (no configfs, not root) end targetcli before the batch; they print on stdout.
    const why = errors[0] ?? r.stdout.trim().split("\n").pop() ?? "";
    throw fail.generic(`targetcli failed (rc=${r.code})${why ? `: ${why}` : ""}`);
  }
  return { errors, stdout: r.stdout };
}
