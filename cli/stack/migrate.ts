// `tsstor stack migrate`: a heartbeat v1 cluster (haresources, with DRBD through drbddisk and
// iSCSI Enterprise Target through its init script and ietd.conf) as a failover stack file.
// Every line of every input is checked (unknown keywords, shell characters, invalid IQNs and
// paths are refused with FILE:LINE, and nothing is printed); what has no tsstor equivalent is
// named in the notes, never dropped silently. CHAP secrets from ietd.conf are never copied: the
// stack file names a root-only secret file the operator creates. Nothing here runs a command.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { isIPv4 } from "node:net";
import { relative, resolve } from "node:path";
import type { Argv, CommandModule } from "yargs";
import { stringify } from "yaml";
import { ConfError, parseDrbdSyntax, type Node } from "../doctor/conf.js";
import { chapError, chapPairError } from "../../lib/iscsi/syntax.js";
import { absPath, agentSpec, drbdResource, iqn as iqnError, ipWithPrefix, mountPoint, nic as nicError, resourceId } from "../validate.js";
import { METHODS } from "../fencing.js";
import { StackFileError, parseStack } from "./file.js";

export type Implementation = "lio-t" | "tgt";

export interface MigrateOptions {
  /** /etc/ha.d/haresources, its text */
  haresources: string;
  /** ietd.conf (IET), its text: the targets the iscsitarget init script started */
  ietd?: string;
  /** drbd.conf, its text: maps drbddisk::RES to its /dev/drbdN devices (and `drbddisk` alone to every resource) */
  drbdconf?: string;
  /** IET's initiators.allow, its text: the initiators each target admits */
  initiatorsAllow?: string;
  implementation: Implementation;
  /** the stack's name (resource id prefix) */
  name: string;
  /** fencing method: sbd, watchdog, agent, drbd-quorum or none */
  fencing: string;
  /** the inputs' file names, for messages (defaults: haresources, ietd.conf, drbd.conf, initiators.allow) */
  files?: { haresources?: string; ietd?: string; drbdconf?: string; initiatorsAllow?: string };
}

/** Problems in the inputs, each "FILE:LINE: what is wrong"; nothing was generated. */
export class MigrateError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

/** The characters a heartbeat resource, an ietd.conf value or an initiators.allow entry may have. */
const SAFE = /^[A-Za-z0-9_.:/@%+=,[\]-]+$/;
/** An input value in a message: printable, bounded (the value is refused, not used). */
const show = (v: string) => JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}...` : v);
const part = (v: string) => v.replace(/[^A-Za-z0-9_.-]/g, "_");
const FSTYPES = ["ext4", "xfs", "ext3"];
const IET_INIT = ["iscsitarget", "iscsi-target", "ietd"];
/** heartbeat v1 resource.d scripts without a stack equivalent: never taken for init scripts */
const HEARTBEAT_SCRIPTS = [
  "AudibleAlarm", "Delay", "ICP", "IPsrcaddr", "IPv6addr", "LVM", "LVSSyncDaemonSwap", "LinuxSCSI", "OCF", "Raid1", "SendArp",
  "ServeRAID", "WAS", "WinPopup", "Xinetd", "apache", "datadisk", "db2", "hto-mapfuncs", "ids", "portblock",
];
/** IET ietd.conf target settings (ietd.conf(5)) that tsstor's targets leave to the implementation */
const IET_SESSION = [
  "HeaderDigest", "DataDigest", "MaxConnections", "MaxSessions", "InitialR2T", "ImmediateData", "MaxRecvDataSegmentLength",
  "MaxXmitDataSegmentLength", "MaxBurstLength", "FirstBurstLength", "DefaultTime2Wait", "DefaultTime2Retain", "MaxOutstandingR2T",
  "DataPDUInOrder", "DataSequenceInOrder", "ErrorRecoveryLevel", "NOPInterval", "NOPTimeout", "Wthreads", "QueuedCommands",
  "OFMarker", "IFMarker", "OFMarkInt", "IFMarkInt", "Alias",
];
const IET_GLOBAL = ["iSNSServer", "iSNSAccessControl"];

class Errors {
  readonly list: string[] = [];
  at(file: string, line: number, msg: string): void {
    this.list.push(`${file}:${line}: ${msg}`);
  }
}

// ---- haresources --------------------------------------------------------------------------------

interface Token {
  text: string;
  line: number;
}
interface HaLine {
  node: string;
  line: number;
  resources: Token[];
}

/** Logical lines of haresources: comments dropped, backslash continuations joined, each word with its line. */
function haLines(text: string, file: string, e: Errors): HaLine[] {
  const out: HaLine[] = [];
  let cur: Token[] = [];
  let first = 0;
  const lines = text.split("\n");
  lines.forEach((raw, i) => {
    const n = i + 1;
    let l = raw.replace(/\r$/, "");
    const cont = /\\\s*$/.test(l);
    if (cont) l = l.replace(/\\\s*$/, "");
    // a comment starts a line or a word
    l = l.replace(/(^|\s)#.*$/, "");
    if (/[\x00-\x08\x0b-\x1f\x7f]/.test(l)) e.at(file, n, "control characters: not a haresources file");
    else for (const w of l.split(/[ \t]+/).filter(Boolean)) {
      if (!cur.length) first = n;
      cur.push({ text: w, line: n });
    }
    if (cont && i < lines.length - 1) return;
    if (cur.length) {
      const [node, ...resources] = cur;
      out.push({ node: node!.text, line: first, resources });
    }
    cur = [];
  });
  return out;
}

type HaResource =
  | { t: "drbd"; names: string[]; all: boolean }
  | { t: "fs"; device: string; directory: string; fstype: string; options?: string }
  | { t: "ip"; address: string; nic?: string; label?: string; broadcast?: string; agent: string }
  | { t: "iet" }
  | { t: "service"; agent: string; params?: Record<string, string>; init?: string };

/** One haresources word: `name[::arg...]`, or an IPv4 address standing for IPaddr. */
function haResource(tok: Token, file: string, e: Errors, drbd: DrbdConf | undefined, drbdFile: string): HaResource | undefined {
  const bad = (msg: string) => void e.at(file, tok.line, `${show(tok.text)}: ${msg}`);
  if (!SAFE.test(tok.text)) return bad("characters a heartbeat resource never has (quotes, $, `, ;, |, &, <, >, spaces...): refused");
  const [name = "", ...args] = /^\d+\.\d+\.\d+\.\d+(\/|$)/.test(tok.text) ? ["IPaddr", tok.text] : tok.text.split("::");
  const nargs = (min: number, max: number, usage: string) => (args.length < min || args.length > max || args.some((a) => a === "") ? bad(`${name} takes ${usage}`) ?? false : true);
  switch (name) {
    case "drbddisk": {
      if (!nargs(0, 1, "::RESOURCE (or nothing: every resource)")) return undefined;
      if (args[0] !== undefined) {
        const err = drbdResource(args[0]);
        if (err) return bad(err);
        if (drbd && !drbd.resources.has(args[0]))
          return bad(`${drbdFile} has no resource ${show(args[0])}${drbd.includes.length ? ` (its include ${drbd.includes.join(", ")} was not read: give the file that defines it)` : ""}`);
        return { t: "drbd", names: [args[0]], all: false };
      }
      if (!drbd) return bad("drbddisk without a resource stands for every DRBD resource: give --drbdconf FILE (drbd.conf) to name them");
      if (!drbd.resources.size) return bad(`drbddisk without a resource stands for every DRBD resource, and ${drbdFile} defines none`);
      return { t: "drbd", names: [...drbd.resources.keys()], all: true };
    }
    case "Filesystem": {
      if (!nargs(2, 4, "::DEVICE::DIRECTORY::FSTYPE[::OPTIONS]")) return undefined;
      const [device = "", directory = "", fstype, options] = args;
      if (fstype === undefined) return bad(`no filesystem type: the stack needs it (${FSTYPES.join(", ")}); add ::ext4 (or the real type) to the line`);
      let ok = true;
      if (/^-[LU]/.test(device)) ok = bad(`device ${show(device)}: give the device path (/dev/disk/by-${device[1] === "L" ? "label" : "uuid"}/${device.slice(2)})`) ?? false;
      else for (const [what, err] of [["device", absPath(device)], ["directory", mountPoint(directory)]] as const) if (err) ok = bad(`${what}: ${err}`) ?? false;
      if (!FSTYPES.includes(fstype)) ok = bad(`filesystem type ${show(fstype)}: a failover stack mounts ${FSTYPES.join(", ")} (one node at a time)`) ?? false;
      if (options !== undefined && !/^[A-Za-z0-9_=.,:@/+-]+$/.test(options)) ok = bad(`mount options ${show(options)} are not a mount option list`) ?? false;
      return ok ? { t: "fs", device, directory, fstype, ...(options !== undefined ? { options } : {}) } : undefined;
    }
    case "IPaddr":
    case "IPaddr2": {
      if (!nargs(1, 1, "::ADDRESS[/NETMASK[/INTERFACE[/BROADCAST]]]")) return undefined;
      const [addr = "", mask, iface, broadcast, ...more] = args[0]!.split("/");
      if (more.length) return bad("more than ADDRESS/NETMASK/INTERFACE/BROADCAST");
      if (!isIPv4(addr)) return bad(`${show(addr)} is not an IPv4 address`);
      let prefix: number | undefined;
      if (mask) {
        prefix = /^\d{1,2}$/.test(mask) ? Number(mask) : maskBits(mask);
        if (prefix === undefined || prefix < 1 || prefix > 32) return bad(`netmask ${show(mask)} is not 1-32 bits or a dotted netmask`);
      }
      const address = prefix === undefined ? addr : `${addr}/${prefix}`;
      const r = ipWithPrefix(address);
      if (typeof r === "string") return bad(r);
      let dev: string | undefined;
      let label: string | undefined;
      if (iface) {
        [dev, label] = iface.split(":", 2) as [string, string | undefined];
        const err = nicError(dev);
        if (err) return bad(`interface: ${err}`);
      }
      if (broadcast !== undefined && broadcast !== "" && !isIPv4(broadcast)) return bad(`broadcast ${show(broadcast)} is not an IPv4 address`);
      return { t: "ip", address, agent: name, ...(dev ? { nic: dev } : {}), ...(label ? { label } : {}), ...(broadcast ? { broadcast } : {}) };
    }
    case "MailTo": {
      if (!nargs(1, 2, "::EMAIL[::SUBJECT]")) return undefined;
      if (!/^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+(,[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+)*$/.test(args[0]!)) return bad(`${show(args[0]!)} is not an e-mail address (or a comma-separated list)`);
      if (args[1] !== undefined && !/^[A-Za-z0-9_.:@%+=,-]+$/.test(args[1])) return bad(`subject ${show(args[1])}: letters, digits and _ . : @ % + = , - only`);
      return { t: "service", agent: "ocf:heartbeat:MailTo", params: { email: args[0]!.split(",").join(" "), ...(args[1] !== undefined ? { subject: args[1] } : {}) } };
    }
  }
  if (IET_INIT.includes(name)) return nargs(0, 0, "no arguments (it starts the targets of ietd.conf)") ? { t: "iet" } : undefined;
  if (name === "drbd") return bad("the DRBD init script: DRBD is now the stack's drbd resources (list each as drbddisk::RESOURCE); remove it");
  if (name === "heartbeat" || name === "pacemaker" || name === "corosync") return bad("the cluster itself is not a resource");
  if (HEARTBEAT_SCRIPTS.includes(name))
    return bad(`heartbeat's ${name} resource has no equivalent in a failover stack file: remove it from haresources, migrate, and add it by hand (pcs resource create ID ocf:heartbeat:${name === "IPv6addr" ? "IPv6addr" : name} ..., then pcs resource group add GROUP ID)`);
  if (args.length) return bad(`unknown resource ${show(name)}: heartbeat's resource.d scripts the migration knows are drbddisk, Filesystem, IPaddr, IPaddr2, MailTo and IET's init script (iscsitarget)`);
  // a plain name: an init script, under systemd the unit of the same name
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/.test(name) || agentSpec(`systemd:${name}`)) return bad("not an init script name");
  return { t: "service", agent: `systemd:${name}`, init: name };
}

function maskBits(mask: string): number | undefined {
  if (!isIPv4(mask)) return undefined;
  const n = mask.split(".").reduce((a, o) => a * 256 + Number(o), 0);
  const bits = n.toString(2).padStart(32, "0");
  return /^1*0*$/.test(bits) ? bits.indexOf("0") === -1 ? 32 : bits.indexOf("0") : undefined;
}

// ---- drbd.conf ----------------------------------------------------------------------------------

interface DrbdConf {
  /** resource -> its devices (/dev/drbdN, from every `device` of the resource, its hosts and volumes) */
  resources: Map<string, Set<string>>;
  /** resource -> has `fencing resource-and-stonith` (in the resource or common) */
  fenced: Map<string, boolean>;
  includes: string[];
  /** 8.3 syntax seen (syncer section, outdate-peer handler) */
  v83: boolean;
  /** heartbeat's dopd (drbd-peer-outdater) as a handler */
  dopd: boolean;
}

function readDrbd(text: string, file: string, e: Errors): DrbdConf | undefined {
  let tree: Node[];
  try {
    tree = parseDrbdSyntax(text);
  } catch (err) {
    if (!(err instanceof ConfError)) throw err;
    const m = /^line (\d+): (.*)$/.exec(err.message);
    e.list.push(m ? `${file}:${m[1]}: ${m[2]}` : `${file}: ${err.message}`);
    return undefined;
  }
  const conf: DrbdConf = { resources: new Map(), fenced: new Map(), includes: [], v83: false, dopd: false };
  const walk = (nodes: Node[], f: (n: Node) => void) => {
    for (const n of nodes) {
      f(n);
      if (n.children) walk(n.children, f);
    }
  };
  // policy: disk { fencing ... } (8.4) or net { fencing ... } (9), in common or the resource
  const fencing = (nodes: Node[]) => {
    let v = false;
    walk(nodes, (n) => {
      if (!n.children && n.words[0] === "fencing" && n.words[1] === "resource-and-stonith") v = true;
    });
    return v;
  };
  walk(tree, (n) => {
    if (n.children && n.words[0] === "syncer") conf.v83 = true;
    if (!n.children && n.words[0] === "outdate-peer") conf.v83 = true;
    if (!n.children && n.words.some((w) => w.includes("drbd-peer-outdater"))) conf.dopd = true;
  });
  const common = tree.filter((n) => n.children && n.words[0] === "common").flatMap((n) => n.children!);
  for (const n of tree) {
    if (!n.children && n.words[0] === "include") conf.includes.push(n.words[1] ?? "");
    if (!n.children || n.words[0] !== "resource") continue;
    const name = n.words[1] ?? "";
    if (drbdResource(name)) {
      e.at(file, n.line, `resource ${show(name)}: ${drbdResource(name)}`);
      continue;
    }
    const devs = new Set<string>();
    walk(n.children, (s) => {
      if (s.children || s.words[0] !== "device") return;
      const w = s.words.slice(1);
      if (w[0] === "minor" && /^\d+$/.test(w[1] ?? "")) devs.add(`/dev/drbd${w[1]}`);
      else if (w[0]?.startsWith("/")) devs.add(w[0]);
    });
    devs.add(`/dev/drbd/by-res/${name}`);
    conf.resources.set(name, devs);
    conf.fenced.set(name, fencing(n.children) || fencing(common));
  }
  return conf;
}

/** The DRBD resource a device belongs to, when drbd.conf says. */
function drbdOf(conf: DrbdConf | undefined, dev: string): string | undefined {
  for (const [r, devs] of conf?.resources ?? []) if (devs.has(dev) || dev.startsWith(`/dev/drbd/by-res/${r}/`)) return r;
  return undefined;
}

// ---- ietd.conf ----------------------------------------------------------------------------------

interface IetLun {
  n: number;
  path: string;
  line: number;
  type: string;
  /** LUN parameters without a stack key: NAME=VALUE */
  dropped: string[];
  scsiSn?: string;
  scsiId?: string;
  ioMode?: string;
}
interface IetUser {
  user: string;
  secret: string;
  line: number;
}
interface IetTarget {
  iqn: string;
  line: number;
  luns: IetLun[];
  incoming: IetUser[];
  outgoing: IetUser[];
  /** settings left to the implementation: "Keyword value" */
  session: string[];
}
interface Iet {
  targets: IetTarget[];
  /** discovery CHAP and iSNS, outside any Target */
  global: string[];
}

const ci = (list: string[], w: string) => list.find((k) => k.toLowerCase() === w.toLowerCase());

function readIet(text: string, file: string, e: Errors): Iet {
  const iet: Iet = { targets: [], global: [] };
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  // the secrets, so that no message ever echoes one (even as a mistyped keyword)
  const secrets = new Set<string>();
  for (const l of lines) {
    const w = l.trim().split(/\s+/);
    if (/^(incoming|outgoing)user$/i.test(w[0] ?? "") && w.length >= 3) for (const s of w.slice(2)) secrets.add(s);
  }
  let t: IetTarget | undefined;
  lines.forEach((raw, i) => {
    const n = i + 1;
    const l = raw.trim();
    if (!l || l.startsWith("#")) return;
    const [kw0 = "", ...args] = l.split(/\s+/);
    const kw = kw0.toLowerCase();
    if (kw === "incominguser" || kw === "outgoinguser") {
      // the secret is never checked for characters, never echoed: it is not used at all
      const label = kw === "incominguser" ? "IncomingUser" : "OutgoingUser";
      if (args.length === 0) return;
      if (args.length !== 2) return e.at(file, n, `${label} takes USER SECRET (one word each; the line is not shown: it may hold a secret)`);
      const [user = "", secret = ""] = args;
      const ue = chapError(user) ?? (SAFE.test(user) ? undefined : "has characters that are refused here");
      if (ue) return e.at(file, n, `${label}: the user name ${ue}`);
      if (!t) return void iet.global.push(`${label} ${user} (line ${n}): CHAP for discovery sessions`);
      (kw === "incominguser" ? t.incoming : t.outgoing).push({ user, secret, line: n });
      return;
    }
    if (/[\x00-\x08\x0b-\x1f\x7f]/.test(l)) return e.at(file, n, "control characters: not an ietd.conf line");
    if (kw === "target") {
      if (args.length !== 1) return e.at(file, n, "Target takes one IQN");
      const name = args[0]!;
      const err = iqnError(name);
      if (err || !SAFE.test(name)) {
        t = undefined;
        return e.at(file, n, `Target: ${err ?? `${show(name)} has characters an iSCSI name does not`}`);
      }
      if (iet.targets.some((x) => x.iqn === name)) e.at(file, n, `Target ${name} is defined twice (line ${iet.targets.find((x) => x.iqn === name)!.line})`);
      t = { iqn: name, line: n, luns: [], incoming: [], outgoing: [], session: [] };
      iet.targets.push(t);
      return;
    }
    const word = secrets.has(kw0) ? "a word that is also a CHAP secret (not shown)" : show(kw0);
    if (kw === "lun") {
      if (!t) return e.at(file, n, "Lun outside a Target");
      const lun = ietLun(args, n, file, e);
      if (!lun) return;
      if (t.luns.some((x) => x.n === lun.n)) return e.at(file, n, `Lun ${lun.n} of ${t.iqn} is defined twice`);
      t.luns.push(lun);
      return;
    }
    const sess = ci(IET_SESSION, kw0);
    const glob = ci(IET_GLOBAL, kw0);
    if (!sess && !glob) return e.at(file, n, `unknown keyword ${word} (ietd.conf(5) knows Target, Lun, IncomingUser, OutgoingUser, Alias, ${IET_SESSION.slice(0, 4).join(", ")}, ...)`);
    const v = args.join(" ");
    if (!args.length || !args.every((a) => SAFE.test(a))) return e.at(file, n, `${sess ?? glob}: ${args.length ? `value ${show(v)} has characters that are refused here` : "has no value"}`);
    if (glob) iet.global.push(`${glob} ${v} (line ${n})`);
    else if (!t) iet.global.push(`${sess} ${v} (line ${n}, outside a Target)`);
    else t.session.push(`${sess} ${v}`);
  });
  return iet;
}

/** `Lun N Path=/dev/x,Type=blockio[,ScsiId=..][,ScsiSN=..][,IOMode=..][,BlockSize=..]` */
function ietLun(args: string[], n: number, file: string, e: Errors): IetLun | undefined {
  const [num = "", ...rest] = args;
  if (!/^\d{1,5}$/.test(num) || Number(num) > 16383) return void e.at(file, n, `Lun ${show(num)}: a LUN number is 0-16383`);
  const lun: IetLun = { n: Number(num), path: "", line: n, type: "fileio", dropped: [] };
  // IET splits at ','; a value is never allowed spaces, but show a Path with one as what it is
  const params = rest.join(" ").split(",").map((s) => s.trim()).filter(Boolean);
  let ok = true;
  const fail = (msg: string) => {
    ok = false;
    e.at(file, n, `Lun ${lun.n}: ${msg}`);
  };
  for (const kv of params) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(kv);
    if (!m) {
      fail(`${show(kv)} is not KEY=VALUE`);
      continue;
    }
    const [, k0 = "", v = ""] = m;
    const k = k0.toLowerCase();
    if (k === "path") {
      const err = absPath(v);
      if (err) fail(`Path: ${err}`);
      lun.path = v;
      continue;
    }
    if (!SAFE.test(v)) {
      fail(`${k0}: value ${show(v)} has characters that are refused here`);
      continue;
    }
    if (k === "type") {
      if (!["fileio", "blockio", "nullio"].includes(v.toLowerCase())) fail(`Type ${show(v)} is not fileio, blockio or nullio`);
      else if (v.toLowerCase() === "nullio") fail("Type=nullio is a test device without data: nothing to migrate; remove the Lun");
      lun.type = v.toLowerCase();
    } else if (k === "scsisn") {
      if (v.length > 253 || v.includes(",")) fail(`ScsiSN ${show(v)} is not a SCSI serial (printable, at most 253 characters)`);
      lun.scsiSn = v;
    } else if (k === "scsiid") {
      if (v.length > 24) fail(`ScsiId ${show(v)} is longer than 24 characters`);
      lun.scsiId = v;
    } else if (k === "iomode") {
      if (!["wb", "wt", "ro"].includes(v.toLowerCase())) fail(`IOMode ${show(v)} is not wb, wt or ro`);
      lun.ioMode = v.toLowerCase();
    } else if (k === "blocksize" || k === "blocks") {
      if (!/^\d+$/.test(v)) fail(`${k0} ${show(v)} is not a number`);
      lun.dropped.push(`${k0}=${v}`);
    } else fail(`unknown parameter ${show(k0)} (IET's Lun takes Path, Type, ScsiId, ScsiSN, IOMode, BlockSize)`);
  }
  if (!lun.path && ok) fail("has no Path=");
  return ok ? lun : undefined;
}

// ---- initiators.allow ---------------------------------------------------------------------------

interface Allow {
  /** target IQN or ALL -> initiator IQNs, addresses, ALL */
  rules: Array<{ target: string; entries: string[]; line: number }>;
}

function readAllow(text: string, file: string, e: Errors, targets: string[]): Allow {
  const a: Allow = { rules: [] };
  text.split("\n").forEach((raw, i) => {
    const n = i + 1;
    const l = raw.replace(/\r$/, "").trim();
    if (!l || l.startsWith("#")) return;
    const [target = "", ...rest] = l.split(/\s+/);
    if (target !== "ALL") {
      if (!SAFE.test(target) || iqnError(target)) return e.at(file, n, `${show(target)} is not ALL or a target IQN (IET's regular expressions are not read: list the targets)`);
      if (!targets.includes(target)) return e.at(file, n, `target ${target} is not in ietd.conf`);
    }
    const entries = rest.join(" ").split(",").map((s) => s.trim()).filter(Boolean);
    if (!entries.length) return e.at(file, n, `no initiator after ${show(target)}`);
    for (const x of entries) {
      const addr = /^\[?([0-9A-Fa-f:.]+)\]?(\/\d{1,3})?$/.exec(x);
      if (x === "ALL" || (!iqnError(x) && SAFE.test(x)) || (addr && /[.:]/.test(addr[1]!) && (isIPv4(addr[1]!) || addr[1]!.includes(":")))) continue;
      e.at(file, n, `${show(x)} is not ALL, an initiator IQN, an address or a subnet`);
    }
    a.rules.push({ target, entries, line: n });
  });
  return a;
}

// ---- the stack file -----------------------------------------------------------------------------

const y = (v: string | number | boolean) => stringify(v, { lineWidth: 0 }).trimEnd();

/** A comment block: "# " lines wrapped at 100 columns; a bullet's continuation lines are indented under its text. */
function comment(text: string, indent = "", bullet = ""): string[] {
  const out: string[] = [];
  const width = 100 - indent.length - 2;
  let line = "";
  for (const w of text.split(" ").filter(Boolean)) {
    if (line && line.length + 1 + w.length > width) {
      out.push(line);
      line = "";
    }
    line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(line);
  return out.map((l, i) => `${indent}# ${i === 0 ? bullet : " ".repeat(bullet.length)}${l}`);
}

const FENCING_KEYS: Record<string, string[]> = {
  sbd: ["sbd-device: [/dev/disk/by-id/...]   # REQUIRED: 1 to 3 shared disks, the same path on every node"],
  watchdog: ["# needs 3+ nodes or a quorum device (corosync.conf); optional: watchdog: /dev/watchdog"],
  agent: [
    "fence-agent: fence_ipmilan             # REQUIRED: the fence agent (pcs stonith list)",
    "fence-param: [node1:ip=..., node2:ip=..., username=...]",
    "fence-password-file: [/etc/tsstor/bmc.pw]   # root only, mode 0600; never a password here",
  ],
  "drbd-quorum": ["on-no-quorum: suspend-io   # DRBD 9 with 3+ DRBD nodes only"],
  none: [],
};

export function migrateToStack(o: MigrateOptions): { text: string; notes: string[] } {
  const F = {
    ha: o.files?.haresources ?? "haresources",
    ietd: o.files?.ietd ?? "ietd.conf",
    drbd: o.files?.drbdconf ?? "drbd.conf",
    allow: o.files?.initiatorsAllow ?? "initiators.allow",
  };
  const e = new Errors();
  const notes: string[] = [];
  const P = o.name;
  const nameErr = resourceId(P);
  if (nameErr) e.list.push(`--name: ${nameErr}`);
  if (!Object.hasOwn(METHODS, o.fencing)) e.list.push(`--fencing: ${show(o.fencing)} is not one of ${Object.keys(METHODS).join(", ")}`);
  if (o.implementation !== "lio-t" && o.implementation !== "tgt") e.list.push(`--implementation: ${show(String(o.implementation))} is not lio-t or tgt`);

  const drbd = o.drbdconf !== undefined ? readDrbd(o.drbdconf, F.drbd, e) : undefined;
  const iet = o.ietd !== undefined ? readIet(o.ietd, F.ietd, e) : undefined;

  // -- haresources: every line, every resource
  const lines = haLines(o.haresources, F.ha, e);
  if (!lines.length && !e.list.length) e.list.push(`${F.ha}: no resource line (NODE RESOURCE...)`);
  const drbdRes: Array<{ name: string; line: number }> = [];
  const fss: Array<{ device: string; directory: string; fstype: string; options?: string; line: number; src: string }> = [];
  const ips: Array<{ address: string; nic?: string; line: number; src: string }> = [];
  const services: Array<{ agent: string; params?: Record<string, string>; line: number; src: string }> = [];
  let ietLine: number | undefined;
  const preferred = new Map<string, number[]>();
  for (const l of lines) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(l.node)) {
      e.at(F.ha, l.line, `${show(l.node)} is not a node name (a line is NODE RESOURCE...)`);
      continue;
    }
    if (!l.resources.length) {
      e.at(F.ha, l.line, `node ${l.node} with no resources`);
      continue;
    }
    preferred.set(l.node, [...(preferred.get(l.node) ?? []), l.line]);
    // the order the line starts its members in, by kind, to compare with the stack's
    const kinds: Array<[string, string]> = [];
    for (const tok of l.resources) {
      const r = haResource(tok, F.ha, e, drbd, F.drbd);
      if (!r) continue;
      const src = `${F.ha} line ${tok.line}: ${tok.text}`;
      if (r.t === "drbd") {
        for (const name of r.names) {
          if (drbdRes.some((d) => d.name === name)) notes.push(`DRBD ${name} is named again on ${F.ha} line ${tok.line}: one drbd entry.`);
          else drbdRes.push({ name, line: tok.line });
        }
        if (r.all) notes.push(`${F.ha} line ${tok.line}: drbddisk without a resource promoted every DRBD resource: ${r.names.join(", ")} (from ${F.drbd}).`);
      } else if (r.t === "fs") {
        const dup = fss.find((f) => f.directory === r.directory || f.device === r.device);
        if (dup) e.at(F.ha, tok.line, `${r.device} at ${r.directory}: also mounted by line ${dup.line} (${dup.device} at ${dup.directory})`);
        else fss.push({ ...r, line: tok.line, src });
        kinds.push(["filesystems", tok.text]);
      } else if (r.t === "ip") {
        const addr = r.address.split("/")[0];
        const dup = ips.find((i) => i.address.split("/")[0] === addr);
        if (dup) {
          e.at(F.ha, tok.line, `${addr}: also on line ${dup.line}`);
          continue;
        }
        ips.push({ address: r.address, ...(r.nic ? { nic: r.nic } : {}), line: tok.line, src });
        kinds.push(["IPs", tok.text]);
        if (r.label) notes.push(`${F.ha} line ${tok.line}: the interface label ${r.nic}:${r.label} is gone: IPaddr2 adds ${r.address} to ${r.nic} itself (ifconfig no longer shows it; "ip addr show ${r.nic}" does).`);
        else if (r.agent === "IPaddr") notes.push(`${F.ha} line ${tok.line}: heartbeat's IPaddr made an alias interface (ifconfig showed ${r.nic ?? "ethN"}:0); ocf:tsstor:IPaddr2 adds the address to ${r.nic ?? "the interface"} (see it with "ip addr show").`);
        if (r.broadcast) notes.push(`${F.ha} line ${tok.line}: broadcast ${r.broadcast} is not carried over: IPaddr2 derives the broadcast address from the prefix.`);
        if (!r.address.includes("/")) notes.push(`${F.ha} line ${tok.line}: ${r.address} has no netmask: IPaddr2 takes the prefix from the route to it; give /PREFIX in the stack file to be sure.`);
        if (!r.nic) notes.push(`${F.ha} line ${tok.line}: no interface for ${r.address}: IPaddr2 picks it from the routing table.`);
      } else if (r.t === "iet") {
        if (ietLine !== undefined) e.at(F.ha, tok.line, `IET's init script is started twice (also line ${ietLine})`);
        ietLine = tok.line;
        kinds.push(["targets", tok.text]);
      } else {
        const dup = services.find((s) => s.agent === r.agent && JSON.stringify(s.params) === JSON.stringify(r.params));
        if (dup) {
          e.at(F.ha, tok.line, `${tok.text}: also on line ${dup.line}`);
          continue;
        }
        services.push({ agent: r.agent, ...(r.params ? { params: r.params } : {}), line: tok.line, src });
        kinds.push(["services", tok.text]);
        if (r.init)
          notes.push(
            `${F.ha} line ${tok.line}: the init script ${r.init} is now the systemd unit ${r.init}.service (agent systemd:${r.init}): check that the unit exists on every node ("systemctl cat ${r.init}.service") and is not started at boot ("systemctl disable ${r.init}"): the cluster starts and stops it.`,
          );
        else notes.push(`${F.ha} line ${tok.line}: MailTo is ocf:heartbeat:MailTo (package resource-agents, needs a working "mail" command on every node); Pacemaker's alerts (pcs alert create ... alert_smtp.sh) report every resource, not only this group.`);
      }
    }
    const rank = ["filesystems", "targets", "IPs", "services"];
    for (let i = 1; i < kinds.length; i++) {
      const a = kinds[i - 1]!;
      const b = kinds[i]!;
      if (rank.indexOf(a[0]) > rank.indexOf(b[0]))
        notes.push(
          `${F.ha} line ${l.line} started ${a[1]} before ${b[1]}; the stack starts ${b[0]} first (order: DRBD promotions, filesystems, targets and their LUNs, IPs, services; stop in reverse)${a[0] === "IPs" && b[0] === "targets" ? ": initiators no longer reach the address before every LUN exists" : ""}.`,
        );
    }
  }

  // -- the IET targets, when haresources starts IET
  const impl = o.implementation;
  interface Out {
    iqn: string;
    line: number;
    luns: Array<{ n: number; path: string; comment: string[]; scsiSn?: string; scsiId?: string }>;
    initiators: string[];
    any: boolean;
    anyWhy: string;
    chapUser?: string;
    chapFile?: string;
    mutualUser?: string;
    mutualFile?: string;
  }
  const targets: Out[] = [];
  if (ietLine !== undefined && o.ietd === undefined) e.at(F.ha, ietLine, "IET's init script starts the targets of ietd.conf: give --ietd FILE (/etc/iet/ietd.conf, or /etc/ietd.conf)");
  if (ietLine === undefined && o.ietd !== undefined && !e.list.length)
    e.list.push(`${F.ietd}: given, but no ${F.ha} line starts IET (iscsitarget, iscsi-target or ietd): its targets would run outside the cluster; add the init script to the line whose DRBD backs the LUNs, or leave out --ietd`);
  const allow = o.initiatorsAllow !== undefined && iet ? readAllow(o.initiatorsAllow, F.allow, e, iet.targets.map((t) => t.iqn)) : undefined;
  if (o.initiatorsAllow !== undefined && o.ietd === undefined) e.list.push(`${F.allow}: initiators.allow needs --ietd (the targets it names)`);
  if (iet && ietLine !== undefined) {
    if (!iet.targets.length && !e.list.length) e.list.push(`${F.ietd}: no Target: nothing for IET's init script (${F.ha} line ${ietLine}) to start`);
    for (const g of iet.global) notes.push(`${F.ietd}: ${g}: no equivalent in the stack (tsstor's targets authenticate logins per target); not carried over.`);
    const usedFiles = new Set<string>();
    for (const t of iet.targets) {
      if (!t.luns.length) {
        e.at(F.ietd, t.line, `Target ${t.iqn} has no Lun: a tsstor target needs at least one (remove the target or give it its LUN)`);
        continue;
      }
      const tail = part(/:([^:]+)$/.exec(t.iqn)?.[1] ?? t.iqn);
      const fileFor = (suffix: string) => {
        let f = `/etc/tsstor/chap-${tail}${suffix}`;
        for (let i = 2; usedFiles.has(f); i++) f = `/etc/tsstor/chap-${tail}${suffix}-${i}`;
        usedFiles.add(f);
        return f;
      };
      // tgt's LUN 0 is its controller: shift the target's LUNs up by one, keeping their order
      const shift = impl === "tgt" && t.luns.some((l) => l.n === 0) ? 1 : 0;
      if (shift)
        notes.push(
          `Target ${t.iqn}: tgt reserves LUN 0 for its controller: LUNs renumbered ${t.luns.map((l) => `${l.n} -> ${l.n + 1}`).join(", ")}. Initiators see the disks under the new numbers (rescan them; on Linux /dev/disk/by-path names change).`,
        );
      const out: Out = { iqn: t.iqn, line: t.line, luns: [], initiators: [], any: false, anyWhy: "" };
      for (const l of t.luns) {
        const c: string[] = [`${F.ietd} line ${l.line}${shift ? `: IET LUN ${l.n}` : ""}`];
        const on = drbdOf(drbd, l.path);
        if (drbd && on && !drbdRes.some((d) => d.name === on)) notes.push(`WARNING: LUN ${l.n} of ${t.iqn} is ${l.path}, DRBD ${on}, which no ${F.ha} line promotes (drbddisk::${on}): add it to drbd: or the LUN cannot start.`);
        if (drbd && !on && [...drbd.resources.values()].length) notes.push(`WARNING: LUN ${l.n} of ${t.iqn} is ${l.path}, not a DRBD device of ${F.drbd}: on the other node that path is another disk (unless it is shared storage).`);
        if (l.type === "fileio") notes.push(`LUN ${l.n} of ${t.iqn}: Type=fileio (IET's page cache) is not carried over: the LU serves ${l.path} with ${impl}'s default backstore for it.`);
        if (l.ioMode === "ro") notes.push(`WARNING: LUN ${l.n} of ${t.iqn} was read-only (IOMode=ro); the stack has no read-only LUN: initiators can WRITE to ${l.path} after the migration. Protect it before applying.`);
        else if (l.ioMode === "wb") notes.push(`LUN ${l.n} of ${t.iqn}: IOMode=wb (IET's write-back cache: acknowledged writes could be lost in a failover) is not carried over: writes reach DRBD before they are acknowledged.`);
        else if (l.ioMode) notes.push(`LUN ${l.n} of ${t.iqn}: IOMode=${l.ioMode} is not carried over (the backstore's default applies).`);
        // the serial and id are how initiators (ESXi) recognise the disk: carried over as they were
        const ident = (v: string | undefined) => (v !== undefined && /^[\x21-\x7e]{1,253}$/.test(v) ? v : undefined);
        const scsiSn = ident(l.scsiSn);
        const scsiId = ident(l.scsiId);
        if (l.scsiSn !== undefined && !scsiSn) notes.push(`LUN ${l.n} of ${t.iqn}: ScsiSN=${l.scsiSn} is not carried over (a stack file's scsi-sn is printable without spaces): the LU gets the agent's default serial.`);
        if (l.scsiId !== undefined && !scsiId) notes.push(`LUN ${l.n} of ${t.iqn}: ScsiId=${l.scsiId} is not carried over (a stack file's scsi-id is printable without spaces).`);
        for (const d of l.dropped) notes.push(`LUN ${l.n} of ${t.iqn}: ${d} is not carried over (the backstore's default applies).`);
        if ((l.scsiSn !== undefined && !scsiSn) || (l.scsiId !== undefined && !scsiId) || l.ioMode || l.dropped.length) c.push("parameters not carried over: see the notes");
        out.luns.push({ n: l.n + shift, path: l.path, comment: c, scsiSn, scsiId });
      }
      if (t.session.length) notes.push(`Target ${t.iqn}: IET settings left to ${impl}'s defaults (initiators negotiate them at login): ${t.session.join(", ")}.`);
      // CHAP: the user only; the secret stays where it was, the operator puts it in a root-only file
      const [inc, ...moreInc] = t.incoming;
      const [outg, ...moreOut] = t.outgoing;
      if (moreInc.length) notes.push(`Target ${t.iqn}: IET accepted ${t.incoming.length} CHAP users (${t.incoming.map((u) => u.user).join(", ")}); a tsstor target has one: ${inc!.user}. The others (lines ${moreInc.map((u) => u.line).join(", ")}) can no longer log in.`);
      if (moreOut.length) notes.push(`Target ${t.iqn}: only the first OutgoingUser (${outg!.user}) is kept; lines ${moreOut.map((u) => u.line).join(", ")} are not.`);
      if (inc) {
        out.chapUser = inc.user;
        out.chapFile = fileFor("");
        notes.push(
          `Target ${t.iqn}: CHAP user ${inc.user} (${F.ietd} line ${inc.line}). The secret was NOT copied: on EVERY node create ${out.chapFile} holding the secret on its first line, root only: install -d -m 0700 /etc/tsstor; install -m 0600 /dev/null ${out.chapFile}; then write the secret into it with an editor (not with echo on a command line: it would be in the shell history).`,
        );
        if (impl === "tgt" && inc.user.includes(",")) notes.push(`WARNING: Target ${t.iqn}: tgt cannot take a ',' in the CHAP user ${inc.user}: choose another user.`);
        if (impl === "tgt" && inc.secret.includes(",")) notes.push(`WARNING: Target ${t.iqn}: the IncomingUser secret (line ${inc.line}) contains ',', which tgt cannot take: choose a new secret.`);
      }
      if (outg && !inc) notes.push(`Target ${t.iqn}: OutgoingUser ${outg.user} (line ${outg.line}) without IncomingUser: the target authenticates itself only after the initiator did (mutual CHAP); not carried over.`);
      else if (outg && inc) {
        out.mutualUser = outg.user;
        out.mutualFile = fileFor("-mutual");
        notes.push(`Target ${t.iqn}: mutual CHAP user ${outg.user} (line ${outg.line}); its secret was NOT copied either: create ${out.mutualFile} the same way (mode 0600, every node).`);
        const pair = chapPairError(impl, { user: inc.user, password: inc.secret }, { user: outg.user, password: outg.secret });
        if (pair) notes.push(`WARNING: Target ${t.iqn}: ${pair}: tsstor refuses this pair; choose new secrets (lines ${inc.line} and ${outg.line}).`);
      }
      // who may log in
      if (allow) {
        const rules = allow.rules.filter((r) => r.target === t.iqn || r.target === "ALL");
        const entries = rules.flatMap((r) => r.entries.map((x) => ({ x, line: r.line })));
        const iqns = [...new Set(entries.filter(({ x }) => x !== "ALL" && !iqnError(x)).map(({ x }) => x))];
        const addrs = entries.filter(({ x }) => x !== "ALL" && iqnError(x));
        const all = entries.find(({ x }) => x === "ALL");
        if (all) {
          out.any = true;
          out.anyWhy = `${F.allow} line ${all.line} allows ALL initiators`;
        } else if (iqns.length) out.initiators = iqns;
        else {
          out.any = true;
          out.anyWhy = rules.length ? `${F.allow} lists only addresses for this target (lines ${rules.map((r) => r.line).join(", ")}), which a tsstor target cannot filter on` : `${F.allow} names no initiator for this target`;
        }
        if (addrs.length)
          notes.push(
            `Target ${t.iqn}: the address entries of ${F.allow} (${addrs.map(({ x, line }) => `${x} line ${line}`).join(", ")}) are not carried over: tsstor targets admit initiators by name; filter addresses with the firewall (nftables) on every node, or list the initiators' IQNs.`,
          );
        if (iqns.length && !all) notes.push(`Target ${t.iqn}: only ${iqns.join(", ")} may log in. IET admitted everyone initiators.deny did not refuse; the tsstor target admits only the listed initiators.`);
      } else {
        out.any = true;
        out.anyWhy = `no ${F.allow} was given (--initiators-allow)`;
      }
      if (out.any) notes.push(`WARNING: Target ${t.iqn} is open to any initiator that reaches port 3260 (${out.anyWhy}): replace allow-any-initiator with initiators: [the initiators' IQNs, e.g. iqn.1998-01.com.vmware:... for ESXi hosts]${out.chapUser ? "" : " and add CHAP"}.`);
      targets.push(out);
    }
    if (iet.targets.length && !e.list.length)
      notes.push(
        `LUN identity: initiators know IET's LUNs by the device ids IET reported (ESXi names them t10.IET...); ${impl === "lio-t" ? "LIO" : "tgt"} reports other ids whatever the serial, so initiators see NEW disks. On ESXi a VMFS datastore on them is listed as a snapshot: once no host sees the IET LUN any more, mount it keeping its signature (esxcli storage vmfs snapshot mount -l LABEL) or resignature it. Do not present IET and the new target to the same hosts at once.`,
        `IET must go: stop and uninstall iscsitarget (IET) on every node (the kernel module iscsi_trgt holds port 3260; ${impl === "lio-t" ? "LIO" : "tgtd"} needs it). The targets are now in the CIB; ietd.conf is no longer read.`,
      );
    if (impl === "tgt" && targets.length) notes.push("tgt: tgtd must run on every node (systemctl enable --now tgt) with no targets of its own in /etc/tgt/conf.d: the cluster creates them.");
    if (impl === "lio-t" && targets.length) notes.push("lio-t: targetcli on every node; keep the LIO restore service disabled at boot (systemctl disable rtslib-fb-targetctl / target): the cluster creates the targets (tsstor doctor checks it).");
    if (o.files?.ietd) {
      const fs = fss.find((f) => !relative(f.directory, resolve(o.files!.ietd!)).startsWith(".."));
      if (fs) notes.push(`${F.ietd} lived on ${fs.directory} (${fs.device}), the replicated configuration volume: the CIB holds the targets now; keep that filesystem in the stack only if something else needs it.`);
    }
  }
  if (!iet && ietLine === undefined && o.ietd === undefined && e.list.length === 0 && !fss.length && !ips.length && !services.length)
    e.list.push(`${F.ha}: nothing to run: no Filesystem, IPaddr, IET or service in any line`);

  // -- drbd.conf checks against what the stack uses
  if (drbd) {
    for (const f of fss) {
      const on = drbdOf(drbd, f.device);
      if (on && !drbdRes.some((d) => d.name === on)) notes.push(`WARNING: ${f.src}: ${f.device} is DRBD ${on}, which no ${F.ha} line promotes (drbddisk::${on}): add it to drbd: or the mount cannot start.`);
    }
    if (drbd.v83) notes.push(`${F.drbd} is DRBD 8.3 syntax (a syncer section, the outdate-peer handler): tsstor's drbd agent and its fencing check know DRBD 8.4 and 9: move DRBD to 8.4 or 9 before Pacemaker manages it.`);
    if (drbd.dopd) notes.push(`${F.drbd} calls heartbeat's dopd (drbd-peer-outdater), which goes away with heartbeat: under Pacemaker DRBD fences through crm-fence-peer (see docs/stacks.md, "The DRBD half of fencing").`);
    if (drbd.includes.length) notes.push(`${F.drbd} includes ${drbd.includes.join(", ")}: not read here.`);
    const unfenced = drbdRes.filter((d) => drbd.fenced.get(d.name) === false).map((d) => d.name);
    if (unfenced.length && ["sbd", "watchdog", "agent"].includes(o.fencing))
      notes.push(`DRBD ${unfenced.join(", ")}: no "fencing resource-and-stonith" in ${F.drbd}: "tsstor stack apply" refuses until it is there with the crm-fence-peer handlers of your DRBD version (it says exactly what to write where).`);
  }
  if (drbdRes.length) notes.push("DRBD: disable its init script/unit at boot on every node (systemctl disable drbd): the cluster's drbd resources start, promote and stop it.");

  if (e.list.length) throw new MigrateError(e.list);

  // -- preferred nodes: heartbeat's first word; a stack has none
  const group = `${P}-group`;
  const nodes = [...preferred.keys()];
  if (lines.length > 1)
    notes.unshift(
      `The ${lines.length} ${F.ha} lines (lines ${lines.map((l) => l.line).join(", ")}) are ONE group now: everything runs on one node and fails over together (heartbeat moved each line on its own).`,
    );
  if (nodes.length > 1)
    notes.unshift(
      `WARNING: the lines preferred different nodes (${nodes.map((n) => `${n}: line ${preferred.get(n)!.join(", ")}`).join("; ")}): an active/active setup. In this one stack they all run on the same node; to keep them apart, split this file into one stack per node's lines (each its own --name) and give each a location preference.`,
    );
  notes.push(
    `Preferred node: ${nodes.join(", ")} (the first word of the ${F.ha} lines). The stack prefers no node; to keep the preference, after apply: pcs constraint location ${group} prefers ${nodes[0]}=50. The group then moves back when ${nodes[0]} returns, unless its stickiness is higher (heartbeat did that only with auto_failback on in ha.cf); without the constraint it stays where it runs.`,
    "Before starting Pacemaker: stop heartbeat on every node and disable it at boot (systemctl disable heartbeat). Two cluster managers running the same resources is a split brain.",
  );
  if (o.fencing === "none")
    notes.push(`WARNING: fencing none: a cut cluster link makes both nodes run this stack (${drbdRes.length ? "both promote DRBD: " : ""}split brain): configure fencing (sbd or agent) before production.`);

  // -- resource ids: derived as the failover stack does; a clash or an invalid one gets an id
  const ids = new Set<string>([group]);
  const alloc = (derived: string, fallback: string): string | undefined => {
    const ok = (id: string) => !resourceId(id) && !ids.has(id);
    let id = !resourceId(derived) ? derived : fallback;
    for (let i = 2; !ok(id); i++) id = `${!resourceId(derived) ? derived : fallback}-${i}`;
    ids.add(id);
    return id === derived ? undefined : id;
  };

  // -- the file
  const L: string[] = [];
  const inputs = [F.ha, ...(o.ietd !== undefined ? [F.ietd] : []), ...(o.drbdconf !== undefined ? [F.drbd] : []), ...(allow ? [F.allow] : [])];
  L.push(
    `# tsstor failover stack migrated from heartbeat v1 by "tsstor stack migrate" (${inputs.join(", ")}).`,
    "# Read every note, fill in what is marked REQUIRED, then: tsstor stack script FILE (review), tsstor stack apply FILE.",
    "#",
    "# Notes:",
  );
  for (const n of notes) L.push(...comment(n, "", "- "));
  L.push("", "kind: failover", `name: ${y(P)}`, "fencing:", `  method: ${y(o.fencing)}`);
  for (const k of FENCING_KEYS[o.fencing] ?? []) L.push(`  # ${k.replace(/^# /, "")}`);
  if (drbdRes.length) {
    L.push("drbd:");
    for (const [i, d] of drbdRes.entries()) {
      const devs = [...(drbd?.resources.get(d.name) ?? [])].filter((x) => !x.startsWith("/dev/drbd/by-res/"));
      const id = alloc(`${P}-drbd-${part(d.name)}`, `${P}-drbd${i + 1}`);
      ids.add(`${id ?? `${P}-drbd-${part(d.name)}`}-clone`);
      L.push(`  - resource: ${y(d.name)}   # ${devs.length ? `${devs.join(", ")}, ` : ""}${F.ha} line ${d.line}`);
      if (id) L.push(`    id: ${y(id)}`);
    }
  }
  if (fss.length) {
    L.push("filesystems:");
    for (const f of fss) {
      const id = alloc(`${P}-fs-${part(f.directory.replace(/\/+$/, "").split("/").pop() || "root")}`, `${P}-fs${fss.indexOf(f) + 1}`);
      L.push(`  - device: ${y(f.device)}   # ${f.src}`, `    directory: ${y(f.directory)}`, `    fstype: ${y(f.fstype)}`);
      if (f.options !== undefined) L.push(`    options: ${y(f.options)}`);
      if (id) L.push(`    id: ${y(id)}`);
    }
  }
  if (targets.length) {
    L.push("targets:");
    for (const [i, t] of targets.entries()) {
      const tail = /:([^:]+)$/.exec(t.iqn)?.[1] ?? t.iqn;
      const tId = alloc(`${P}-target-${part(tail)}`, `${P}-target${i + 1}`);
      const base = tId ?? `${P}-target-${part(tail)}`;
      L.push(`  - iqn: ${y(t.iqn)}   # ${F.ietd} line ${t.line}, started by ${F.ha} line ${ietLine}`, `    implementation: ${impl}`);
      if (tId) L.push(`    id: ${y(tId)}`);
      L.push(...comment(`portals: default 0.0.0.0:3260 (every address of the node, as IET listened).${impl === "lio-t" && ips.length ? ` portals: ["${ips[0]!.address.split("/")[0]}:3260"] limits it to the VIP (then every node needs net.ipv4.ip_nonlocal_bind=1).` : ""}`, "    "));
      if (t.initiators.length) {
        L.push("    initiators:");
        for (const x of t.initiators) L.push(`      - ${y(x)}`);
      } else {
        L.push(...comment(`WARNING: ${t.anyWhy}: any host that reaches the portal may read and write every LUN. Restrict it: replace the next line with initiators: [IQN, ...].`, "    "));
        L.push("    allow-any-initiator: true");
      }
      if (t.chapUser) {
        L.push(`    chap-user: ${y(t.chapUser)}`, `    chap-secret-file: ${y(t.chapFile!)}   # REQUIRED on every node: root only, mode 0600, the secret on line 1`);
        if (t.mutualUser) L.push(`    mutual-chap-user: ${y(t.mutualUser)}`, `    mutual-chap-secret-file: ${y(t.mutualFile!)}   # REQUIRED on every node, mode 0600`);
      }
      L.push("    luns:");
      for (const l of t.luns) {
        L.push(`      - lun: ${l.n}   # ${l.comment.join("; ")}`, `        path: ${y(l.path)}`);
        if (l.scsiSn) L.push(`        scsi-sn: ${y(l.scsiSn)}   # IET's ScsiSN: initiators identify the disk by it`);
        if (l.scsiId) L.push(`        scsi-id: ${y(l.scsiId)}   # IET's ScsiId`);
        const lid = alloc(`${base}-lun${l.n}`, `${P}-t${i + 1}-lun${l.n}`);
        if (lid) L.push(`        id: ${y(lid)}`);
      }
    }
  }
  if (ips.length) {
    L.push("ips:");
    for (const [i, v] of ips.entries()) {
      const id = alloc(`${P}-ip-${part(v.address.split("/")[0]!)}`, `${P}-ip${i + 1}`);
      L.push(`  - address: ${y(v.address)}   # ${v.src}`);
      if (v.nic) L.push(`    nic: ${y(v.nic)}`);
      if (id) L.push(`    id: ${y(id)}`);
    }
  }
  if (services.length) {
    L.push("services:");
    for (const [i, s] of services.entries()) {
      const id = alloc(`${P}-${part(/([^:]+)$/.exec(s.agent)?.[1] ?? "service")}`, `${P}-service${i + 1}`);
      L.push(`  - agent: ${y(s.agent)}   # ${s.src}`);
      if (s.params) {
        L.push("    params:");
        for (const [k, v] of Object.entries(s.params)) L.push(`      ${k}: ${y(v)}`);
      }
      if (id) L.push(`    id: ${y(id)}`);
    }
  }
  const text = `${L.join("\n")}\n`;
  selfCheck(text);
  return { text, notes };
}

/**
 * The generated file must load as tsstor's own stack file. Checked without this machine: fencing
 * none (the chosen method's devices and drbd.conf are checked by apply, on a node), and without the
 * CHAP lines (their secret files exist only once the operator has created them).
 */
function selfCheck(text: string): void {
  const probe = text
    .replace(/^fencing:\n(?: {2}.*\n)+/m, "fencing:\n  method: none\n")
    .replace(/^ {4}(mutual-)?chap-(user|secret-file): .*\n/gm, "");
  try {
    parseStack(probe, "generated");
  } catch (err) {
    if (err instanceof StackFileError) throw new MigrateError(err.problems.map((p) => `internal: the generated stack file does not load: ${p}`));
    throw err;
  }
}

// ---- tsstor stack migrate ------------------------------------------------------------------------

const MAX_BYTES = 1 << 20;

function readInput(flag: string, path: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const st = fstatSync(fd);
    if (!st.isFile()) throw new MigrateError([`--${flag} ${path}: not a regular file`]);
    if (st.size > MAX_BYTES) throw new MigrateError([`--${flag} ${path}: larger than 1 MiB: not a ${flag} file`]);
    const buf = readFileSync(fd);
    const text = buf.toString("utf8");
    if (buf.includes(0)) throw new MigrateError([`--${flag} ${path}: binary data (NUL bytes): not a ${flag} file`]);
    return text;
  } catch (err) {
    if (err instanceof MigrateError) throw err;
    throw new MigrateError([`--${flag} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface MigrateArgs {
  haresources?: string;
  ietd?: string;
  drbdconf?: string;
  "initiators-allow"?: string;
  implementation?: string;
  name?: string;
  fencing?: string;
  out?: string;
  force?: boolean;
}

export function migrateCommand(setCode: (code: number) => void): CommandModule<object, MigrateArgs> {
  return {
    command: "migrate",
    describe: "write a failover stack file from a heartbeat v1 cluster: haresources, IET's ietd.conf and initiators.allow, drbd.conf",
    builder: (yy: Argv) =>
      yy
        .option("haresources", { type: "string", demandOption: true, describe: "heartbeat's resource file (/etc/ha.d/haresources)" })
        .option("ietd", { type: "string", describe: "IET's ietd.conf (/etc/iet/ietd.conf): the targets its init script starts" })
        .option("drbdconf", { type: "string", describe: "drbd.conf: maps drbddisk::RES to its /dev/drbdN (and drbddisk alone to every resource)" })
        .option("initiators-allow", { type: "string", describe: "IET's initiators.allow: the initiators each target admits (else: open, with a WARNING)" })
        .option("implementation", { type: "string", choices: ["lio-t", "tgt"], default: "lio-t", describe: "the iSCSI target replacing IET" })
        .option("name", { type: "string", default: "storage", describe: "the stack's name (prefix of its resource ids)" })
        .option("fencing", { type: "string", demandOption: true, choices: Object.keys(METHODS), describe: "the stack's fencing method (its devices are filled in the file)" })
        .option("out", { type: "string", describe: "write the stack file here (default: print it); the notes go to stderr" })
        .option("force", { type: "boolean", default: false, describe: "with --out: replace an existing file" }) as Argv<MigrateArgs>,
    handler: (a) => {
      try {
        const files = { haresources: String(a.haresources), ietd: a.ietd, drbdconf: a.drbdconf, initiatorsAllow: a["initiators-allow"] };
        const r = migrateToStack({
          haresources: readInput("haresources", files.haresources),
          ...(files.ietd !== undefined ? { ietd: readInput("ietd", files.ietd) } : {}),
          ...(files.drbdconf !== undefined ? { drbdconf: readInput("drbdconf", files.drbdconf) } : {}),
          ...(files.initiatorsAllow !== undefined ? { initiatorsAllow: readInput("initiators-allow", files.initiatorsAllow) } : {}),
          implementation: (a.implementation ?? "lio-t") as Implementation,
          name: a.name ?? "storage",
          fencing: String(a.fencing),
          files,
        });
        if (a.out === undefined) process.stdout.write(r.text);
        else {
          if (existsSync(a.out) && !a.force) throw new MigrateError([`--out ${a.out}: exists (an edited stack file?): give another name, or --force to replace it`]);
          const tmp = `${a.out}.tsstor-new`;
          writeFileSync(tmp, r.text, { mode: 0o644 });
          renameSync(tmp, a.out);
          process.stderr.write(`tsstor: wrote ${a.out}; ${r.notes.length} notes (also at the top of the file):\n${r.notes.map((n) => `  - ${n}`).join("\n")}\n`);
        }
        setCode(0);
      } catch (err) {
        if (!(err instanceof MigrateError)) throw err;
        process.stderr.write(`${err.message}\ntsstor: nothing was written.\n`);
        setCode(2);
      }
    },
  };
}
