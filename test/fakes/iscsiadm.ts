// A fake iscsiadm (open-iscsi 2.1.8, Debian 12) for this host, whose kernel has no iSCSI
// initiator: it keeps a node database in $TSSTOR_ISCSI_DB the way iscsiadm does
// (nodes/TARGET/ADDR,PORT,TPGT/default) and makes sessions appear in an emulated sysfs under
// $TSSTOR_SYS_ROOT (class/iscsi_session, class/iscsi_connection, the SCSI disks and their
// class/block entries, linked like the kernel's) with /dev nodes and udev's by-path links under
// $TSSTOR_DEV_ROOT. The storage array is a JSON file, $TSSTOR_FAKE_ISCSI_WORLD:
//   { "targets": [{ "iqn", "tpgt", "portals": ["a.b.c.d:port"], "luns": [1, 2],
//                   "chap"?: { "username", "password", "usernameIn"?, "passwordIn"? } }],
//     "down"?: ["portal", ...] (unreachable), "iscsid"?: false (not running) }
// Messages and exit codes are iscsiadm's (test/recordings/iscsiadm, recorded in the lab).

import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import { err, out, type FakeMain } from "./lib.js";

const VERSION = "2.1.8";

interface Target {
  iqn: string;
  tpgt: number;
  portals: string[];
  luns: number[];
  chap?: { username: string; password: string; usernameIn?: string; passwordIn?: string };
}
interface World {
  targets: Target[];
  down?: string[];
  iscsid?: boolean;
}

const sys = () => process.env.TSSTOR_SYS_ROOT || "/sys";
const dev = () => process.env.TSSTOR_DEV_ROOT || "/dev";
const db = () => process.env.TSSTOR_ISCSI_DB || "/etc/iscsi";
const world = (): World => JSON.parse(readFileSync(process.env.TSSTOR_FAKE_ISCSI_WORLD || "/nonexistent", "utf8")) as World;

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
function die(code: number, ...lines: string[]): never {
  for (const l of lines) err(`iscsiadm: ${l}\n`);
  throw new Exit(code);
}

/** "a.b.c.d[:port]" or "[v6][:port]" -> { addr, port } */
function parsePortal(p: string): { addr: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?(?:,\d+)?$/.exec(p) ?? /^([^:,]+)(?::(\d+))?(?:,\d+)?$/.exec(p);
  if (!m) die(7, `cannot resolve host name ${p}`);
  return { addr: m![1]!, port: m![2] ? Number(m![2]) : 3260 };
}
const key = (p: { addr: string; port: number }) => `${p.addr}:${p.port}`;
const show = (p: { addr: string; port: number }) => (p.addr.includes(":") ? `[${p.addr}]:${p.port}` : `${p.addr}:${p.port}`);

// ---- the node database ------------------------------------------------------------------------

function recordDir(iqn: string, p: { addr: string; port: number }, tpgt: number): string {
  return `${db()}/nodes/${iqn}/${p.addr},${p.port},${tpgt}`;
}

function writeRecord(t: Target, p: { addr: string; port: number }): void {
  const d = recordDir(t.iqn, p, t.tpgt);
  if (existsSync(`${d}/default`)) return; // -o new: existing records stay as they are
  mkdirSync(d, { recursive: true, mode: 0o600 });
  const lines = [
    `# BEGIN RECORD ${VERSION}`,
    `node.name = ${t.iqn}`,
    `node.tpgt = ${t.tpgt}`,
    "node.startup = manual", // Debian's iscsid.conf (recorded: 09)
    "node.leading_login = No",
    "iface.iscsi_ifacename = default",
    "iface.transport_name = tcp",
    `node.discovery_address = ${p.addr}`,
    `node.discovery_port = ${p.port}`,
    "node.discovery_type = send_targets",
    "node.session.auth.authmethod = None",
    "node.session.timeo.replacement_timeout = 120",
    `node.conn[0].address = ${p.addr}`,
    `node.conn[0].port = ${p.port}`,
    "node.conn[0].startup = manual",
    "# END RECORD",
  ];
  writeFileSync(`${d}/default`, `${lines.join("\n")}\n`, { mode: 0o600 });
}

function readRecord(file: string): Record<string, string> {
  const r: Record<string, string> = {};
  for (const l of readFileSync(file, "utf8").split("\n")) {
    const m = /^([^#=][^=]*?)\s*=\s*(.*)$/.exec(l);
    if (m) r[m[1]!] = m[2]!;
  }
  return r;
}

interface Rec {
  iqn: string;
  addr: string;
  port: number;
  tpgt: number;
  file: string;
}
function records(): Rec[] {
  const out: Rec[] = [];
  const base = `${db()}/nodes`;
  if (!existsSync(base)) return out;
  for (const iqn of readdirSync(base).sort()) {
    for (const e of readdirSync(`${base}/${iqn}`).sort()) {
      const m = /^(.*),(\d+),(\d+)$/.exec(e);
      if (m && existsSync(`${base}/${iqn}/${e}/default`)) out.push({ iqn, addr: m[1]!, port: Number(m[2]), tpgt: Number(m[3]), file: `${base}/${iqn}/${e}/default` });
      // a static record (-m node -o new: no TPGT) is one file, ADDR,PORT (seen in a lab VM's
      // node database; not in test/recordings yet)
      const s = /^([^,]*),(\d+)$/.exec(e);
      if (s && statSync(`${base}/${iqn}/${e}`).isFile()) out.push({ iqn, addr: s[1]!, port: Number(s[2]), tpgt: -1, file: `${base}/${iqn}/${e}` });
    }
  }
  return out;
}

// ---- the emulated kernel: sessions in sysfs ---------------------------------------------------

interface Sess {
  sid: number;
  iqn: string;
  addr: string;
  port: number;
  tpgt: number;
}
function sessions(): Sess[] {
  const dir = `${sys()}/class/iscsi_session`;
  if (!existsSync(dir)) return [];
  const res: Sess[] = [];
  for (const n of readdirSync(dir)) {
    const sid = Number(n.replace("session", ""));
    const s = `${dir}/${n}`;
    const c = `${sys()}/class/iscsi_connection/connection${sid}:0`;
    res.push({
      sid,
      iqn: readFileSync(`${s}/targetname`, "utf8").trim(),
      tpgt: Number(readFileSync(`${s}/tpgt`, "utf8").trim()),
      addr: readFileSync(`${c}/persistent_address`, "utf8").trim(),
      port: Number(readFileSync(`${c}/persistent_port`, "utf8").trim()),
    });
  }
  return res.sort((a, b) => a.sid - b.sid);
}

function link(target: string, at: string): void {
  mkdirSync(dirname(at), { recursive: true });
  rmSync(at, { force: true });
  symlinkSync(relative(dirname(at), target), at);
}
function file(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${content}\n`);
}

function nextDisk(): { name: string; minor: number } {
  const used = new Set(existsSync(`${sys()}/class/block`) ? readdirSync(`${sys()}/class/block`) : []);
  for (let i = 0; i < 26; i++) {
    const name = `sd${String.fromCharCode(97 + i)}`;
    if (!used.has(name)) return { name, minor: i * 16 };
  }
  throw new Error("fake iscsiadm: out of disk names");
}

function createSession(t: Target, p: { addr: string; port: number }, record: Record<string, string>): number {
  const sid = Math.max(0, ...sessions().map((s) => s.sid)) + 1;
  const host = sid + 1;
  const hostDir = `${sys()}/devices/platform/host${host}`;
  const sdir = `${hostDir}/session${sid}`;
  file(`${sdir}/iscsi_session/session${sid}/targetname`, t.iqn);
  file(`${sdir}/iscsi_session/session${sid}/tpgt`, String(t.tpgt));
  file(`${sdir}/iscsi_session/session${sid}/state`, "LOGGED_IN");
  // the kernel's recovery_tmo is the record's replacement_timeout (recorded: 14, with 10 set)
  file(`${sdir}/iscsi_session/session${sid}/recovery_tmo`, record["node.session.timeo.replacement_timeout"] ?? "120");
  link(sdir, `${sdir}/iscsi_session/session${sid}/device`);
  link(`${sdir}/iscsi_session/session${sid}`, `${sys()}/class/iscsi_session/session${sid}`);
  const cdir = `${sdir}/connection${sid}:0/iscsi_connection/connection${sid}:0`;
  file(`${cdir}/persistent_address`, p.addr);
  file(`${cdir}/persistent_port`, String(p.port));
  file(`${cdir}/address`, p.addr);
  file(`${cdir}/port`, String(p.port));
  file(`${cdir}/state`, "up");
  link(cdir, `${sys()}/class/iscsi_connection/connection${sid}:0`);
  for (const lun of t.luns) {
    const hctl = `${host}:0:0:${lun}`;
    const sdev = `${sdir}/target${host}:0:0/${hctl}`;
    file(`${sdev}/state`, "running");
    const d = nextDisk();
    const bdir = `${sdev}/block/${d.name}`;
    file(`${bdir}/dev`, `8:${d.minor}`);
    mkdirSync(`${bdir}/holders`, { recursive: true });
    link(sdev, `${bdir}/device`);
    link(bdir, `${sys()}/class/block/${d.name}`);
    file(`${dev()}/${d.name}`, "");
    link(`${dev()}/${d.name}`, `${dev()}/disk/by-path/ip-${show(p)}-iscsi-${t.iqn}-lun-${lun}`);
  }
  return sid;
}

function removeSession(sid: number): void {
  const s = `${sys()}/class/iscsi_session/session${sid}`;
  const disks: string[] = [];
  const devdir = `${s}/device`;
  for (const tg of existsSync(devdir) ? readdirSync(devdir).filter((e) => e.startsWith("target")) : []) {
    for (const h of readdirSync(`${devdir}/${tg}`).filter((e) => /^\d+:/.test(e))) {
      disks.push(...readdirSync(`${devdir}/${tg}/${h}/block`));
    }
  }
  const host = readdirSync(`${sys()}/devices/platform`).find((h) => existsSync(`${sys()}/devices/platform/${h}/session${sid}`));
  for (const d of disks) {
    rmSync(`${sys()}/class/block/${d}`, { force: true });
    rmSync(`${dev()}/${d}`, { force: true });
    const bp = `${dev()}/disk/by-path`;
    for (const l of existsSync(bp) ? readdirSync(bp) : []) {
      try {
        if (readlinkBase(`${bp}/${l}`) === d) rmSync(`${bp}/${l}`, { force: true });
      } catch {
        /* dangling */
      }
    }
  }
  rmSync(s, { force: true });
  rmSync(`${sys()}/class/iscsi_connection/connection${sid}:0`, { force: true });
  if (host) rmSync(`${sys()}/devices/platform/${host}`, { recursive: true, force: true });
}

function readlinkBase(p: string): string | undefined {
  return readlinkSync(p).split("/").pop();
}

// ---- the modes ------------------------------------------------------------------------------

function opt(args: string[], ...names: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) if (names.includes(args[i]!)) return args[i + 1];
  return undefined;
}
const has = (args: string[], ...names: string[]) => args.some((a) => names.includes(a));

function needIscsid(w: World): void {
  if (w.iscsid === false) die(20, "can not connect to iSCSI daemon (111)!", "can not connect to iSCSI daemon (111)!", "Cannot perform discovery. Initiatorname required.");
}

function discovery(args: string[], w: World): number {
  const type = opt(args, "-t", "--type");
  const portal = opt(args, "-p", "--portal");
  if (type !== "sendtargets" && type !== "st") die(7, `Invalid discovery type ${type ?? ""}`.trim());
  if (!portal) die(7, "portal required for discovery");
  needIscsid(w);
  const p = parsePortal(portal!);
  const listening = w.targets.some((t) => t.portals.some((q) => key(parsePortal(q)) === key(p)));
  // no answer: six connection attempts (reopen_max 5), then the PDU timeout (recorded: 07; a
  // dropped path prints "connect to ADDR timed out" per attempt, recorded: 29, cut short there)
  const attempt = (w.down ?? []).includes(key(p)) ? `connect to ${p.addr} timed out` : !listening ? `cannot make connection to ${p.addr}: Connection refused` : undefined;
  if (attempt) die(11, ...Array<string>(6).fill(attempt), "connection login retries (reopen_max) 5 exceeded", "Could not perform SendTargets discovery: iSCSI PDU timed out");
  // SendTargets=All: the array lists every target with all its portals, whichever portal is asked
  for (const t of w.targets) {
    for (const q of t.portals) {
      const qp = parsePortal(q);
      writeRecord(t, qp);
      out(`${show(qp)},${t.tpgt} ${t.iqn}\n`);
    }
  }
  return 0;
}

function login(args: string[], w: World): number {
  const iqn = opt(args, "-T", "--targetname");
  const portal = opt(args, "-p", "--portal");
  needIscsid(w);
  const p = portal ? parsePortal(portal) : undefined;
  const recs = records().filter((r) => (!iqn || r.iqn === iqn) && (!p || (r.addr === p.addr && r.port === p.port)));
  if (recs.length === 0) die(21, "No records found");
  let rc = 0;
  const have = sessions();
  for (const r of recs) {
    const rp = { addr: r.addr, port: r.port };
    const name = `[iface: default, target: ${r.iqn}, portal: ${r.addr},${r.port}]`;
    if (have.some((s) => s.iqn === r.iqn && s.addr === r.addr && s.port === r.port)) {
      err("iscsiadm: default: 1 session requested, but 1 already present.\n");
      rc ||= 15;
      continue;
    }
    out(`Logging in to ${name}\n`);
    const t = w.targets.find((x) => x.iqn === r.iqn && x.portals.some((q) => key(parsePortal(q)) === key(rp)));
    let fault: [number, string] | undefined;
    if (!t || (w.down ?? []).includes(key(rp))) fault = [8, "connection timed out"];
    else if (t.chap) {
      const rec = readRecord(r.file);
      const ok = rec["node.session.auth.authmethod"] === "CHAP" && rec["node.session.auth.username"] === t.chap.username && rec["node.session.auth.password"] === t.chap.password;
      // mutual CHAP: the initiator refuses the target's answer (recorded: 25)
      const mutualOk =
        rec["node.session.auth.username_in"] === undefined || (rec["node.session.auth.username_in"] === t.chap.usernameIn && rec["node.session.auth.password_in"] === t.chap.passwordIn);
      if (!ok) fault = [24, "iSCSI login failed due to authorization failure"];
      else if (!mutualOk) fault = [19, "encountered non-retryable iSCSI login failure"];
    }
    if (fault) {
      err(`iscsiadm: Could not login to ${name}.\n`);
      err(`iscsiadm: initiator reported error (${fault[0]} - ${fault[1]})\n`);
      rc = fault[0];
      continue;
    }
    createSession(t!, rp, readRecord(r.file));
    out(`Login to ${name} successful.\n`);
  }
  if (rc !== 0) err("iscsiadm: Could not log into all portals\n");
  return rc;
}

function logout(sid: number): number {
  const s = sessions().find((x) => x.sid === sid);
  if (!s) die(22, "could not read session targetname: 5", `Could not get session info for sid ${sid}`);
  out(`Logging out of session [sid: ${sid}, target: ${s!.iqn}, portal: ${s!.addr},${s!.port}]\n`);
  removeSession(sid);
  out(`Logout of [sid: ${sid}, target: ${s!.iqn}, portal: ${s!.addr},${s!.port}] successful.\n`);
  return 0;
}

/** InitiatorName= of initiatorname.iscsi in the database directory. */
function initiatorName(): string {
  try {
    return /^InitiatorName=(\S+)/m.exec(readFileSync(`${db()}/initiatorname.iscsi`, "utf8"))?.[1] ?? "iqn.1993-08.org.debian:01:fake";
  } catch {
    return "iqn.1993-08.org.debian:01:fake";
  }
}

/** `-m session -r SID -P 1`: the session's target, portals and states (upstream's monitor reads "Connection State"). */
function printSession(all: Sess[], sid: number): number {
  const s = all.find((x) => x.sid === sid);
  if (!s) die(22, "could not read session targetname: 5", `Could not get session info for sid ${sid}`);
  const state = readFileSync(`${sys()}/class/iscsi_session/session${sid}/state`, "utf8").trim();
  const portal = `${show({ addr: s!.addr, port: s!.port })},${s!.tpgt}`;
  out(
    [
      `Target: ${s!.iqn} (non-flash)`,
      `\tCurrent Portal: ${portal}`,
      `\tPersistent Portal: ${portal}`,
      "\t\t**********",
      "\t\tInterface:",
      "\t\t**********",
      "\t\tIface Name: default",
      "\t\tIface Transport: tcp",
      `\t\tIface Initiatorname: ${initiatorName()}`,
      // the local address is unknown while the connection is down (recorded: 35)
      `\t\tIface IPaddress: ${state === "LOGGED_IN" ? s!.addr : "[default]"}`,
      "\t\tIface HWaddress: default",
      "\t\tIface Netdev: default",
      `\t\tSID: ${sid}`,
      `\t\tiSCSI Connection State: ${state === "LOGGED_IN" ? "LOGGED IN" : "TRANSPORT WAIT"}`,
      `\t\tiSCSI Session State: ${state}`,
      `\t\tInternal iscsid Session State: ${state === "LOGGED_IN" ? "NO CHANGE" : "REOPEN"}`,
      "",
    ].join("\n"),
  );
  return 0;
}

function main(args: string[]): number {
  if (has(args, "-V", "--version")) {
    out(`iscsiadm version ${VERSION}\n`);
    return 0;
  }
  const w = world();
  const mode = opt(args, "-m", "--mode");
  // discoverydb -D (discover) is what upstream's agent runs on open-iscsi > 2.0-871
  if (mode === "discovery" || mode === "discoverydb") return discovery(args, w);
  if (mode === "node") {
    if (has(args, "-l", "--login")) return login(args, w);
    const iqn = opt(args, "-T", "--targetname");
    const portal = opt(args, "-p", "--portal");
    if (iqn || portal) {
      // show one record (upstream's monitor asks whether one exists)
      const p = portal ? parsePortal(portal) : undefined;
      const r = records().find((x) => (!iqn || x.iqn === iqn) && (!p || (x.addr === p.addr && x.port === p.port)));
      if (!r) die(21, "No records found");
      out(readFileSync(r!.file, "utf8"));
      return 0;
    }
    const recs = records();
    if (recs.length === 0) die(21, "No records found");
    for (const r of recs) out(`${show({ addr: r.addr, port: r.port })},${r.tpgt} ${r.iqn}\n`);
    return 0;
  }
  if (mode === "session") {
    const sid = opt(args, "-r", "--sid");
    if (has(args, "-u", "--logout")) {
      if (sid === undefined) die(7, "session logout needs a sid (this fake)");
      return logout(Number(sid));
    }
    const all = sessions();
    if (sid !== undefined && opt(args, "-P", "--print") !== undefined) return printSession(all, Number(sid));
    if (all.length === 0) die(21, "No active sessions.");
    for (const s of all) out(`tcp: [${s.sid}] ${show({ addr: s.addr, port: s.port })},${s.tpgt} ${s.iqn} (non-flash)\n`);
    return 0;
  }
  die(7, `Invalid mode ${mode ?? ""}`.trim());
}

export const fakes: Record<string, FakeMain> = {
  iscsiadm: (args) => {
    try {
      return main(args);
    } catch (e) {
      if (e instanceof Exit) return e.code;
      throw e;
    }
  },
};
