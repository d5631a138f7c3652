// `tsstor status`: is my storage healthy, and where is it served? Reads crm_mon's XML and the CIB
// (cibadmin -Q) for the cluster, and this node's DRBD, iSCSI targets, addresses, mounts, DLM
// and lvmlockd through the agents' own lib/ adapters; prints one block per stack, failed
// actions and the hazards `tsstor doctor` reports. --watch refreshes in place (with the resync
// rate and ETA measured across refreshes), --json for scripts, --graph FILE draws the stack.
//
// Exit status: 0 everything runs with full redundancy (exitCode() says what counts), 1
// otherwise, 2 the cluster state could not be read (not a cluster node, Pacemaker not running,
// bad options).
import { runTool } from "./run.js";
import type { Argv, CommandModule } from "yargs";
import { hostname } from "node:os";
import { parseCrmMon, type CrmStatus } from "./crm-mon.js";
import { parseCibConfig, type StackConfig } from "./status/config.js";
import { SyncTracker } from "./status/eta.js";
import { GraphError, toDot, writeGraph } from "./status/graph.js";
import { hazards, type HazardLine } from "./status/hazards.js";
import { gfs2Sys, localAddresses, localPaths, readDlm, readDrbd, readLio, readLvmlockd, readMountTable, readTgt, type LocalTarget } from "./status/local.js";
import { buildReport, type LocalView, type StatusReport } from "./status/model.js";
import { COLOUR, PLAIN, renderJson, renderText } from "./status/render.js";

export class StatusError extends Error {}

export interface StatusOptions {
  /** this node's name (default: the host name if it is a node's, else crm_node -n; with CIB_file only the host name) */
  node?: string;
  /** skip this node's DRBD/target/mount state (Pacemaker's view only) */
  noLocal?: boolean;
  version: string;
}

const run = (cmd: string, args: string[], timeoutMs = 30_000) => runTool(cmd, args, { timeoutMs });

function readCrm(): CrmStatus {
  // --fence-history=2: successful fencing too (the default shows only failed and pending)
  const r = run("crm_mon", ["--output-as=xml", "--fence-history=2"]);
  if (r.missing) throw new StatusError("crm_mon not found: install pacemaker-cli-utils, and run tsstor status on a cluster node");
  // crm_mon may print XML with only a <status> and <errors> (even with exit 0) when it cannot connect
  if (r.code !== 0 || !/<summary>/.test(r.stdout)) {
    const why = /<error>([^<]*)<\/error>/.exec(r.stdout)?.[1] ?? /<status code="\d+" message="([^"]*)"/.exec(r.stdout)?.[1] ?? (r.stderr.trim().split("\n").pop() || `exit ${r.code}`);
    throw new StatusError(`crm_mon --output-as=xml failed: ${why} (is Pacemaker running on this node?)`);
  }
  return parseCrmMon(r.stdout);
}

/** The CIB's configuration, or (if it cannot be read) what crm_mon says about the resources. */
function readCib(crm: CrmStatus, notes: string[]): { cfg: StackConfig; xml: string } {
  const r = run("cibadmin", ["-Q"]);
  if (r.code === 0 && r.stdout.includes("<cib")) return { cfg: parseCibConfig(r.stdout), xml: r.stdout };
  notes.push(`cibadmin -Q failed (${r.stderr.trim().split("\n").pop() || `exit ${r.code}`}): no parameters or constraints shown`);
  const seen = new Set<string>();
  const cfg: StackConfig = { resources: [], constraints: [], properties: {} };
  for (const i of crm.resources) {
    if (seen.has(i.id)) continue;
    seen.add(i.id);
    cfg.resources.push({ id: i.id, agent: i.agent, params: {}, clone: i.clone, promotable: crm.resources.some((x) => x.id === i.id && /Promoted|Unpromoted/.test(x.role)), group: i.group, top: i.clone ?? i.group ?? i.id });
  }
  return { cfg, xml: "" };
}

function localNodeName(o: StatusOptions, crm: CrmStatus): string | undefined {
  if (o.noLocal) return undefined;
  let name = o.node;
  // Pacemaker names a node after its host name unless corosync.conf says otherwise: ask
  // crm_node only then (one process less in the common case)
  if (!name && crm.nodes.some((n) => n.name === hostname())) name = hostname();
  if (!name && !process.env.CIB_file) {
    const r = run("crm_node", ["-n"], 10_000);
    name = r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
  }
  return name && crm.nodes.some((n) => n.name === name) ? name : undefined;
}

function memo<T>(f: () => T): () => T {
  let done = false;
  let v: T;
  return () => {
    if (!done) {
      v = f();
      done = true;
    }
    return v;
  };
}

function localView(node: string | undefined): LocalView {
  const paths = localPaths();
  return {
    node,
    drbd: (r) => readDrbd(r.params.drbd_resource!, r.params.drbdconf || "/etc/drbd.conf", paths),
    targets: memo(() => {
      const t = readTgt(paths);
      const l = readLio(paths);
      if (t && "error" in t) return t;
      if (!t && !l) return undefined;
      return [...((t as LocalTarget[] | undefined) ?? []), ...(l ?? [])];
    }),
    addresses: memo(() => (node ? localAddresses() : undefined)),
    mounts: memo(() => readMountTable(paths)),
    gfs2Sys: (m) => gfs2Sys(m.major, m.minor, paths),
    dlm: memo(() => readDlm()),
    lvmlockd: memo(() => readLvmlockd()),
  };
}

export interface Gathered {
  report: StatusReport;
  cfg: StackConfig;
  crm: CrmStatus;
}

/** One reading of everything. `hz` caches the hazard checks between readings of one command. */
export function gather(o: StatusOptions, hz?: { lines?: HazardLine[] | { unavailable: string } }): Gathered {
  const notes: string[] = [];
  const crm = readCrm();
  const { cfg, xml } = readCib(crm, notes);
  const node = localNodeName(o, crm);
  if (!o.noLocal && !node) notes.push("this host is not one of the cluster's nodes (or --node names none): local DRBD, target and mount state not shown");
  const cache = hz ?? {};
  cache.lines ??= xml ? hazards(xml) : { unavailable: "the CIB could not be read" };
  const report = buildReport({ version: o.version, crm, cfg, local: localView(node), hazards: cache.lines, notes });
  return { report, cfg, crm };
}

/**
 * 0 when everything runs with full redundancy: every node online, no failed action or failed/
 * blocked instance, DRBD UpToDate wherever it is seen, no resync, virtual IPs and mounts where
 * Pacemaker says. Configuration hazards do not count (that is `tsstor doctor`'s exit status).
 */
export function exitCode(r: StatusReport): 0 | 1 {
  const bad =
    r.nodes.some((n) => n.state !== "online") ||
    r.failures.length > 0 ||
    r.stacks.some(
      (s) =>
        s.resources.some((x) => x.instances.some((i) => i.failed || i.blocked)) ||
        s.drbd.some((d) => d.syncs.length > 0 || d.nodes.some((n) => n.disk !== undefined && n.source !== "pacemaker" && !/^((\d+:)?UpToDate,?)+$/.test(n.disk))) ||
        s.targets.some((t) => t.strayHere) ||
        s.vips.some((v) => v.presentHere === false && !!r.cluster.localNode && v.nodes.includes(r.cluster.localNode)) ||
        s.filesystems.some((f) => f.nodes.some((n) => (n.started && n.mounted === false) || n.withdrawn)),
    );
  return bad ? 1 : 0;
}

export function graphOf(g: Gathered): string {
  const online = g.report.nodes.filter((n) => n.state === "online").length;
  return toDot({
    title: `tsstor status: ${online}/${g.report.nodes.length} nodes online${g.report.failures.length ? `, ${g.report.failures.length} failed action(s)` : ""}`,
    nodes: g.report.nodes.map((n) => ({ name: n.name, label: `${n.name} (${[n.state, n.dc ? "DC" : ""].filter(Boolean).join(", ")})` })),
    cfg: g.cfg,
    placement: (r) =>
      g.crm.resources
        .filter((i) => (i.id === r.id || i.id.startsWith(`${r.id}:`)) && i.active && i.node)
        .map((i) => ({ node: i.node, role: i.role, failed: i.failed })),
  });
}

const sleep = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

export interface RunOpts extends StatusOptions {
  json: boolean;
  watch: boolean;
  /** seconds between refreshes */
  interval: number;
  graph?: string;
  colour: boolean;
  out?: (s: string) => void;
}

/** The one-shot status: a second reading a second later when a resync runs (for its rate and ETA). */
export async function statusOnce(o: RunOpts): Promise<number> {
  const out = o.out ?? ((s: string) => process.stdout.write(s));
  const tracker = new SyncTracker();
  const hz = {};
  let g = gather(o, hz);
  tracker.observe(g.report, Date.now());
  if (tracker.syncing) {
    await sleep(1000);
    g = gather(o, hz);
    tracker.observe(g.report, Date.now());
  }
  if (o.graph) writeGraph(graphOf(g), o.graph);
  out(o.json ? renderJson(g.report) : renderText(g.report, o.colour ? COLOUR : PLAIN));
  return exitCode(g.report);
}

/** --watch: redraw in place every `interval` seconds until interrupted. */
export async function statusWatch(o: RunOpts): Promise<number> {
  const out = o.out ?? ((s: string) => process.stdout.write(s));
  const tty = !!process.stdout.isTTY && !o.json;
  const tracker = new SyncTracker();
  const hz: { lines?: HazardLine[] | { unavailable: string } } = {};
  let stop = false;
  const restore = () => {
    if (tty) out("\x1b[?25h\n");
  };
  const onSig = () => {
    stop = true;
    restore();
    process.exit(0);
  };
  process.on("SIGINT", onSig);
  process.on("SIGTERM", onSig);
  if (tty) out("\x1b[?25l\x1b[2J");
  let n = 0;
  while (!stop) {
    // the hazard checks read files and the whole CIB: once a minute is enough
    if (n++ % Math.max(1, Math.round(60 / o.interval)) === 0) delete hz.lines;
    let text: string;
    try {
      const g = gather(o, hz);
      tracker.observe(g.report, Date.now());
      if (o.graph) writeGraph(graphOf(g), o.graph);
      text = o.json ? renderJson(g.report) : renderText(g.report, o.colour ? COLOUR : PLAIN);
    } catch (e) {
      if (!(e instanceof StatusError)) throw e;
      text = `tsstor status: ${e.message}\n`;
    }
    const head = `Every ${o.interval}s: tsstor status    ${new Date().toISOString().replace("T", " ").slice(0, 19)}Z\n\n`;
    if (tty) out(`\x1b[H${(head + text).split("\n").join("\x1b[K\n")}\x1b[J`);
    else out(o.json ? text : `${head}${text}\n`);
    await sleep(o.interval * 1000);
  }
  return 0;
}

type Args = { json: boolean; watch: boolean; interval: number; graph?: string; color: string; node?: string; "cluster-only": boolean };

/** The yargs command; `setCode` receives the exit status (or its promise). */
export function statusCommand(setCode: (code: number | Promise<number>) => void, version: string): CommandModule<object, Args> {
  return {
    command: "status",
    describe: "the storage stacks at a glance: where each resource runs, virtual IPs, iSCSI targets and initiators, DRBD and resync progress, GFS2 mounts, failures, hazards",
    builder: (y: Argv) =>
      y
        .option("watch", { alias: "w", type: "boolean", default: false, describe: "refresh in place until Ctrl-C" })
        .option("interval", { alias: "n", type: "number", default: 2, describe: "with --watch: seconds between refreshes" })
        .option("json", { type: "boolean", default: false, describe: "print the status as JSON (for scripts)" })
        .option("graph", { type: "string", describe: "also draw the stacks to FILE (.svg, .png, .pdf or .dot) with Graphviz dot" })
        .option("color", { type: "string", choices: ["auto", "always", "never"], default: "auto", describe: "colours: auto = only on a terminal (and without NO_COLOR)" })
        .option("node", { type: "string", describe: "this node's cluster name (default: the host name, else crm_node -n)" })
        .option("cluster-only", { type: "boolean", default: false, describe: "Pacemaker's view only: do not read this node's DRBD, target, address and mount state" })
        .epilog(
          "Exit status: 0 everything runs with full redundancy (every node online, no failed action or instance, DRBD UpToDate everywhere and no resync, virtual IPs and mounts present where Pacemaker runs them); 1 otherwise; 2 the cluster state could not be read. Configuration hazards do not change it: that is tsstor doctor's exit status.\n\n" +
            "The DRBD, iSCSI session and mount details come from the node tsstor status runs on (peers' DRBD states as that node's DRBD sees them); run it on the node serving a target to see its initiators.",
        ) as Argv<Args>,
    handler: (a) => {
      if (!(a.interval > 0)) {
        process.stderr.write("tsstor status: --interval must be a positive number of seconds\n");
        setCode(2);
        return;
      }
      const colour = a.color === "always" || (a.color === "auto" && !!process.stdout.isTTY && !process.env.NO_COLOR && process.env.TERM !== "dumb");
      const o: RunOpts = { version, json: a.json, watch: a.watch, interval: a.interval, graph: a.graph, colour, node: a.node, noLocal: a["cluster-only"] };
      setCode(
        (a.watch ? statusWatch(o) : statusOnce(o)).catch((e: unknown) => {
          if (!(e instanceof StatusError) && !(e instanceof GraphError)) throw e;
          process.stderr.write(`tsstor status: ${e.message}\n`);
          return 2;
        }),
      );
    },
  };
}
