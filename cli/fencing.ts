// The fencing half of every `tsstor stack`: --fencing sbd|watchdog|agent|drbd-quorum|none, validated
// with the stack's own options (one Problems list, nothing runs unless it is empty), and turned into
// pcs commands for the same CIB transaction, plus the node steps sbd needs before it (device
// initialisation, enabling sbd, the cluster restart), each only when asked for.
import { runTool } from "./run.js";
import { accessSync, constants, statSync } from "node:fs";
import { ConfError } from "./doctor/conf.js";
import { readCorosync, type Corosync } from "./doctor/corosync.js";
import { drbdKernelVersion, readDrbdConfig } from "./doctor/drbd.js";
import { drbdFencingFindings, drbdMajor, handlerLines, type OnNoQuorum } from "./hazards/drbd.js";
import { FENCE_DELAY_MAX } from "./hazards/fencing.js";
import { Problems, absPath, resourceId } from "./validate.js";

export type Method = "sbd" | "watchdog" | "agent" | "drbd-quorum" | "none";

/** Each method and when to pick it (the refusal without --fencing prints these). */
export const METHODS: Record<Method, string> = {
  sbd: "shared-disk SBD (--sbd-device, 1 or 3 small LUNs all nodes see): fencing through storage, any node count",
  watchdog: "diskless SBD (watchdog self-fencing): no fence hardware or shared disk, only with 3+ nodes or a quorum device",
  agent: "a fence agent per node (--fence-agent fence_ipmilan, a PDU...): power fencing through a BMC or PDU",
  "drbd-quorum": "DRBD 9 quorum instead of node fencing: DRBD stacks with 3+ DRBD nodes (a diskless tiebreaker counts)",
  none: "no fencing: test clusters only (a cut link makes both nodes serve the data: split brain)",
};

export interface FencingOptions {
  method?: string;
  /** sbd */
  sbdDevices?: string[];
  sbdInit?: boolean;
  sbdMsgwait?: number;
  /** sbd and watchdog */
  sbdEnable?: boolean;
  watchdog?: string;
  sbdWatchdogTimeout?: number;
  /** sbd, watchdog, agent */
  corosyncConf?: string;
  /** agent */
  fenceAgent?: string;
  fenceParams?: string[];
  fenceHostMap?: string[];
  fencePasswordFiles?: string[];
  /** drbd-quorum */
  onNoQuorum?: string;
  /** the DRBD configuration cannot be read here: print the script anyway, listing what it must contain */
  skipDrbdCheck?: boolean;
}

export interface FencingTarget {
  stack: "iscsi" | "gfs2" | "drbd-fs" | "san" | "failover";
  /** the DRBD resources under the stack (none: no DRBD); one is not checkable when its name or drbdconf is invalid (reported already) */
  drbd?: DrbdTarget[];
  /** what the stack risks without fencing (the WARNING lines --fencing none keeps) */
  unfenced: string[];
}

export interface DrbdTarget {
  resource: string;
  conf?: string;
  checkable: boolean;
}

/** A command run on this cluster node before the CIB transaction (not a CIB edit). */
export interface NodeStep {
  /** comment lines: what it does and why */
  why: string[];
  argv: string[];
}

/** A cluster property the live CIB must show before the push (not checked on a CIB file). */
export interface CibRequirement {
  property: string;
  value: string;
  /** the error when it does not */
  error: string;
}

export interface Fencing {
  method: Method;
  /** pcs commands, first in the stack's transaction */
  commands: string[][];
  notes: string[];
  nodeSteps: NodeStep[];
  requires: CibRequirement[];
  /** fence device ids */
  devices: string[];
}

const DEFAULT_COROSYNC = "/etc/corosync/corosync.conf";
const DEFAULT_DRBDCONF = "/etc/drbd.conf";
const FENCE_AGENT_DIR = "/usr/sbin";

/** Which method each option belongs to (an option of another method is refused). */
const BELONGS: Array<{ flag: string; key: keyof FencingOptions; methods: Method[] }> = [
  { flag: "--sbd-device", key: "sbdDevices", methods: ["sbd"] },
  { flag: "--sbd-init", key: "sbdInit", methods: ["sbd"] },
  { flag: "--sbd-msgwait", key: "sbdMsgwait", methods: ["sbd"] },
  { flag: "--sbd-enable", key: "sbdEnable", methods: ["sbd", "watchdog"] },
  { flag: "--watchdog", key: "watchdog", methods: ["sbd", "watchdog"] },
  { flag: "--sbd-watchdog-timeout", key: "sbdWatchdogTimeout", methods: ["sbd", "watchdog"] },
  { flag: "--corosync-conf", key: "corosyncConf", methods: ["sbd", "watchdog", "agent"] },
  { flag: "--fence-agent", key: "fenceAgent", methods: ["agent"] },
  { flag: "--fence-param", key: "fenceParams", methods: ["agent"] },
  { flag: "--fence-host-map", key: "fenceHostMap", methods: ["agent"] },
  { flag: "--fence-password-file", key: "fencePasswordFiles", methods: ["agent"] },
  { flag: "--on-no-quorum", key: "onNoQuorum", methods: ["drbd-quorum"] },
  { flag: "--skip-drbd-check", key: "skipDrbdCheck", methods: ["sbd", "watchdog", "agent", "drbd-quorum"] },
];

const given = (v: unknown) => v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0);

/** Any key that names a password (password, passwd, snmp_priv_passwd...) except the *_script ones. */
export const isPasswordKey = (k: string) => /pass(wd|word)/i.test(k) && !/_script$/i.test(k);

export const PASSWORD_ON_COMMAND_LINE =
  "a password on the command line ends up in shell history, ps output and the script's header: use --fence-password-file FILE (the CIB gets password_script=cat FILE, never the secret) or, for CHAP, --chap-secret-file FILE";

/** Validate the fencing options and plan them; problems go to `p` (nothing is returned then). */
export function planFencing(o: FencingOptions, t: FencingTarget, p: Problems): Fencing | undefined {
  const choices = Object.entries(METHODS).map(([m, w]) => `  --fencing ${m.padEnd(12)} ${w}`);
  if (o.method === undefined) {
    p.add(["--fencing is required: choose how this cluster fences a node it lost contact with:", ...choices].join("\n"));
    return undefined;
  }
  if (!Object.hasOwn(METHODS, o.method)) {
    p.add([`--fencing: "${o.method}" is not a fencing method; one of:`, ...choices].join("\n"));
    return undefined;
  }
  const m = o.method as Method;
  const before = p.list.length;
  for (const b of BELONGS) if (given(o[b.key]) && !b.methods.includes(m)) p.add(`${b.flag} is an option of --fencing ${b.methods.join("|")}, not of --fencing ${m}`);
  const f: Fencing = { method: m, commands: [], notes: [], nodeSteps: [], requires: [], devices: [] };
  if (m === "none") {
    // the cluster's fencing stays as it is: a later stack on a fenced cluster must not switch it off
    f.notes.push(
      "--fencing none: this stack adds no fencing and leaves the cluster's fencing settings as they are.",
      ...t.unfenced,
      "Pacemaker starts nothing while stonith-enabled is true (its default) and no fence device exists; `tsstor doctor` reports an unfenced cluster as an error.",
    );
    return p.list.length > before ? undefined : f;
  }
  if (o.skipDrbdCheck && !t.drbd?.length) p.add(`--skip-drbd-check: the ${t.stack}${t.stack === "iscsi" ? " --no-drbd" : ""} stack has no DRBD to check`);
  if (m === "drbd-quorum") drbdQuorum(o, t, p, f);
  else {
    const cs = corosync(o, m, p);
    if (m === "sbd") sbd(o, cs, p, f);
    else if (m === "watchdog") watchdog(o, cs, p, f);
    else agent(o, cs, p, f);
    for (const d of t.drbd ?? []) f.notes.push(...drbdCheck(o, d, p, undefined));
  }
  return p.list.length > before ? undefined : f;
}

function corosync(o: FencingOptions, m: Method, p: Problems): Corosync | undefined {
  const path = o.corosyncConf ?? DEFAULT_COROSYNC;
  if (absPath(path)) {
    p.add(`--corosync-conf: ${absPath(path)}`);
    return undefined;
  }
  try {
    const cs = readCorosync(path);
    if (!cs.nodes.length) p.add(`--corosync-conf ${path}: no nodelist { node { name: ... } }: --fencing ${m} fences the nodes listed there`);
    return cs.nodes.length ? cs : undefined;
  } catch (e) {
    const why = e instanceof ConfError ? e.message : (e as NodeJS.ErrnoException).code ?? String(e);
    p.add(
      `cannot read ${path} (${why}): --fencing ${m} needs the cluster's corosync.conf (the node names, two_node and quorum device, the totem token). ` +
        "Run on a cluster node, or pass a copy with --corosync-conf FILE.",
    );
    return undefined;
  }
}

/** Two nodes that can both stay quorate (two_node, or two without a quorum device) race to fence each other. */
const fenceRace = (cs: Corosync) => cs.twoNode || (cs.nodes.length === 2 && !cs.qdevice);

const seconds = (s: string) => Number(s.replace(/s$/, ""));

/**
 * stonith-timeout for SBD. Two documented lower bounds, the larger wins:
 *  - crmsh (ClusterLabs, what SUSE's `crm cluster init sbd` sets; crmsh/sbd.py
 *    SBDTimeout.get_stonith_timeout_expected): max(1.2 * (pcmk_delay_max + msgwait), 60) + token
 *    + consensus for disk-based SBD, with max(stonith-watchdog-timeout, 2 * SBD_WATCHDOG_TIMEOUT)
 *    in place of msgwait for diskless SBD: SUSE's "stonith-timeout = msgwait + 20%", plus the
 *    random delay, plus the time corosync takes to notice the node is gone;
 *  - sbd(8), "General cluster properties": "at least twice the msgwait timeout".
 * Token: corosync.conf(5), token + (nodes - 2) * token_coefficient from three nodes on
 * (defaults 3000 and 650 ms); consensus defaults to 1.2 * token.
 */
export function sbdStonithTimeout(wait: number, delay: number, cs: Corosync, msgwait?: number): number {
  const coefficient = cs.nodes.length >= 3 ? (cs.nodes.length - 2) * (cs.tokenCoefficient ?? 650) : 0;
  const token = (cs.token ?? 3000) + coefficient;
  const consensus = cs.consensus ?? 1.2 * token;
  const crmsh = Math.max(1.2 * (delay + wait), 60) + (token + consensus) / 1000;
  return Math.ceil(Math.max(crmsh, msgwait !== undefined ? 2 * msgwait : 0));
}

/** Timeouts in an SBD header, as `sbd -d DEV dump` prints them ("Timeout (msgwait)  : 10"). */
export function parseSbdDump(text: string): { watchdog: number; msgwait: number } | undefined {
  const w = /^Timeout \(watchdog\)\s*:\s*(\d+)\s*$/m.exec(text);
  const m = /^Timeout \(msgwait\)\s*:\s*(\d+)\s*$/m.exec(text);
  return w && m ? { watchdog: Number(w[1]), msgwait: Number(m[1]) } : undefined;
}

const positiveInt = (v: number | undefined, max: number) => v === undefined || (Number.isInteger(v) && v >= 1 && v <= max);

function enableSteps(argv: string[], what: string): NodeStep[] {
  return [
    {
      why: [`Enable sbd on every node (${what}); pcs writes the sbd configuration on each node and enables sbd.service.`],
      argv,
    },
    {
      why: [
        "sbd starts only with the cluster stack: the whole cluster is stopped and started again.",
        "EVERY RESOURCE OF THE CLUSTER STOPS until the cluster is back (--sbd-enable asked for it).",
      ],
      argv: ["pcs", "cluster", "stop", "--all"],
    },
    { why: [], argv: ["pcs", "cluster", "start", "--all", "--wait=300"] },
  ];
}

/** sbd must run on the nodes before Pacemaker relies on it: the DC sets have-watchdog=true when it does. */
const SBD_RUNNING: CibRequirement = {
  property: "have-watchdog",
  value: "true",
  error:
    "the cluster does not report sbd running (have-watchdog is not true): enable sbd first (pcs stonith sbd enable ..., then restart the cluster, or rerun with --sbd-enable). Nothing was pushed.",
};

function sbdOptions(o: FencingOptions, p: Problems): { watchdog: string; wd?: number } {
  const watchdog = o.watchdog ?? "/dev/watchdog";
  p.check("--watchdog", watchdog, absPath);
  if (!positiveInt(o.sbdWatchdogTimeout, 3600)) p.add(`--sbd-watchdog-timeout: ${o.sbdWatchdogTimeout} is not a whole number of seconds (1-3600)`);
  return { watchdog, wd: o.sbdWatchdogTimeout };
}

function sbd(o: FencingOptions, cs: Corosync | undefined, p: Problems, f: Fencing): void {
  const start = p.list.length;
  const bad = () => p.list.length > start;
  const devices = o.sbdDevices ?? [];
  const { watchdog } = sbdOptions(o, p);
  if (devices.length < 1 || devices.length > 3) p.add(`--sbd-device: ${devices.length ? `${devices.length} devices given; ` : ""}SBD uses one to three shared devices (three survive the loss of one; two are no better than one)`);
  p.unique("--sbd-device", devices);
  for (const d of devices) {
    const notPath = absPath(d);
    if (notPath) {
      p.add(`--sbd-device: ${notPath}`);
      continue;
    }
    let st;
    try {
      st = statSync(d);
    } catch {
      p.add(`--sbd-device ${d}: no such device here (run on a cluster node; the path must be the same on every node, e.g. /dev/disk/by-id/...)`);
      continue;
    }
    if (!st.isBlockDevice()) p.add(`--sbd-device ${d}: not a block device (SBD needs a shared disk or LUN)`);
  }
  if (!positiveInt(o.sbdMsgwait, 7200)) p.add(`--sbd-msgwait: ${o.sbdMsgwait} is not a whole number of seconds`);
  let wd = o.sbdWatchdogTimeout ?? 5;
  let msgwait = o.sbdMsgwait ?? 2 * wd;
  // sbd(8) -4: msgwait "should be twice the watchdog timeout"
  if (msgwait < 2 * wd) p.add(`--sbd-msgwait ${msgwait}: must be at least twice the watchdog timeout (${2 * wd}): a node must have reset itself before a message counts as delivered`);
  if (bad() || !cs) return;
  if (!o.sbdInit) {
    // the timeouts that count are the ones written in the devices' headers: read them, never assume
    const headers: Array<{ d: string; h: { watchdog: number; msgwait: number } }> = [];
    for (const d of devices) {
      const r = runTool("sbd", ["-d", d, "dump"], { timeoutMs: 15_000 });
      const h = r.code === 0 ? parseSbdDump(r.stdout) : undefined;
      if (h) headers.push({ d, h });
      else if (r.missing) p.add(`cannot read the SBD header of ${d}: sbd is not installed here (the nodes need it anyway: apt-get install sbd), or pass --sbd-init to initialise the devices`);
      else p.add(`${d} has no readable SBD header (sbd -d ${d} dump failed): pass --sbd-init to initialise it (it ERASES the start of the device)`);
    }
    if (headers.length !== devices.length) return;
    const [first] = headers;
    for (const { d, h } of headers) {
      if (h.watchdog !== first!.h.watchdog || h.msgwait !== first!.h.msgwait) p.add(`--sbd-device: ${first!.d} and ${d} were initialised with different timeouts (watchdog ${first!.h.watchdog}/${h.watchdog}, msgwait ${first!.h.msgwait}/${h.msgwait}): re-initialise them together with --sbd-init`);
    }
    const h = first!.h;
    if ((o.sbdWatchdogTimeout !== undefined && o.sbdWatchdogTimeout !== h.watchdog) || (o.sbdMsgwait !== undefined && o.sbdMsgwait !== h.msgwait))
      p.add(`--sbd-device ${first!.d} was initialised with watchdog ${h.watchdog} s and msgwait ${h.msgwait} s: drop --sbd-watchdog-timeout/--sbd-msgwait, or re-initialise with --sbd-init`);
    wd = h.watchdog;
    msgwait = h.msgwait;
  }
  if (bad()) return;
  const race = fenceRace(cs);
  const timeout = sbdStonithTimeout(msgwait, race ? seconds(FENCE_DELAY_MAX) : 0, cs, msgwait);
  if (o.sbdInit)
    f.nodeSteps.push({
      why: [
        `Initialise SBD on ${devices.join(", ")} (--sbd-init): ERASES the start of each device (the SBD header and its 255 message slots),`,
        "destroying whatever was there (a partition table, a filesystem, another cluster's SBD). The timeouts are written into the header.",
      ],
      argv: ["pcs", "stonith", "sbd", "device", "setup", ...devices.map((d) => `device=${d}`), `watchdog-timeout=${wd}`, `msgwait-timeout=${msgwait}`, "--force"],
    });
  if (o.sbdEnable) f.nodeSteps.push(...enableSteps(["pcs", "stonith", "sbd", "enable", `watchdog=${watchdog}`, ...devices.map((d) => `device=${d}`), `SBD_WATCHDOG_TIMEOUT=${wd}`], `watchdog ${watchdog}, devices ${devices.join(", ")}`));
  f.requires.push(SBD_RUNNING);
  f.devices.push("fence-sbd");
  f.commands.push(["stonith", "create", "fence-sbd", "fence_sbd", `devices=${devices.join(",")}`, ...(race ? [`pcmk_delay_max=${FENCE_DELAY_MAX}`] : [])]);
  f.commands.push(["property", "set", "stonith-enabled=true", `stonith-timeout=${timeout}s`]);
  f.notes.push(
    `Fencing: SBD on ${devices.join(", ")} (fence_sbd device fence-sbd), watchdog ${watchdog}; watchdog timeout ${wd} s, msgwait ${msgwait} s${o.sbdInit ? "" : " (read from the devices' headers)"}.`,
    `stonith-timeout=${timeout}s: the larger of max(1.2 x (msgwait${race ? " + pcmk_delay_max" : ""}), 60 s) + corosync token + consensus (crmsh/SUSE) and 2 x msgwait (sbd(8)).`,
    ...(race ? [`Two nodes: pcmk_delay_max=${FENCE_DELAY_MAX} on fence-sbd, so both nodes do not shoot each other at once after a link cut.`] : []),
    ...(devices.length === 1 ? ["One SBD device: losing it does not fence anyone, but no node can be fenced until it is back; three devices tolerate the loss of one."] : []),
    ...(o.sbdEnable ? [] : ["sbd must already run on every node with these devices (pcs stonith sbd status); --sbd-enable does it (restarts the whole cluster)."]),
    "The push is refused unless the cluster reports sbd running (have-watchdog=true).",
  );
}

function watchdog(o: FencingOptions, cs: Corosync | undefined, p: Problems, f: Fencing): void {
  const start = p.list.length;
  const { watchdog } = sbdOptions(o, p);
  if (!cs) return;
  if (cs.nodes.length < 3 && !cs.qdevice) {
    p.add(
      `--fencing watchdog needs three or more nodes or a quorum device: ${cs.path} lists ${cs.nodes.length} node(s) and no quorum device. ` +
        "Watchdog fencing is a node resetting itself when it loses quorum; with two nodes both halves of a split stay quorate (two_node) or neither does. Use --fencing sbd or agent, or add a quorum device (pcs quorum device add ...).",
    );
    return;
  }
  // crmsh: with a quorum device, diskless SBD's watchdog timeout must outlast the qdevice's sync_timeout
  // (default 30 s), or a node resets itself while the qdevice is still deciding
  const sync = cs.qdevice ? Math.ceil((cs.qdeviceSyncTimeout ?? 30_000) / 1000) : 0;
  const wd = o.sbdWatchdogTimeout ?? (cs.qdevice ? sync + 5 : 5);
  if (cs.qdevice && wd <= sync) p.add(`--sbd-watchdog-timeout ${wd}: with a quorum device it must exceed the qdevice sync_timeout (${sync} s), e.g. ${sync + 5}`);
  if (p.list.length > start) return;
  const swt = 2 * wd; // Pacemaker assumes a lost node has reset itself after stonith-watchdog-timeout
  const timeout = sbdStonithTimeout(swt, 0, cs);
  if (o.sbdEnable) f.nodeSteps.push(...enableSteps(["pcs", "stonith", "sbd", "enable", `watchdog=${watchdog}`, `SBD_WATCHDOG_TIMEOUT=${wd}`], `watchdog ${watchdog}, no devices`));
  f.requires.push(SBD_RUNNING);
  f.commands.push(["property", "set", "stonith-enabled=true", `stonith-watchdog-timeout=${swt}s`, `stonith-timeout=${timeout}s`]);
  f.notes.push(
    `Fencing: diskless SBD (watchdog ${watchdog}, SBD_WATCHDOG_TIMEOUT=${wd}): a node that loses quorum resets itself.`,
    `stonith-watchdog-timeout=${swt}s (2 x SBD_WATCHDOG_TIMEOUT); stonith-timeout=${timeout}s: max(1.2 x ${swt} s, 60 s) + corosync token + consensus (crmsh/SUSE).`,
    ...(cs.nodes.length % 2 === 0 && !cs.qdevice ? ["An even node count without a quorum device: pcs stonith sbd enable turns on corosync's auto_tie_breaker."] : []),
    ...(o.sbdEnable ? [] : ["sbd must already run on every node (pcs stonith sbd status); --sbd-enable does it (restarts the whole cluster)."]),
    "The push is refused unless the cluster reports sbd running (have-watchdog=true): Pacemaker shuts itself down on a node where stonith-watchdog-timeout is set and sbd is not running.",
  );
}

const AGENT_NAME = /^fence_[a-z0-9_]+$/;
const PARAM = /^([A-Za-z_][A-Za-z0-9_-]*)=([^\x00-\x1f\x7f]*)$/;
const NODE_PARAM = /^([^:=\s]+):([A-Za-z_][A-Za-z0-9_-]*)=([^\x00-\x1f\x7f]*)$/;
/** set by the stack itself */
const RESERVED = ["pcmk_host_list", "pcmk_host_map", "password_script", "passwd_script"];

function agent(o: FencingOptions, cs: Corosync | undefined, p: Problems, f: Fencing): void {
  const start = p.list.length;
  const name = o.fenceAgent;
  if (!name) p.add(`--fencing agent needs --fence-agent NAME (a fence agent in ${FENCE_AGENT_DIR}: pcs stonith list)`);
  else if (!AGENT_NAME.test(name)) p.add(`--fence-agent: "${name}" is not a fence agent name (fence_[a-z0-9_]+, e.g. fence_ipmilan)`);
  else {
    try {
      accessSync(`${FENCE_AGENT_DIR}/${name}`, constants.X_OK);
    } catch {
      p.add(`--fence-agent ${name}: no such fence agent in ${FENCE_AGENT_DIR} (install it, e.g. apt-get install fence-agents; pcs stonith list shows what is installed)`);
    }
  }
  const common: string[] = [];
  const perNode = new Map<string, string[]>();
  for (const raw of o.fenceParams ?? []) {
    const nm = NODE_PARAM.exec(raw);
    const cm = nm ? undefined : PARAM.exec(raw);
    const key = nm?.[2] ?? cm?.[1];
    if (!key) {
      // never echo the value: it may be a secret typed in the wrong shape
      p.add(`--fence-param: "${raw.split("=")[0]}=..." is not NODE:KEY=VALUE or KEY=VALUE`);
      continue;
    }
    if (isPasswordKey(key)) {
      p.add(`--fence-param ${nm ? `${nm[1]}:` : ""}${key}=...: ${PASSWORD_ON_COMMAND_LINE}`);
      continue;
    }
    if (RESERVED.includes(key)) {
      p.add(`--fence-param ${key}: set by tsstor (${key.startsWith("pcmk_host") ? "one device per node, or --fence-host-map" : "--fence-password-file"})`);
      continue;
    }
    if (nm) perNode.set(nm[1]!, [...(perNode.get(nm[1]!) ?? []), `${key}=${nm[3]}`]);
    else common.push(`${key}=${cm![2]}`);
  }
  p.unique("--fence-param", common.map((c) => c.split("=")[0]!));
  for (const [n, ps] of perNode) p.unique(`--fence-param ${n}:`, ps.map((c) => c.split("=")[0]!));
  const map: Array<[string, string]> = [];
  for (const e of o.fenceHostMap ?? []) {
    const mm = /^([^:;=\s]+):([A-Za-z0-9_.\/@+-]+)$/.exec(e);
    if (mm) map.push([mm[1]!, mm[2]!]);
    else p.add(`--fence-host-map: "${e}" is not NODE:PORT (the node name as corosync knows it, the plug or VM name the agent uses)`);
  }
  if (map.length && perNode.size) p.add("--fence-host-map makes one device for every node: give its parameters as --fence-param KEY=VALUE, not NODE:KEY=VALUE");
  p.unique("--fence-host-map node", map.map(([n]) => n));
  // passwords: a file on every node, printed by password_script; the secret never enters argv or the CIB
  let allFile: string | undefined;
  const nodeFile = new Map<string, string>();
  for (const e of o.fencePasswordFiles ?? []) {
    const nm = /^([^/:=\s]+):(\/.*)$/.exec(e);
    const file = nm ? nm[2]! : e;
    if (p.secretFile("--fence-password-file", file) === undefined) continue;
    if (nm) {
      if (map.length) p.add("--fence-password-file NODE:FILE: with --fence-host-map there is one device: give one file");
      if (nodeFile.has(nm[1]!)) p.add(`--fence-password-file: two files for ${nm[1]}`);
      nodeFile.set(nm[1]!, file);
    } else if (allFile) p.add("--fence-password-file: two files for every node (NODE:FILE gives one per node)");
    else allFile = file;
  }
  if (!cs || p.list.length > start) return;
  const nodes = map.length ? map.map(([n]) => n) : [...perNode.keys()];
  if (!map.length && !perNode.size) p.add(`--fencing agent: give each node's parameters (--fence-param NODE:KEY=VALUE, e.g. ${cs.nodes[0]}:ip=BMC-ADDRESS) or one shared device (--fence-host-map NODE:PORT)`);
  for (const n of cs.nodes) if ((map.length || perNode.size) && !nodes.includes(n)) p.add(`node ${n} (${cs.path}) has no fence device: ${map.length ? `add --fence-host-map ${n}:PORT` : `add --fence-param ${n}:KEY=VALUE`}`);
  for (const n of [...nodes, ...nodeFile.keys()]) if (!cs.nodes.includes(n)) p.add(`"${n}" is not a node of ${cs.path} (${cs.nodes.join(", ")})`);
  const pw = (n: string | undefined) => {
    const file = (n !== undefined ? nodeFile.get(n) : undefined) ?? allFile;
    return file ? [`password_script=cat ${file}`] : [];
  };
  const race = fenceRace(cs);
  const delay = (ps: string[]) => (race && !ps.some((x) => /^pcmk_delay_(max|base)=/.test(x)) ? [`pcmk_delay_max=${FENCE_DELAY_MAX}`] : []);
  if (map.length) {
    const id = `fence-${name!.slice("fence_".length)}`;
    p.check("device id", id, resourceId);
    f.devices.push(id);
    f.commands.push(["stonith", "create", id, name!, ...common, ...pw(undefined), `pcmk_host_map=${map.map(([n, port]) => `${n}:${port}`).join(";")}`, ...delay(common)]);
  } else
    cs.nodes.forEach((n, i) => {
      const id = `fence-${n}`;
      p.check(`device id for node ${n}`, id, resourceId);
      f.devices.push(id);
      const ps = [...common, ...(perNode.get(n) ?? [])];
      // the delay on one device only: after a link cut the first node wins the race
      f.commands.push(["stonith", "create", id, name!, ...ps, ...pw(n), `pcmk_host_list=${n}`, ...(i === 0 ? delay(ps) : [])]);
    });
  f.commands.push(["property", "set", "stonith-enabled=true"]);
  f.notes.push(
    `Fencing: ${name} (${f.devices.join(", ")}); stonith-timeout stays Pacemaker's default (60 s): the agent's own timing decides.`,
    ...(allFile || nodeFile.size ? [`Password file(s) ${[...new Set([allFile, ...nodeFile.values()].filter(Boolean))].join(", ")}: copy to the same path on every node (root, mode 0600); the CIB holds only password_script=cat FILE.`] : []),
    ...(race
      ? [
          common.some((x) => /^pcmk_delay_(max|base)=/.test(x))
            ? `Two nodes: the delay given (${common.filter((x) => /^pcmk_delay_(max|base)=/.test(x)).join(" ")}) on ${f.devices[0]}, so both nodes do not shoot each other at once after a link cut.`
            : `Two nodes: pcmk_delay_max=${FENCE_DELAY_MAX} on ${f.devices[0]}, so both nodes do not shoot each other at once after a link cut.`,
        ]
      : []),
    "Test each device once, on a node you can afford to reboot: pcs stonith fence NODE.",
  );
}

function drbdQuorum(o: FencingOptions, t: FencingTarget, p: Problems, f: Fencing): void {
  if (!t.drbd?.length) {
    p.add(`--fencing drbd-quorum needs DRBD: the ${t.stack}${t.stack === "iscsi" ? " --no-drbd" : ""} stack has none (use sbd, watchdog or agent)`);
    return;
  }
  // iSCSI initiators retry a frozen target; a filesystem stack must fail so Pacemaker can stop it
  const want = (o.onNoQuorum ?? (t.stack === "iscsi" ? "suspend-io" : "io-error")) as OnNoQuorum;
  if (!["io-error", "suspend-io"].includes(want)) {
    p.add(`--on-no-quorum: "${o.onNoQuorum}" is not io-error or suspend-io`);
    return;
  }
  for (const d of t.drbd) f.notes.push(...drbdCheck(o, d, p, want));
  // no node fencing: Pacemaker must not wait for a fence device that does not exist
  f.commands.push(["property", "set", "stonith-enabled=false"]);
  f.notes.push(
    `Fencing: DRBD quorum (quorum majority, on-no-quorum ${want}) instead of node fencing; stonith-enabled=false.`,
    want === "suspend-io"
      ? "on-no-quorum suspend-io: a Primary that loses quorum freezes I/O; initiators retry, and a frozen target is better than I/O errors in the VMs."
      : "on-no-quorum io-error: a Primary that loses quorum fails its I/O, so the filesystem and service fail and Pacemaker can stop them.",
    "`tsstor doctor` reports this as stonith-disabled-drbd-quorum (a warning): a failed stop cannot be recovered without node fencing.",
  );
}

/**
 * The DRBD half of fencing, by the rule `tsstor doctor` applies (drbdFencingFindings): problems
 * when the configuration is wrong; notes when it could not be read and --skip-drbd-check was given.
 */
function drbdCheck(o: FencingOptions, d: DrbdTarget, p: Problems, quorum: OnNoQuorum | undefined): string[] {
  const { resource, checkable } = d;
  const path = d.conf ?? DEFAULT_DRBDCONF;
  if (!checkable) return [];
  let conf;
  try {
    conf = readDrbdConfig(path);
  } catch (e) {
    if (e instanceof ConfError) {
      p.add(`--drbdconf ${path}: ${e.message}`);
      return [];
    }
    const why = (e as NodeJS.ErrnoException).code ?? String(e);
    const { fence, unfence } = handlerLines(true);
    const old = handlerLines(false);
    const need = quorum
      ? [`options { quorum majority; on-no-quorum ${quorum}; }  with 3+ DRBD nodes (a diskless tiebreaker counts), DRBD 9`]
      : [`net { fencing resource-and-stonith; }  handlers { fence-peer "${fence}"; ${unfence} }`, `(DRBD 8.4: disk { fencing resource-and-stonith; }  handlers { fence-peer "${old.fence}"; ${old.unfence} })`];
    if (!o.skipDrbdCheck) {
      p.add(
        `cannot read the DRBD configuration ${path} (${why}): the stack checks that DRBD resource ${resource} fences with the cluster. ` +
          "Run on a DRBD node, point --drbdconf at the nodes' drbd.conf, or pass --skip-drbd-check to print the script anyway (it then lists what drbd.conf must contain).",
      );
      return [];
    }
    return [`WARNING: ${path} NOT checked (${why}, --skip-drbd-check). DRBD resource ${resource} must have, on every node:`, ...need.map((l) => `  ${l}`)];
  }
  const r = conf.resources.get(resource);
  if (!r) {
    p.add(`--drbd-resource ${resource}: not defined in ${path} or its includes (drbdadm -c ${path} dump ${resource} shows what drbdadm sees)`);
    return [];
  }
  const kernel = drbdKernelVersion();
  for (const x of drbdFencingFindings(r, { kernel, stonith: quorum === undefined, quorum }))
    p.add([`${path}: ${x.message} [${x.id}]`, `  ${x.reason}`, ...x.fix.map((l) => `  ${l}`)].join("\n"));
  return [`DRBD ${resource} (${path}, DRBD ${drbdMajor(r, kernel) ?? "9 or 8.4"}): ${quorum ? `quorum, on-no-quorum ${quorum}` : "fencing resource-and-stonith with the crm-fence-peer handlers"}: checked.`];
}
