// The DRBD simulator: fake `drbdsetup` and `drbdadm` over a shared simulated kernel, plus
// `tsstor-drbd-sim` to set up and disturb it from tests. This kernel has no DRBD module.
//
//   TSSTOR_DRBD_SIM_DIR    state directory shared by all simulated nodes (state.json, lock,
//                          proc/<node>/drbd: point the agent's TSSTOR_PROC_ROOT at proc/<node>)
//   TSSTOR_DRBD_SIM_NODE   this node's name (default: the UTS host name, as drbdadm's `on` match)
//   TSSTOR_DRBD_SIM_KERNEL module version of nodes created on first use (default 9.2.12; 8.4.11)
//
// drbdadm reads the real configuration syntax (drbd-sim/conf.ts) and talks to the simulated
// kernel in-process; output formats and exit codes follow drbd-utils 9.22 (drbd-sim/render.ts,
// drbd-sim/ops.ts). Modelled: up/down/adjust, attach/detach, connect/disconnect, roles, disk
// states with meta data generations (resync direction, split brain), resync progress, quorum,
// dump-md (drbdmeta's meta data dump, or "No valid meta data found"),
// "held open" (11) and "no UpToDate data" (17). Not modelled: I/O, handlers, protocols A/B,
// on-no-quorum, multiple paths' semantics, verify.
//
// tsstor-drbd-sim commands:
//   init NODE... [--kernel=V] [--unloaded]   create nodes (module loaded unless --unloaded)
//   md NODE RES VOL DISK [GEN]               meta data: UpToDate|Outdated|Inconsistent|Consistent
//                                            (without GEN the data generation is kept)
//   load|unload|crash NODE                   module; crash = the node's kernel dies (peers lose it)
//   modprobe [-s] drbd [...]                 load the module on this node (a `modprobe` shim)
//   cut|heal A B                             network partition between two nodes
//   hold-open NODE RES on|off                the device is opened by someone (demote/down: 11)
//   quorum NODE RES yes|no|auto              force or release the quorum flag
//   sync-ms MS | finish-sync | dump          resync duration, complete resyncs now, print state
//   sync-freeze PCT                          hold running resyncs at PCT percent (exact output)

import { sleepMs } from "../../lib/system/run.js";
import { err, out, type FakeMain } from "./lib.js";
import { ConfError, dumpResource, parseConfFile, resolveResource, resourceNames, type ResourceConf } from "./drbd-sim/conf.js";
import * as op from "./drbd-sim/ops.js";
import { admVersion, events2, shStatus, status } from "./drbd-sim/render.js";
import { cut, diskState, dropDevNode, md, newNode, node, selfNode, withState, type MetaData, type SimState } from "./drbd-sim/state.js";

// drbdsetup-84's answer to a DRBD 9 command (recorded: wait-connect-resource on 8.4.11).
const USAGE_84 = `
USAGE: drbdsetup command device arguments options

Device is usually /dev/drbdX or /dev/drbd/X.

Commands are:
    primary             secondary           attach              
    disk-options        detach              connect             
    net-options         disconnect          resize              
    resource-options    new-current-uuid    invalidate          
    invalidate-remote   pause-sync          resume-sync         
    suspend-io          resume-io           outdate             
    verify              down                state               
    role                sh-status           cstate              
    dstate              show-gi             get-gi              
    show                status              check-resize        
    events              events2             wait-connect        
    wait-sync           new-resource        new-minor           
    del-minor           del-resource        

To get more details about a command issue 'drbdsetup help cmd'.


invalid command
`;


function emit(r: op.OpResult): number {
  if (r.out) out(r.out);
  if (r.err) err(r.err);
  return r.code;
}

function split(args: string[]): { pos: string[]; opts: Map<string, string> } {
  const pos: string[] = [];
  const opts = new Map<string, string>();
  for (const a of args) {
    if (a.startsWith("--")) {
      const i = a.indexOf("=");
      opts.set(i > 0 ? a.slice(2, i) : a.slice(2), i > 0 ? a.slice(i + 1) : "yes");
    } else pos.push(a);
  }
  return { pos, opts };
}

function ctxOf(s: SimState, now: number, self = selfNode()): op.Ctx {
  return { s, self, n: node(s, self), now };
}

const minorOf = (v: string) => Number(/(\d+)$/.exec(v)?.[1] ?? NaN);

/** Wait (outside the lock) until every connection of RES is established; 0 s = forever. */
function waitConnected(resName: string, seconds: number): number {
  const until = seconds > 0 ? Date.now() + seconds * 1000 : Infinity;
  for (;;) {
    const done = withState((s, now) => {
      const c = ctxOf(s, now);
      if (!c.n.loaded) return "nomod";
      if (!c.n.resources[resName]) return "unknown";
      return op.allConnected(c, resName) ? "yes" : "no";
    });
    if (done === "nomod") return emit(op.noModule());
    if (done === "unknown") return emit({ code: 10, out: "", err: `${resName}: Failure: (158) Unknown resource\n` });
    if (done === "yes") return 0;
    if (Date.now() >= until) return 5;
    sleepMs(100);
  }
}

function drbdsetup(args: string[]): number {
  const [cmd, ...rest] = args;
  const { pos, opts } = split(rest);
  if (cmd === "--version" || cmd === "-V") {
    out("DRBDADM_BUILDTAG=GIT-hash:\\ 409097fe02187f83790b88ac3e0d94f3c167adab\\ reproducible\\ build\\,\\ 2023-01-09\\ 14:51:18\nDRBDADM_API_VERSION=2\nDRBD_KERNEL_VERSION_CODE=0x000000\nDRBDADM_VERSION_CODE=0x091600\nDRBDADM_VERSION=9.22.0\n");
    return 0;
  }
  if ((cmd === "wait-connect-resource" || cmd === "wait-connect-connection" || cmd === "wait-connect-volume") && withState((s) => node(s, selfNode()).kernel.startsWith("8."))) {
    out(USAGE_84);
    return 20;
  }
  if (cmd === "wait-connect-resource" || cmd === "wait-connect-connection" || cmd === "wait-connect-volume" || cmd === "wait-connect") {
    let name = pos[0] ?? "";
    if (cmd === "wait-connect") {
      const m = minorOf(name);
      name = withState((s, now) => Object.entries(ctxOf(s, now).n.resources).find(([, r]) => Object.values(r.volumes).some((v) => v.minor === m))?.[0]) ?? name;
    }
    return waitConnected(name, Number(opts.get("wfc-timeout") ?? "0"));
  }
  return withState((s, now) => {
    const c = ctxOf(s, now);
    const v84 = c.n.kernel.startsWith("8.");
    const which = pos[0] ?? "all";
    switch (cmd) {
      case "events2":
        if (!c.n.loaded) return emit(op.noModule());
        return emit(op.ok(events2(s, c.self, which, now)));
      case "status":
        if (!c.n.loaded) return emit(op.noModule());
        if (which !== "all" && !c.n.resources[which]) return emit({ code: 10, out: "", err: `${which}: No such resource\n` });
        return emit(op.ok(status(s, c.self, which, now)));
      case "sh-status":
        if (!v84) return emit({ code: 20, out: "", err: "drbdsetup: unknown command 'sh-status'\n" });
        if (!c.n.loaded) return emit(op.noModule());
        // an unknown resource: no output, exit 19 (recorded on 8.4.11)
        if (which !== "all" && !c.n.resources[which]) return 19;
        return emit(op.ok(shStatus(s, c.self, which, now)));
      case "role":
        if (!c.n.resources[which]) return emit({ code: 10, out: "", err: `${which}: Unknown resource\n` });
        return emit(op.ok(`${c.n.resources[which]!.role}\n`));
      case "new-resource":
        return emit(op.newResource(c, pos[0]!, Number(pos[1]), opts.get("quorum") ?? "off"));
      case "new-minor":
        return emit(op.newMinor(c, pos[0]!, Number(pos[1]), Number(pos[2]), opts.has("diskless")));
      case "new-peer":
        return emit(op.newPeer(c, pos[0]!, Number(pos[1]), opts.get("_name") ?? pos[1]!, opts.get("allow-two-primaries") === "yes", opts.get("fencing") ?? "dont-care"));
      case "new-path":
        return emit(op.newPath(c, pos[0]!, Number(pos[1]), pos[2]!, pos[3]!));
      case "attach":
        return emit(op.attach(c, minorOf(pos[0]!), pos[1]!));
      case "detach":
        return emit(op.detach(c, minorOf(pos[0]!)));
      case "connect":
        return emit(op.connect(c, pos[0]!, Number(pos[1])));
      case "disconnect":
        return emit(op.disconnect(c, pos[0]!, Number(pos[1])));
      case "primary":
        return emit(op.primary(c, pos[0]!, opts.has("force") || opts.has("overwrite-data-of-peer")));
      case "secondary":
        return emit(op.secondary(c, pos[0]!));
      case "down":
        return emit(op.down(c, which));
      case "outdate":
        return emit(op.outdate(c, minorOf(pos[0]!)));
      default:
        err(`drbdsetup: unknown command '${cmd ?? ""}'\n`);
        return 20;
    }
  });
}

// ---- drbdadm ---------------------------------------------------------------------------------

interface AdmArgs {
  conf: string;
  dry: boolean;
  verbose: boolean;
  cmd: string;
  pos: string[];
  opts: Map<string, string>;
}

function parseAdm(args: string[]): AdmArgs {
  const a: AdmArgs = { conf: process.env.TSSTOR_DRBD_SIM_CONF || "/etc/drbd.conf", dry: false, verbose: false, cmd: "", pos: [], opts: new Map() };
  for (let i = 0; i < args.length; i++) {
    const x = args[i]!;
    if (x === "-c" || x === "--config-file") a.conf = args[++i] ?? "";
    else if (x.startsWith("--config-file=")) a.conf = x.slice(14);
    else if (x === "-d" || x === "--dry-run") a.dry = true;
    else if (x === "-v" || x === "--verbose") a.verbose = true;
    else if (x === "-S" || x === "--stacked" || x === "--") continue;
    else if (x === "--peer") a.opts.set("peer", args[++i] ?? "");
    else if (x.startsWith("--")) {
      const j = x.indexOf("=");
      a.opts.set(j > 0 ? x.slice(2, j) : x.slice(2), j > 0 ? x.slice(j + 1) : "yes");
    } else if (!a.cmd) a.cmd = x;
    else a.pos.push(x);
  }
  return a;
}

/** drbdadm's report of a failed drbdsetup step. */
function failed(r: op.OpResult, line: string): op.OpResult {
  return { code: r.code, out: r.out, err: `${r.err}Command '${line}' terminated with exit code ${r.code}\n` };
}

/** Bring up what is missing (adjust/up): resource, minors, disks, then peers and connections. */
function adjust(c: op.Ctx, rc: ResourceConf, skipNet: boolean, onlyPeer?: string): op.OpResult {
  const name = rc.name;
  if (!c.n.loaded) return failed(op.noModule(), `drbdsetup new-resource ${name} ${rc.nodeId}`);
  const steps: Array<[string, () => op.OpResult]> = [];
  const r0 = c.n.resources[name];
  if (!r0) steps.push([`drbdsetup new-resource ${name} ${rc.nodeId}`, () => op.newResource(c, name, rc.nodeId, rc.quorum)]);
  for (const v of rc.volumes) {
    if (!r0?.volumes[v.vnr]) steps.push([`drbdsetup new-minor ${name} ${v.minor} ${v.vnr}`, () => op.newMinor(c, name, v.minor, v.vnr, v.disk === null, v.device)]);
  }
  for (const v of rc.volumes) {
    if (v.disk !== null && (r0?.volumes[v.vnr]?.backing ?? null) === null) steps.push([`drbdsetup attach ${v.minor} ${v.disk} ${v.disk} internal`, () => op.attach(c, v.minor, v.disk!)]);
  }
  if (!skipNet) {
    for (const p of rc.peers) {
      if (onlyPeer && p.name !== onlyPeer) continue;
      const conn = r0?.conns[p.nodeId];
      if (!conn) {
        steps.push([`drbdsetup new-peer ${name} ${p.nodeId} --_name=${p.name} --protocol=${rc.protocol}`, () => op.newPeer(c, name, p.nodeId, p.name, rc.allowTwoPrimaries, rc.fencing)]);
        steps.push([`drbdsetup new-path ${name} ${p.nodeId} ${p.local} ${p.peer}`, () => op.newPath(c, name, p.nodeId, p.local, p.peer)]);
      }
      if (!conn?.connect) steps.push([`drbdsetup connect ${name} ${p.nodeId}`, () => op.connect(c, name, p.nodeId)]);
    }
  }
  let text = "";
  for (const [line, fn] of steps) {
    const r = fn();
    if (r.code !== 0) return failed(r, line);
    text += `${line}\n`;
  }
  return op.ok(text);
}

function forEachMinor(c: op.Ctx, rc: ResourceConf, verb: string, fn: (minor: number) => op.OpResult): op.OpResult {
  for (const v of rc.volumes) {
    const r = fn(v.minor);
    if (r.code !== 0) return failed(r, `drbdsetup ${verb} ${v.minor}`);
  }
  return op.ok();
}

/**
 * DRBD 8.4's drbdadm hands role commands to drbdsetup-84 per minor: errors name the minor
 * ("0: State change failed: ...", "Command 'drbdsetup-84 primary 0' ..."); a resource that is
 * down answers "(127) Device minor not allocated" (all recorded on 8.4.11).
 */
function perMinor84(c: op.Ctx, rc: ResourceConf, verb: string, fn: () => op.OpResult): op.OpResult {
  const minor = rc.volumes[0]!.minor;
  const line = `drbdsetup-84 ${verb} ${minor}`;
  if (!c.n.resources[rc.name]) return failed({ code: 10, out: "", err: `${minor}: Failure: (127) Device minor not allocated\nadditional info from kernel:\nunknown minor\n` }, line);
  const r = fn();
  if (r.code === 0) return r;
  return failed({ ...r, err: r.err.replace(new RegExp(`^${rc.name}: `, "gm"), `${minor}: `) }, line);
}

/** --force, or its old name --overwrite-data-of-peer (drbdsetup keeps it as an alias of --force). */
const forced = (a: AdmArgs) => a.opts.has("force") || a.opts.has("overwrite-data-of-peer");

const hex = (n: bigint, width: number) => `0x${n.toString(16).padStart(width, "0")}`;

/**
 * drbdmeta's dump-md of internal meta data (drbd-utils 9.22, captured from drbdmeta on a loop
 * device) for the 1 GiB disk create-md reports: the layout comments, the UUIDs (UUID_JUST_CREATED,
 * 4, until the meta data first holds data), the flags (MDF_CONSISTENT 0x1, MDF_WAS_UP_TO_DATE
 * 0x10, MDF_AL_CLEAN 0x80), the device UUID drbdadm create-md sets, and an empty bitmap. The date
 * is UTC.
 */
function dumpMd(host: string, minor: number, disk: string, format: "v08" | "v09", maxPeers: number, m: MetaData, now: number): string {
  const d = new Date(now);
  const p2 = (x: number) => String(x).padStart(2, "0");
  const date = `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000 [${Math.floor(now / 1000)}]`;
  const uuid = hex(m.gen === 0 ? 4n : (BigInt(m.gen) << 20n) | 0x9e0n, 16);
  const flags = hex(BigInt(m.disk === "Inconsistent" ? 0x80 : m.disk === "UpToDate" ? 0x91 : 0x81), 8);
  const zero = hex(0n, 16);
  // drbdadm create-md gives the device a random UUID: here a stable one per node and disk (FNV-1a)
  let devUuid = 0xcbf29ce484222325n;
  for (const ch of `${host}:${disk}`) devUuid = ((devUuid ^ BigInt(ch.charCodeAt(0))) * 0x100000001b3n) & 0xffffffffffffffffn;
  const L = ["# DRBD meta data dump", `# ${date}`, `# ${host}> drbdmeta ${minor} ${format} ${disk} internal dump-md`, "#", "", `version "${format}";`, ""];
  if (format === "v09") L.push(`max-peers ${maxPeers};`);
  L.push("# md_size_sect 136", "# md_offset 1073737728", "# al_offset 1073704960", "# bm_offset 1073672192", "");
  if (format === "v09") {
    L.push("node-id -1;", `current-uuid ${uuid};`, `flags ${flags};`);
    for (let i = 0; i < 32; i++) L.push(`peer[${i}] {`, "    bitmap-index -1;", `    bitmap-uuid ${zero};`, `    bitmap-dagtag ${zero};`, `    flags ${hex(0n, 8)};`, "}");
    L.push("history-uuids {");
    for (let i = 0; i < 8; i++) L.push(`        ${Array(4).fill(`${zero};`).join(" ")}`);
    L.push("}");
  } else {
    L.push("uuid {", `    ${uuid}; ${zero}; ${zero}; ${zero};`, `    flags ${flags};`, "}");
  }
  L.push("# al-extents 257;", "la-size-sect 0;", "bm-byte-per-bit 4096;", `device-uuid ${hex(devUuid, 16).toUpperCase().replace("0X", "0x")};`, "la-peer-max-bio-size 0;", "al-stripes 1;", "al-stripe-size-4k 8;", "# bm-bytes 0;");
  L.push(format === "v09" ? "bitmap[0] {" : "bm {", "}", "# bits-set 0;");
  return `${L.join("\n")}\n`;
}

function admOne(c: op.Ctx, a: AdmArgs, rc: ResourceConf, peer: string | undefined): op.OpResult {
  const name = rc.name;
  const on = (line: string, r: op.OpResult) => (r.code === 0 ? r : failed(r, line));
  const peers = rc.peers.filter((p) => !peer || p.name === peer);
  const v84 = c.n.kernel.startsWith("8.");
  const r0 = c.n.resources[name];
  if (v84) {
    switch (a.cmd) {
      case "primary":
        return perMinor84(c, rc, "primary", () => op.primary(c, name, forced(a)));
      case "secondary":
        return perMinor84(c, rc, "secondary", () => op.secondary(c, name));
      case "role":
        return perMinor84(c, rc, "role", () => {
          const p = Object.values(r0!.conns)[0];
          const pr = p && op.peerRole(c, name, p);
          return op.ok(`${r0!.role}/${pr ?? "Unknown"}\n`);
        });
      case "cstate":
        return perMinor84(c, rc, "cstate", () => {
          const p = Object.values(r0!.conns)[0];
          const v = Object.values(r0!.volumes)[0];
          const syncing = p?.established && v ? (v.sync ? "SyncTarget" : op.peerSyncing(c, name, p) ? "SyncSource" : undefined) : undefined;
          return op.ok(`${!p || !p.connect ? "StandAlone" : !p.established ? "WFConnection" : (syncing ?? "Connected")}\n`);
        });
      case "dstate": {
        // up: local/peer from the kernel; down: drbdmeta reads the meta data flags, which cannot
        // say UpToDate (recorded: "Consistent" after down of a connected UpToDate Secondary)
        if (!r0) return op.ok(rc.volumes.map((v) => `${({ UpToDate: "Consistent" } as Record<string, string>)[c.n.md[name]?.[String(v.vnr)]?.disk ?? ""] ?? c.n.md[name]?.[String(v.vnr)]?.disk ?? "DUnknown"}\n`).join(""));
        const p = Object.values(r0.conns)[0];
        return op.ok(rc.volumes.map((v) => `${diskState(c.n, name, String(v.vnr))}/${p ? op.peerDisk(c, name, p, String(v.vnr)) : "DUnknown"}\n`).join(""));
      }
    }
  }
  switch (a.cmd) {
    case "sh-dev":
      return op.ok(rc.volumes.map((v) => `${v.device}\n`).join(""));
    case "sh-minor":
      return op.ok(rc.volumes.map((v) => `${v.minor}\n`).join(""));
    case "sh-md-dev":
    case "sh-ll-dev":
      return op.ok(rc.volumes.map((v) => `${v.disk ?? "none"}\n`).join(""));
    case "dump":
      return op.ok(dumpResource(rc));
    case "dump-md": {
      // drbdmeta MINOR v09|v08 DISK internal dump-md, per volume with a disk; exit 1 at the first
      // without meta data (what drbdadm passes on from drbdmeta)
      let text = "";
      for (const v of rc.volumes) {
        if (v.disk === null) continue;
        const m = md(c.n, name, v.vnr);
        if (!m) return { code: 1, out: text, err: "No valid meta data found\n" };
        text += dumpMd(c.self, v.minor, v.disk, c.n.kernel.startsWith("8.") ? "v08" : "v09", Math.max(1, rc.peers.length), m, c.now);
      }
      return op.ok(text);
    }
    case "create-md":
      for (const v of rc.volumes) op.createMd(c, name, v.vnr);
      return {
        code: 0,
        out: "md_offset 1073737728\nal_offset 1073704960\nbm_offset 1073672192\n\nFound some data\n\n ==> This might destroy existing data! <==\ninitializing activity log\nWriting meta data...\nNew drbd meta data block successfully created.\n",
        err: a.opts.has("force") ? "\nDo you want to proceed?\n*** confirmation forced via --force option ***\ninitializing bitmap (32 KB) to all zero\n" : "initializing bitmap (32 KB) to all zero\n",
      };
    case "up":
    case "adjust":
      return adjust(c, rc, a.opts.has("skip-net"), peer);
    case "new-resource":
      return c.n.resources[name] ? op.ok() : on(`drbdsetup new-resource ${name} ${rc.nodeId}`, op.newResource(c, name, rc.nodeId, rc.quorum));
    case "new-minor":
      for (const v of rc.volumes) {
        if (c.n.resources[name]?.volumes[v.vnr]) continue;
        const r = op.newMinor(c, name, v.minor, v.vnr, v.disk === null, v.device);
        if (r.code !== 0) return failed(r, `drbdsetup new-minor ${name} ${v.minor} ${v.vnr}`);
      }
      return op.ok();
    case "attach":
      return forEachMinor(c, rc, "attach", (m) => op.attach(c, m, rc.volumes.find((v) => v.minor === m)!.disk ?? "none"));
    case "detach":
      return forEachMinor(c, rc, "detach", (m) => op.detach(c, m));
    case "connect":
      for (const p of peers) {
        const r = op.connect(c, name, p.nodeId);
        if (r.code !== 0) return failed(r, `drbdsetup connect ${name} ${p.nodeId}`);
      }
      return op.ok();
    case "disconnect":
      for (const p of peers) op.disconnect(c, name, p.nodeId);
      return op.ok();
    case "primary":
      return on(`drbdsetup primary ${name}${a.opts.has("force") ? " --force" : a.opts.has("overwrite-data-of-peer") ? " --overwrite-data-of-peer" : ""}`, op.primary(c, name, forced(a)));
    case "secondary":
      return on(`drbdsetup secondary ${name}`, op.secondary(c, name));
    case "down":
      return on(`drbdsetup down ${name}`, op.down(c, name));
    case "outdate":
      if (!c.n.resources[name]) {
        for (const v of rc.volumes) op.outdateOffline(c, name, v.vnr);
        return op.ok();
      }
      return forEachMinor(c, rc, "outdate", (m) => op.outdate(c, m));
    case "check-resize":
    case "unfence-peer":
    case "disk-options":
    case "net-options":
    case "resource-options":
      return op.ok();
    case "role": {
      const r = c.n.resources[name];
      return r ? op.ok(`${r.role}\n`) : failed({ code: 10, out: "", err: `${name}: Unknown resource\n` }, `drbdsetup role ${name}`);
    }
    case "dstate":
      return op.ok(rc.volumes.map((v) => `${diskState(c.n, name, String(v.vnr))}\n`).join(""));
    case "status":
      return c.n.resources[name] ? op.ok(status(c.s, c.self, name, c.now)) : { code: 10, out: "", err: `${name}: No such resource\n` };
    case "sh-status":
      return op.ok(shStatus(c.s, c.self, name, c.now));
    default:
      return { code: 20, out: "", err: `drbdadm: Unknown command '${a.cmd}'\n` };
  }
}

function drbdadm(args: string[]): number {
  const a = parseAdm(args);
  if (a.cmd === "--version" || a.cmd === "-V" || args.includes("--version") || args.includes("-V")) {
    return withState((s) => emit(op.ok(admVersion(s.nodes[selfNode()]))));
  }
  if (a.cmd === "sh-mod-parms") return emit(op.ok("minor_count=32\n"));
  if (a.cmd === "wait-connect") return waitConnected(a.pos[0] ?? "", Number(a.opts.get("wfc-timeout") ?? "0"));
  let stmts;
  try {
    stmts = parseConfFile(a.conf);
  } catch (e) {
    if (e instanceof ConfError) return emit({ code: e.code, out: "", err: `${e.message}\n` });
    throw e;
  }
  if (a.cmd === "sh-resources") return emit(op.ok(`${resourceNames(stmts).join(" ")}\n`));
  if (a.opts.has("skip-net") && withState((s) => node(s, selfNode()).kernel.startsWith("8."))) {
    return emit({ code: 1, out: "", err: "drbdadm: unrecognized option '--skip-net'\ntry 'drbdadm help'\n" });
  }
  const targets = a.pos.length ? a.pos : a.cmd === "status" ? ["all"] : [];
  if (!targets.length) return emit({ code: 20, out: "", err: `USAGE: drbdadm ${a.cmd} [OPTION...] {all|RESOURCE...}\n` });
  const self = selfNode();
  return withState((s, now) => {
    const c = ctxOf(s, now, self);
    let rc = 0;
    for (const t of targets) {
      const [resName, peer] = t.split(":");
      const names = resName === "all" ? resourceNames(stmts) : [resName!];
      for (const name of names) {
        let conf: ResourceConf;
        try {
          conf = resolveResource(stmts, name, self);
        } catch (e) {
          if (e instanceof ConfError) {
            if (resName === "all") continue;
            return emit({ code: e.code, out: "", err: `${e.message}\n` });
          }
          throw e;
        }
        if (a.dry) {
          if (a.cmd === "dump") out(dumpResource(conf));
          else if (a.cmd === "connect") for (const p of conf.peers.filter((x) => !peer || x.name === peer)) out(`drbdsetup connect ${name} ${p.nodeId}\n`);
          else out(`drbdsetup ${a.cmd} ${name}\n`);
          continue;
        }
        const r = admOne(c, a, conf, peer);
        emit(a.verbose || r.code !== 0 || !["up", "adjust"].includes(a.cmd) ? r : { ...r, out: "" });
        if (r.code !== 0) rc = r.code;
        if (rc) return rc;
      }
    }
    return rc;
  });
}

// ---- tsstor-drbd-sim -------------------------------------------------------------------------

function control(args: string[]): number {
  const { pos, opts } = split(args);
  const [cmd, ...rest] = pos;
  if (cmd === "modprobe") {
    withState((s) => {
      node(s, selfNode()).loaded = true;
    });
    return 0;
  }
  return withState((s, now) => {
    const need = (n: string | undefined) => {
      if (!n || !s.nodes[n]) throw new Error(`no such node ${n ?? "(none)"}`);
      return s.nodes[n]!;
    };
    try {
      switch (cmd) {
        case "init":
          for (const n of rest) s.nodes[n] ??= newNode(opts.get("kernel") || undefined, !opts.has("unloaded"));
          return 0;
        case "md": {
          const [n, res, vol, disk, gen] = rest;
          const old = need(n).md[res!]?.[vol!];
          const g = gen !== undefined ? Number(gen) : (old?.gen ?? 1);
          (need(n).md[res!] ??= {})[vol!] = { disk: disk as never, gen: g, bitmap: gen !== undefined || !old ? {} : old.bitmap };
          s.nextGen = Math.max(s.nextGen, g + 1);
          return 0;
        }
        case "load":
          need(rest[0]).loaded = true;
          return 0;
        case "unload":
        case "crash": {
          const n = need(rest[0]);
          if (cmd === "unload" && Object.keys(n.resources).length) {
            err("rmmod: ERROR: Module drbd is in use\n");
            return 1;
          }
          const devs = Object.values(n.resources).flatMap((r) => Object.values(r.volumes).map((v) => v.devPath));
          n.resources = {};
          n.loaded = false;
          for (const d of devs) dropDevNode(s, d);
          n.holdOpen = {};
          return 0;
        }
        case "cut":
        case "heal":
          cut(s, rest[0]!, rest[1]!, cmd === "cut");
          return 0;
        case "hold-open":
          need(rest[0]).holdOpen[rest[1]!] = rest[2] !== "off";
          return 0;
        case "quorum": {
          const n = need(rest[0]);
          if (rest[2] === "auto") delete n.quorumOverride[rest[1]!];
          else n.quorumOverride[rest[1]!] = rest[2] === "no" ? "no" : "yes";
          return 0;
        }
        case "sync-ms":
          s.syncMs = Number(rest[0]);
          return 0;
        case "finish-sync":
        case "sync-freeze":
          for (const n of Object.values(s.nodes)) {
            for (const r of Object.values(n.resources)) {
              for (const v of Object.values(r.volumes)) {
                if (!v.sync) continue;
                if (cmd === "sync-freeze") v.sync.frozen = Number(rest[0]);
                else {
                  delete v.sync.frozen;
                  v.sync.startedAt = now - v.sync.durationMs;
                }
              }
            }
          }
          return 0;
        case "dump":
          out(`${JSON.stringify(s, null, 2)}\n`);
          return 0;
        default:
          err(`tsstor-drbd-sim: unknown command ${cmd ?? ""}\n`);
          return 2;
      }
    } catch (e) {
      err(`tsstor-drbd-sim: ${(e as Error).message}\n`);
      return 2;
    }
  });
}

export const fakes: Record<string, FakeMain> = {
  drbdsetup,
  drbdadm,
  "tsstor-drbd-sim": control,
};
