// `tsstor drbd init` and `tsstor drbd first-sync`, the planning half: pure functions from the
// command's options to a checked plan, the resource file's text (every line with the reason it is
// there), the resync controller's numbers, and the first-sync precondition on a read DRBD state.
// What runs on the node (probing the disk, drbdadm create-md/up/primary) is cli/drbd/node.ts.
//
// The file follows drbd.conf(5) as drbd-utils 9.22 parses it: DRBD 9 (`drbdadm`) and DRBD 8.4
// (`drbdadm-84`, which `drbdadm` runs on an 8.4 kernel); test/drbd/init.test.ts has the real
// drbdadm dump each generated variant when it is installed. The fencing lines are the ones
// `tsstor stack` and `tsstor doctor` require (drbdFencingFindings): node fencing ->
// `fencing resource-and-stonith` (8.4: disk section, 9: net section) with handlerLines()' handlers;
// drbd-quorum -> `quorum majority` + an explicit on-no-quorum on 3+ DRBD nodes.
import { isIPv4, isIPv6 } from "node:net";
import type { DrbdState } from "../../lib/drbd/state.js";
import { METHODS, type Method } from "../fencing.js";
import { handlerLines, type OnNoQuorum } from "../hazards/drbd.js";
import { shq } from "../pcs.js";
import { Problems, absPath } from "../validate.js";

export type DrbdVersion = "8.4" | "9";

export const DEFAULT_DRBDCONF = "/etc/drbd.conf";
export const DEFAULT_PORT = 7789;
/** --link-mbit when not given: a 1 Gbit/s replication link */
export const DEFAULT_LINK_MBIT = 1000;
/** DRBD 9 node ids are 0..31 (DRBD_NODE_ID_MAX 32 nodes in one resource) */
export const MAX_NODES_9 = 32;
/** device minors are 20 bits (MINORMASK) */
export const MAX_MINOR = (1 << 20) - 1;
/** drbd_limits.h: DRBD_C_MAX_RATE_MAX, DRBD_C_MIN_RATE_MAX and DRBD_RESYNC_RATE_MAX, KiB/s (4 GiB/s) */
export const RATE_MAX_KIB = 4 << 20;
/** drbd_limits.h: DRBD_C_MAX_RATE_MIN, KiB/s */
export const RATE_MIN_KIB = 250;

/** The options of `tsstor drbd init`, as yargs hands them over (strings: every check is ours). */
export interface InitArgs {
  resource?: string;
  node?: string[];
  disk?: string[];
  device?: string;
  "diskless-tiebreaker"?: string;
  "drbd-version"?: string;
  fencing?: string;
  "on-no-quorum"?: string;
  "link-mbit"?: string | number;
  out?: string;
  print?: boolean;
  force?: boolean;
  drbdconf?: string;
}

export interface DrbdNode {
  name: string;
  ip: string;
  v6: boolean;
  port: number;
  /** DRBD 9 node-id (the order of --node, the tiebreaker last) */
  nodeId: number;
  /** backing disk; null for the diskless tiebreaker */
  disk: string | null;
}

export interface ResyncPlan {
  linkMbit: number;
  /** --link-mbit was not given: DEFAULT_LINK_MBIT assumed */
  assumed: boolean;
  /** the raw link rate in KiB/s */
  linkKiB: number;
  /** c-plan-ahead, in 0.1 s */
  planAhead: number;
  maxRateKiB: number;
  minRateKiB: number;
  resyncRateKiB: number;
  fillTargetKiB: number;
  /** c-max-rate hit DRBD's 4 GiB/s limit */
  capped: boolean;
}

export interface InitPlan {
  resource: string;
  version: DrbdVersion;
  /** where the version came from: "--drbd-version", "/proc/drbd (9.2.12)", ... */
  versionSource: string;
  /** data nodes in --node order, then the tiebreaker */
  nodes: DrbdNode[];
  /** the diskless tiebreaker's name */
  tiebreaker?: string;
  device: string;
  minor: number;
  fencing: Method;
  onNoQuorum?: OnNoQuorum;
  resync: ResyncPlan;
  /** the resource file written (default /etc/drbd.d/NAME.res) */
  out: string;
  /** the drbd.conf drbdadm reads (-c), which must include `out` */
  drbdconf: string;
  print: boolean;
  force: boolean;
}

/** Invalid options: every problem at once; nothing was run or written (exit 2). */
export class InitInvalid extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

export type Detected = { version: DrbdVersion; source: string } | { error: string };

// ---- option syntax -------------------------------------------------------------------------------

/**
 * A DRBD resource name that is also a safe file name and an ocf:linbit:drbd / ocf:tsstor:drbd
 * drbd_resource: letters, digits, _ . - (not first: . -), at most 63; not "all" (drbdadm's word
 * for every resource).
 */
export function resourceName(v: string): string | undefined {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/.test(v)) return `"${v}" is not a DRBD resource name (letters, digits, _ . -; not starting with . or -; at most 63)`;
  if (v === "all") return `"all" means every resource to drbdadm: choose another name`;
  return undefined;
}

/** A host name as `uname -n` prints it (drbdadm matches `on NAME` against it). */
export function hostName(v: string): string | undefined {
  return /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?$/.test(v) && !v.includes("..")
    ? undefined
    : `"${v}" is not a host name (letters, digits, _ . -; at most 64; as uname -n prints it)`;
}

/** IPv4, IPv6, or [IPv6], each with an optional :PORT. */
function endpoint(v: string): { ip: string; v6: boolean; port: number } | string {
  let ip: string;
  let port: string | undefined;
  const br = /^\[([^\]]*)\](?::(.*))?$/.exec(v);
  if (br) [ip, port] = [br[1]!, br[2]];
  else if ((v.match(/:/g) ?? []).length > 1) ip = v; // a bare IPv6 address: no port possible
  else [ip, port] = v.split(":") as [string, string | undefined];
  const v6 = isIPv6(ip);
  if (!isIPv4(ip) && !v6) return `"${v}" is not an address (IPv4[:PORT], [IPv6][:PORT] or IPv6)`;
  if (v6 ? /^[0:]+$/.test(ip) : ip === "0.0.0.0") return `"${ip}" is not a node's own address (DRBD connects to each node's address)`;
  if (v6 ? /^ff/i.test(ip) : Number(ip.split(".")[0]) >= 224) return `"${ip}" is a multicast or reserved address, not a node's`;
  if (port === undefined) return { ip, v6, port: DEFAULT_PORT };
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return `"${v}": the port must be 1-65535`;
  return { ip, v6, port: Number(port) };
}

/** NAME:ADDRESS[:PORT] of --node and --diskless-tiebreaker. */
export function nodeSpec(v: string): { name: string; ip: string; v6: boolean; port: number } | string {
  const i = v.indexOf(":");
  if (i <= 0) return `"${v}" is not NAME:ADDRESS[:PORT]`;
  const name = v.slice(0, i);
  const bad = hostName(name);
  if (bad) return bad;
  const e = endpoint(v.slice(i + 1));
  return typeof e === "string" ? e : { name, ...e };
}

/** A backing disk: a plain absolute path under /dev, not a DRBD device itself. */
export function diskPath(v: string): string | undefined {
  const bad = absPath(v);
  if (bad) return bad;
  if (!v.startsWith("/dev/") || v.length > 255) return `"${v}" is not a block device path under /dev/`;
  if (/^\/dev\/drbd/.test(v)) return `"${v}" is a DRBD device: the backing disk is the device under it (e.g. /dev/sdb, /dev/vg/lv)`;
  return undefined;
}

export function devicePath(v: string): { minor: number } | string {
  const m = /^\/dev\/drbd(\d{1,7})$/.exec(v);
  if (!m || (m[1]!.length > 1 && m[1]!.startsWith("0"))) return `"${v}" is not /dev/drbdN (N, the minor, 0-${MAX_MINOR})`;
  const minor = Number(m[1]);
  if (minor > MAX_MINOR) return `"${v}": the minor must be 0-${MAX_MINOR}`;
  return { minor };
}

// ---- the resync controller -------------------------------------------------------------------------

const MIB = 1024;
/** Whole MiB once a value is large enough to read well in MiB, else KiB. */
const roundRate = (kib: number) => (kib >= 16 * MIB ? Math.floor(kib / MIB) * MIB : Math.floor(kib));

/**
 * The dynamic resync controller's settings for a replication link of `mbit` Mbit/s (see the
 * comments renderResource writes next to each number):
 *  - c-plan-ahead 20: the controller plans 2 s ahead (LINBIT: at least 1 s, about 10 x the RTT)
 *  - c-max-rate: 90 % of the raw link (the rest for TCP/IP and DRBD framing and the application's
 *    own replicated writes), at most DRBD's 4 GiB/s
 *  - c-min-rate and resync-rate: a third of c-max-rate (LINBIT's tuning guide): the floor the resync
 *    keeps under application I/O, and the controller's starting rate
 *  - c-fill-target: c-max-rate x 10 ms in flight (a LAN round trip plus a rotating disk's seek on
 *    the peer), 1 MiB to 4 MiB: more only queues in the socket (tcp_wmem's default maximum is
 *    4 MiB) and in the peer's receive buffers (half of max-buffers' default 2048 pages for resync)
 */
export function resyncPlan(mbit: number, assumed = false): ResyncPlan {
  const linkKiB = (mbit * 1e6) / 8 / 1024;
  let max = Math.floor(linkKiB * 0.9);
  const capped = max > RATE_MAX_KIB;
  max = roundRate(Math.max(RATE_MIN_KIB, Math.min(max, RATE_MAX_KIB)));
  const min = roundRate(max / 3);
  const fillMiB = Math.min(4, Math.max(1, Math.round((max * 0.01) / MIB)));
  return { linkMbit: mbit, assumed, linkKiB, planAhead: 20, maxRateKiB: max, minRateKiB: min, resyncRateKiB: min, fillTargetKiB: fillMiB * MIB, capped };
}

/** A KiB/s (or KiB) value in drbd.conf units: "107M" (MiB) or "1098K". */
export const drbdSize = (kib: number) => (kib % MIB === 0 ? `${kib / MIB}M` : `${kib}K`);
const mibs = (kib: number) => (kib / MIB >= 100 ? Math.round(kib / MIB) : Math.round((kib / MIB) * 10) / 10);

// ---- the plan ----------------------------------------------------------------------------------

const given = (v: unknown) => v !== undefined && v !== null && v !== "" && !(Array.isArray(v) && v.length === 0);

/**
 * Check every option and return the plan; InitInvalid lists every problem. `detect` runs only
 * when --drbd-version is not given (the loaded module's version, else drbdadm's, else modinfo's).
 */
export function planInit(a: InitArgs, detect: () => Detected): InitPlan {
  const p = new Problems();
  const one = (flag: string, v: unknown): string | undefined => {
    if (Array.isArray(v)) {
      p.add(`${flag} given ${v.length} times; it takes one value`);
      return undefined;
    }
    return v === undefined || v === null || v === false ? undefined : String(v);
  };
  const many = (v: unknown): string[] => (v === undefined || v === null ? [] : (Array.isArray(v) ? v : [v]).map(String));

  // the resource
  const resource = one("--resource", a.resource);
  if (resource === undefined) p.add("--resource NAME is required (the DRBD resource name, e.g. r0)");
  else p.check("--resource", resource, resourceName);

  // the DRBD version
  let version: DrbdVersion | undefined;
  let versionSource = "--drbd-version";
  const vArg = one("--drbd-version", a["drbd-version"]);
  if (vArg !== undefined) {
    if (vArg === "8.4" || vArg === "9") version = vArg;
    else p.add(`--drbd-version: "${vArg}" is not 8.4 or 9`);
  } else {
    const d = detect();
    if ("error" in d) p.add(`--drbd-version: cannot tell the DRBD version on this node (${d.error}); pass --drbd-version 8.4 or --drbd-version 9`);
    else [version, versionSource] = [d.version, d.source];
  }
  const v9 = version !== "8.4";

  // nodes
  const nodes: DrbdNode[] = [];
  const nodeArgs = many(a.node);
  for (const s of nodeArgs) {
    const n = nodeSpec(s);
    if (typeof n === "string") p.add(`--node ${s}: ${n}`);
    else nodes.push({ ...n, nodeId: nodes.length, disk: null });
  }
  let tiebreaker: string | undefined;
  const tbArg = one("--diskless-tiebreaker", a["diskless-tiebreaker"]);
  if (tbArg !== undefined) {
    const n = nodeSpec(tbArg);
    if (typeof n === "string") p.add(`--diskless-tiebreaker ${tbArg}: ${n}`);
    else if (!v9 && version !== undefined) p.add("--diskless-tiebreaker: DRBD 8.4 has exactly two nodes, both with a disk (a diskless tiebreaker needs DRBD 9)");
    else {
      tiebreaker = n.name;
      nodes.push({ ...n, nodeId: nodes.length, disk: null });
    }
  }
  const dataNodes = nodes.filter((n) => n.name !== tiebreaker);
  if (!nodeArgs.length) p.add("--node NAME:ADDRESS[:PORT] is required, once per node (NAME as `uname -n` prints it on that node)");
  else if (version === "8.4" && nodeArgs.length !== 2) p.add(`--node: DRBD 8.4 replicates between exactly 2 nodes (${nodeArgs.length} given)`);
  else if (nodeArgs.length < 2) p.add("--node: at least 2 nodes (one --node each)");
  else if (nodes.length > MAX_NODES_9) p.add(`--node: at most ${MAX_NODES_9} nodes in one DRBD 9 resource, the tiebreaker included`);
  p.unique("--node/--diskless-tiebreaker name", nodes.map((n) => n.name));
  p.unique("--node/--diskless-tiebreaker address", nodes.map((n) => (n.v6 ? `[${n.ip}]:${n.port}` : `${n.ip}:${n.port}`)));
  if (nodes.some((n) => n.v6) && nodes.some((n) => !n.v6)) p.add("--node: all addresses must be IPv4 or all IPv6 (a node cannot connect across address families)");

  // disks
  let common: string | undefined;
  const perNode = new Map<string, string>();
  for (const s of many(a.disk)) {
    const i = s.startsWith("/") ? -1 : s.indexOf(":");
    const [who, path] = i > 0 ? [s.slice(0, i), s.slice(i + 1)] : [undefined, s];
    const bad = diskPath(path);
    if (bad) {
      p.add(`--disk ${s}: ${bad}`);
      continue;
    }
    if (who === undefined) {
      if (common !== undefined) p.add(`--disk ${s}: a disk for every node was given already (${common}); use NODE:/dev/... for one node`);
      common = path;
    } else if (who === tiebreaker) p.add(`--disk ${s}: ${who} is the diskless tiebreaker (disk none)`);
    else if (!dataNodes.some((n) => n.name === who)) p.add(`--disk ${s}: "${who}" is not one of the --node names`);
    else if (perNode.has(who)) p.add(`--disk ${s}: a disk for ${who} was given already (${perNode.get(who)})`);
    else perNode.set(who, path);
  }
  if (!given(a.disk)) p.add("--disk /dev/... is required (the backing disk: the same path on every node, or NODE:/dev/... for each)");
  for (const n of dataNodes) {
    n.disk = perNode.get(n.name) ?? common ?? null;
    if (n.disk === null && given(a.disk)) p.add(`--disk: no backing disk for ${n.name} (--disk /dev/... for every node, or ${n.name}:/dev/...)`);
  }

  // the DRBD device
  const device = one("--device", a.device);
  let minor = 0;
  if (device === undefined) p.add("--device /dev/drbdN is required (the replicated device; N is its minor, unique on each node)");
  else {
    const d = devicePath(device);
    if (typeof d === "string") p.add(`--device: ${d}`);
    else minor = d.minor;
  }

  // fencing
  const fencingArg = one("--fencing", a.fencing);
  const choices = Object.entries(METHODS).map(([m, w]) => `  --fencing ${m.padEnd(12)} ${w}`);
  let fencing: Method | undefined;
  if (fencingArg === undefined) p.add(["--fencing is required: the DRBD side of the cluster's fencing method (the same --fencing as `tsstor stack`):", ...choices].join("\n"));
  else if (!Object.hasOwn(METHODS, fencingArg)) p.add([`--fencing: "${fencingArg}" is not a fencing method; one of:`, ...choices].join("\n"));
  else fencing = fencingArg as Method;
  const nq = one("--on-no-quorum", a["on-no-quorum"]);
  let onNoQuorum: OnNoQuorum | undefined;
  if (fencing === "drbd-quorum") {
    if (version === "8.4") p.add("--fencing drbd-quorum: DRBD 8.4 has no quorum; use node fencing (--fencing sbd, watchdog or agent)");
    else if (nodes.length && nodes.length < 3)
      p.add(`--fencing drbd-quorum: ${nodes.length} DRBD nodes; quorum needs 3 or more (a majority of 2 is both: either failure stops the survivor). Add --diskless-tiebreaker NAME:ADDRESS (a third node without a disk)`);
    if (nq === undefined)
      p.add("--fencing drbd-quorum needs --on-no-quorum: io-error (a Primary that loses quorum fails its I/O, so a filesystem stack stops and recovers: drbd-fs) or suspend-io (I/O freezes until quorum returns, so iSCSI initiators retry: iscsi), the same as `tsstor stack --on-no-quorum`");
    else if (nq === "io-error" || nq === "suspend-io") onNoQuorum = nq;
    else p.add(`--on-no-quorum: "${nq}" is not io-error or suspend-io`);
  } else if (nq !== undefined) p.add("--on-no-quorum is an option of --fencing drbd-quorum");

  // the link
  const linkArg = one("--link-mbit", a["link-mbit"]);
  let linkMbit = DEFAULT_LINK_MBIT;
  if (linkArg !== undefined) {
    if (!/^\d{1,6}$/.test(linkArg) || Number(linkArg) < 10 || Number(linkArg) > 400000) p.add(`--link-mbit: "${linkArg}" is not a link speed in Mbit/s (a whole number, 10-400000; 1000 for 1 GbE, 10000 for 10 GbE)`);
    else linkMbit = Number(linkArg);
  }

  // files
  const print = a.print === true;
  const out = one("--out", a.out);
  if (out !== undefined) {
    p.check("--out", out, absPath);
    if (print) p.add("--out and --print: --print writes the file to stdout only; choose one");
  }
  const drbdconf = one("--drbdconf", a.drbdconf) ?? DEFAULT_DRBDCONF;
  p.check("--drbdconf", drbdconf, absPath);

  if (p.list.length) throw new InitInvalid(p.list);
  return {
    resource: resource!,
    version: version!,
    versionSource,
    nodes,
    tiebreaker,
    device: device!,
    minor,
    fencing: fencing!,
    onNoQuorum,
    resync: resyncPlan(linkMbit, linkArg === undefined),
    out: out ?? `/etc/drbd.d/${resource}.res`,
    drbdconf,
    print,
    force: a.force === true,
  };
}

/**
 * The options that make this plan, canonical and complete (for the next nodes); `file` leaves out
 * where the file goes (--out, --drbdconf: the same text wherever it is written, and what --print
 * takes).
 */
export function canonicalArgs(p: InitPlan, file = false): string[] {
  const out = ["drbd", "init", "--resource", p.resource, "--drbd-version", p.version];
  const data = p.nodes.filter((n) => n.name !== p.tiebreaker);
  const ep = (n: DrbdNode) => `${n.name}:${n.v6 ? `[${n.ip}]` : n.ip}:${n.port}`;
  for (const n of data) out.push("--node", ep(n));
  const tb = p.nodes.find((n) => n.name === p.tiebreaker);
  if (tb) out.push("--diskless-tiebreaker", ep(tb));
  const disks = [...new Set(data.map((n) => n.disk))];
  if (disks.length === 1) out.push("--disk", disks[0]!);
  else for (const n of data) out.push("--disk", `${n.name}:${n.disk}`);
  out.push("--device", p.device, "--fencing", p.fencing);
  if (p.onNoQuorum) out.push("--on-no-quorum", p.onNoQuorum);
  out.push("--link-mbit", String(p.resync.linkMbit));
  if (file) return out;
  if (p.out !== `/etc/drbd.d/${p.resource}.res`) out.push("--out", p.out);
  if (p.drbdconf !== DEFAULT_DRBDCONF) out.push("--drbdconf", p.drbdconf);
  return out;
}

export const commandLine = (p: InitPlan, file = false) => `tsstor ${canonicalArgs(p, file).map(shq).join(" ")}`;

// ---- the resource file --------------------------------------------------------------------------

const COMMENT_COLUMN = 44;

/** A configuration value, quoted when it has characters drbdadm's scanner does not take bare. */
const word = (v: string) => (/^[A-Za-z0-9_/.-]+$/.test(v) ? v : `"${v}"`);

/**
 * The resource file. Every statement carries its reason as a comment (drbd.conf comments run
 * from "#" to the end of the line); section closers stand alone.
 */
export function renderResource(p: InitPlan): string {
  const v9 = p.version === "9";
  const L: string[] = [];
  const line = (depth: number, text: string, why: string) => {
    const s = `${"  ".repeat(depth)}${text}`;
    L.push(`${s}${" ".repeat(Math.max(1, COMMENT_COLUMN - s.length))}# ${why}`);
  };
  const note = (depth: number, text: string) => L.push(`${"  ".repeat(depth)}# ${text}`);
  const close = (depth: number) => L.push(`${"  ".repeat(depth)}}`);
  const data = p.nodes.filter((n) => n.name !== p.tiebreaker);
  const nodeFencing = p.fencing === "sbd" || p.fencing === "watchdog" || p.fencing === "agent";
  const r = p.resync;
  const { fence, unfence } = handlerLines(v9);

  L.push(
    `# DRBD ${p.version} resource ${p.resource}: ${p.device} replicated between ${data.map((n) => n.name).join(", ")}${p.tiebreaker ? ` (diskless tiebreaker ${p.tiebreaker})` : ""}.`,
    "# Written by `tsstor drbd init`; the same file belongs on every node (drbdadm picks this node's",
    "# `on` section by its host name). Change the options and regenerate rather than edit:",
    `#   ${commandLine(p, true)} --print`,
  );
  if (p.fencing === "none") {
    L.push(
      "#",
      "# WARNING: NO FENCING (--fencing none). When the replication link or a node fails, nothing stops",
      "# WARNING: the other side from being promoted while this one still writes: SPLIT BRAIN. Both",
      "# WARNING: copies diverge, and when they reconnect one side's acknowledged writes are thrown away.",
      "# WARNING: Test clusters only. In production use --fencing sbd, watchdog or agent (node fencing),",
      "# WARNING: or drbd-quorum (DRBD 9 with 3+ nodes, a diskless tiebreaker counts).",
    );
  } else if (nodeFencing) {
    L.push(`# Fencing (--fencing ${p.fencing}): the cluster fences nodes; DRBD freezes I/O on a lost peer and asks the`, "# cluster to outdate or fence it before it can be promoted (what `tsstor stack` and `tsstor doctor` check).");
  } else {
    L.push(`# Fencing (--fencing drbd-quorum): DRBD quorum instead of node fencing: only a partition with a`, `# majority of the ${p.nodes.length} DRBD nodes can write or be promoted.`);
  }
  L.push("");

  line(0, `resource ${p.resource} {`, `the resource: ${p.device} on every node`);

  if (v9) {
    line(1, "options {", "resource-wide behaviour");
    line(2, "auto-promote no;", `only Pacemaker promotes: opening ${p.device} must not make a node Primary`);
    if (p.fencing === "drbd-quorum") {
      line(2, "quorum majority;", `without a majority of the ${p.nodes.length} nodes no writes and no promotion`);
      line(
        2,
        `on-no-quorum ${p.onNoQuorum};`,
        p.onNoQuorum === "io-error" ? "a Primary losing quorum fails its I/O: the service above stops, Pacemaker recovers it" : "a Primary losing quorum freezes I/O until quorum returns (iSCSI initiators retry)",
      );
    }
    close(1);
  }

  line(1, "net {", "the replication link");
  line(2, "protocol C;", "a write completes only once it is on every connected disk: failover loses no acknowledged write");
  if (v9 && nodeFencing) line(2, "fencing resource-and-stonith;", "lost peer: freeze I/O, run fence-peer; the peer cannot be promoted until outdated or fenced");
  if (v9 && p.fencing === "none") note(2, "WARNING: no `fencing` policy (--fencing none): a lost peer can be promoted while this node writes");
  line(2, "after-sb-0pri discard-zero-changes;", "split brain, neither Primary: keep the side that wrote, when only one did");
  line(2, "after-sb-1pri discard-secondary;", "split brain, one Primary: keep the Primary's data, resync the other from it");
  line(2, "after-sb-2pri disconnect;", "split brain, both Primary: no automatic choice, stay disconnected for the operator");
  line(2, "rr-conflict disconnect;", "a resync would overwrite a Primary's data: disconnect instead");
  line(2, "verify-alg crc32c;", `\`drbdadm verify ${p.resource}\` compares the copies block by block (crc32c checksums)`);
  close(1);

  line(1, "disk {", `${!v9 && nodeFencing ? "8.4's fencing policy, and the " : ""}resync controller for a ${r.linkMbit} Mbit/s replication link${r.assumed ? " (assumed: --link-mbit)" : " (--link-mbit)"}`);
  if (!v9 && nodeFencing) line(2, "fencing resource-and-stonith;", "lost peer: freeze I/O, run fence-peer; the peer cannot be promoted until outdated or fenced");
  if (!v9 && p.fencing === "none") note(2, "WARNING: no `fencing` policy (--fencing none): a lost peer can be promoted while this node writes");
  line(2, `c-plan-ahead ${r.planAhead};`, `dynamic resync rate on, planning ${r.planAhead / 10} s ahead (unit 0.1 s; LINBIT: >= 1 s)`);
  line(
    2,
    `c-max-rate ${drbdSize(r.maxRateKiB)};`,
    r.capped
      ? `DRBD's maximum, 4 GiB/s (90 % of ${r.linkMbit} Mbit/s would be more)`
      : `90 % of ${r.linkMbit} Mbit/s (${mibs(r.linkKiB)} MiB/s): the rest for TCP/IP and the application's writes`,
  );
  line(2, `c-min-rate ${drbdSize(r.minRateKiB)};`, "1/3 of c-max-rate: the resync keeps at least this under application I/O");
  line(2, `resync-rate ${drbdSize(r.resyncRateKiB)};`, "the controller's starting rate: 1/3 of c-max-rate (LINBIT's tuning guide)");
  line(2, `c-fill-target ${drbdSize(r.fillTargetKiB)};`, "resync data in flight: c-max-rate x 10 ms (round trip + disk), 1M..4M (socket buffers)");
  close(1);

  line(1, "handlers {", "programs DRBD runs on events");
  if (nodeFencing) {
    line(2, `fence-peer "${fence}";`, "forbid promoting the peer (a Pacemaker constraint) while it may be outdated");
    line(2, unfence, v9 ? "remove that constraint once the peer is UpToDate again" : "remove that constraint once a resync made this node UpToDate");
  }
  line(2, 'split-brain "/usr/lib/drbd/notify-split-brain.sh root";', "mail root when DRBD detects a split brain");
  close(1);

  for (const n of p.nodes) {
    const tb = n.name === p.tiebreaker;
    line(1, `on ${n.name} {`, tb ? "the diskless tiebreaker: votes, stores no data" : "a node with a copy of the data");
    if (v9) line(2, `node-id ${n.nodeId};`, "this node's DRBD 9 identity: never change it once the metadata exists");
    line(2, `device ${p.device};`, `the replicated device (minor ${p.minor}) the services use`);
    if (tb) line(2, "disk none;", "no backing disk: a quorum vote, never a sync source or target");
    else {
      line(2, `disk ${word(n.disk!)};`, "backing disk: the first sync replaces its content");
      line(2, "meta-disk internal;", "DRBD metadata in the last MiBs of the backing disk");
    }
    line(2, `address ${n.v6 ? `ipv6 [${n.ip}]` : `ipv4 ${n.ip}`}:${n.port};`, "replication address and TCP port of this node");
    close(1);
  }
  if (v9 && p.nodes.length > 2) {
    line(1, "connection-mesh {", "every node connects to every other");
    line(2, `hosts ${p.nodes.map((n) => n.name).join(" ")};`, `all ${p.nodes.length} nodes of the resource`);
    close(1);
  }
  close(0);
  return `${L.join("\n")}\n`;
}

// ---- first sync --------------------------------------------------------------------------------

/**
 * Why this node cannot start the first sync, from its DRBD state: [] when it can. A fresh pair is
 * this node Secondary with every disk Inconsistent and every connection Connected to peers whose
 * disks are Inconsistent too (a DRBD 9 diskless client, the tiebreaker, may be among them).
 */
export function firstSyncProblems(st: DrbdState): string[] {
  const out: string[] = [];
  const res = st.resource;
  if (!st.configured) return [`${res} is not up on this node: run \`tsstor drbd init\` here first`];
  if (st.role === "Primary") out.push(`this node is Primary already: ${res} is in use, not a fresh resource`);
  if (!st.volumes.length) out.push(`${res} has no volume on this node`);
  for (const v of st.volumes) {
    if (v.client || v.disk === "Diskless") out.push(`volume ${v.volume} on this node has no disk (${v.disk}): the sync source must be a node with a disk`);
    else if (v.disk !== "Inconsistent")
      out.push(
        `volume ${v.volume} on this node is ${v.disk}, not Inconsistent: ${v.disk === "UpToDate" || v.disk === "Consistent" || v.disk === "Outdated" ? "it holds data already; a first sync is for fresh metadata only" : "not a fresh disk (wait until it settles)"}`,
      );
  }
  if (!st.connections.length) out.push(`${res} has no peer on this node`);
  for (const c of st.connections) {
    if (c.connection !== "Connected") {
      out.push(`peer ${c.name} is ${c.connection}, not Connected: run \`tsstor drbd init\` on it, and check that this node reaches its replication address (firewall, port)`);
      continue;
    }
    if (c.peerRole === "Primary") out.push(`peer ${c.name} is Primary: the resource is in use`);
    for (const pd of c.peerDevices) {
      if (pd.replication !== "Established") out.push(`peer ${c.name} volume ${pd.volume} is in ${pd.replication}: a resync is running already`);
      else if (pd.peerDisk === "Diskless" && pd.peerClient) continue; // the diskless tiebreaker
      else if (pd.peerDisk !== "Inconsistent")
        out.push(`peer ${c.name} volume ${pd.volume} is ${pd.peerDisk}, not Inconsistent: ${pd.peerDisk === "UpToDate" || pd.peerDisk === "Consistent" || pd.peerDisk === "Outdated" ? "the peer holds data; forcing this node's copy would overwrite it" : "not a fresh peer"}`);
    }
  }
  return out;
}

/** The drbdadm arguments (after `-c CONF`) that make this node the sync source. */
export function firstSyncSteps(version: DrbdVersion, resource: string): string[][] {
  // 8.4: drbdsetup's historical name for primary --force (still an alias of it in drbd-utils 9)
  const promote = version === "8.4" ? ["--", "--overwrite-data-of-peer", "primary", resource] : ["primary", "--force", resource];
  return [promote, ["secondary", resource]];
}

// ---- what this node's tools say (pure parsers of their output) ---------------------------------------

/**
 * The loaded module's version from `drbdadm --version` (DRBD_KERNEL_VERSION_CODE=0x090212);
 * undefined when no module is loaded (code 0x000000) or the output has none.
 */
export function admKernelVersion(stdout: string): DrbdVersion | undefined {
  const m = /^DRBD_KERNEL_VERSION_CODE=0x([0-9a-fA-F]+)$/m.exec(stdout);
  const code = m ? parseInt(m[1]!, 16) : 0;
  if (!code) return undefined;
  return code >> 16 >= 9 ? "9" : "8.4";
}

/** A module version ("9.2.12", "8.4.11") as the file version; undefined for anything older than 8.4. */
export function versionOf(major: number, minor: number): DrbdVersion | undefined {
  return major >= 9 ? "9" : major === 8 && minor >= 4 ? "8.4" : undefined;
}

/** UUID_JUST_CREATED: the current UUID of metadata that never held data (drbdmeta create-md). */
const JUST_CREATED = 4n;

export type MetaData =
  | { present: true; /** never held data: current UUID "just created" */ fresh: boolean }
  | { present: false }
  | { error: string };

/**
 * `drbdadm dump-md RES` (drbdmeta ... dump-md) as drbd-utils 9.22 answers: exit 0 and
 * "# DRBD meta data dump" when there is metadata; "No valid meta data found" (exit 1) when there
 * is none; "Found meta data is "unclean"" is metadata too. Anything else is not an answer.
 */
export function parseDumpMd(code: number, stdout: string, stderr: string): MetaData {
  const all = `${stdout}\n${stderr}`;
  if (code === 0 && /^# DRBD meta data dump$/m.test(stdout)) {
    // v09: `current-uuid 0x...;`; v08: the first value of `uuid { ... }`
    const u = /^current-uuid 0x([0-9a-fA-F]+);/m.exec(stdout) ?? /^uuid \{\s*0x([0-9a-fA-F]+);/m.exec(stdout);
    return { present: true, fresh: u !== null && BigInt(`0x${u[1]}`) === JUST_CREATED };
  }
  if (/Found meta data is "unclean"/.test(all)) return { present: true, fresh: false };
  if (/No valid meta data found/.test(all)) return { present: false };
  const last = (stderr.trim() || stdout.trim()).split("\n").filter((l) => !/^modinfo: /.test(l)).pop();
  return { error: last ? `drbdadm dump-md: ${last}` : `drbdadm dump-md exited with ${code}` };
}

export interface Signature {
  type: string;
  offset?: string;
}

/**
 * `wipefs --no-act --json DEV` (util-linux >= 2.29): every signature (filesystem, partition table,
 * RAID/LVM member, DRBD metadata "drbd") with its offset. Empty output or `[]`: none.
 */
export function parseWipefsJson(stdout: string): Signature[] | undefined {
  if (!stdout.trim()) return [];
  try {
    const j = JSON.parse(stdout) as { signatures?: Array<{ type?: unknown; offset?: unknown }> };
    if (!Array.isArray(j.signatures)) return undefined;
    return j.signatures.map((s) => ({ type: String(s.type ?? "unknown"), ...(s.offset !== undefined ? { offset: String(s.offset) } : {}) }));
  } catch {
    return undefined;
  }
}

/** `blkid -p -o export DEV`: exit 2 nothing found; 0 with TYPE= or PTTYPE=; 8 several (ambivalent). */
export function parseBlkid(code: number, stdout: string): Signature[] | { error: string } {
  if (code === 2) return [];
  if (code === 8) return [{ type: "several signatures (blkid: ambivalent probing result)" }];
  if (code !== 0) return { error: `blkid -p exited with ${code}` };
  const kv = new Map(stdout.split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as const));
  const out: Signature[] = [];
  if (kv.get("PTTYPE")) out.push({ type: `${kv.get("PTTYPE")} partition table` });
  if (kv.get("TYPE")) out.push({ type: kv.get("TYPE")! });
  return out.length ? out : [{ type: "unknown signature (blkid)" }];
}
