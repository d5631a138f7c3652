// `crm_mon --output-as=xml` (Pacemaker 2.1 and 3.0) as typed data: nodes, every resource
// instance flattened with its clone/group, failed operations. Works on a live cluster and on
// `CIB_file=... crm_mon --output-as=xml` (crm_simulate output). Used by `tsstor status` and the
// test rig (test/rig/crm-mon.ts re-exports it).
import { XMLParser } from "fast-xml-parser";

/**
 * An operation's result by its OCF exit code, as Pacemaker 2.1 names it in exitstatus=""; 3.0
 * names the same codes differently ("Not running", "Error occurred"), so the code decides.
 */
const OCF_RESULTS: Record<number, string> = {
  0: "ok", 1: "error", 2: "invalid parameter", 3: "unimplemented feature", 4: "insufficient privileges",
  5: "not installed", 6: "not configured", 7: "not running", 8: "promoted", 9: "promoted (failed)", 190: "OCF_DEGRADED", 191: "promoted (degraded)",
};

/** An operation's execution status as Pacemaker 2.1 names it, from 3.0's names where they differ. */
const EXEC_STATUS_21: Record<string, string> = { Pending: "pending", Done: "complete", "Timed out": "Timed Out", Unsupported: "NOT SUPPORTED" };

export type Role = "Started" | "Stopped" | "Promoted" | "Unpromoted" | "Starting" | "Stopping" | "Promoting" | "Demoting" | "Migrating" | string;

export interface NodeStatus {
  name: string;
  /** corosync node id ("1") on a live cluster; the name in a crm_simulate CIB */
  id: string;
  online: boolean;
  standby: boolean;
  unclean: boolean;
  pending: boolean;
  isDc: boolean;
  maintenance: boolean;
}

export interface ResourceInstance {
  /** primitive id (anonymous clone instances all share it) */
  id: string;
  agent: string;
  role: Role;
  active: boolean;
  failed: boolean;
  blocked: boolean;
  managed: boolean;
  /** node the instance runs on (none when stopped) */
  node: string | undefined;
  /** enclosing clone id, if any */
  clone: string | undefined;
  /** enclosing group id, if any */
  group: string | undefined;
}

export interface Failure {
  opKey: string;
  node: string;
  exitStatus: string;
  exitReason: string;
  task: string;
  interval: string;
  /** OCF exit code as a number (7 = not running); NaN when absent */
  exitCode: number;
  /** "2026-11-22 06:58:49Z" as crm_mon prints it */
  lastRcChange: string;
  /** execution status: complete, Timed Out, Error, ... */
  status: string;
}

/** One fencing action from crm_mon's fence history (--fence-history=2 includes successes). */
export interface FenceEvent {
  action: string;
  target: string;
  /** the node that carried it out */
  delegate: string;
  /** the node that asked */
  origin: string;
  /** success, failed, pending */
  status: string;
  /** "2026-12-04 18:31:31Z" */
  completed: string;
}

export interface CrmStatus {
  dc: string | undefined;
  quorum: boolean;
  /** crm_mon's last_update time text */
  lastUpdate: string;
  /** cluster options from the summary (stonith-enabled, maintenance-mode, ...) */
  options: Record<string, string>;
  nodes: NodeStatus[];
  resources: ResourceInstance[];
  failures: Failure[];
  /** newest first, as crm_mon lists them */
  fenceEvents: FenceEvent[];
  xml: string;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  isArray: (name) => ["node", "resource", "clone", "group", "bundle", "failure", "replica", "fence_event"].includes(name),
});

type X = Record<string, unknown>;
const arr = (v: unknown): X[] => (Array.isArray(v) ? (v as X[]) : v === undefined || v === "" ? [] : [v as X]);
const bool = (v: unknown) => v === "true";
const str = (v: unknown) => (v === undefined ? "" : String(v));

export function parseCrmMon(xml: string): CrmStatus {
  const doc = parser.parse(xml) as X;
  const root = (doc["pacemaker-result"] ?? doc["crm_mon"] ?? {}) as X;
  const summary = (root.summary ?? {}) as X;
  const dcEl = (summary.current_dc ?? {}) as X;
  const nodes: NodeStatus[] = arr((root.nodes as X | undefined)?.node).map((n) => ({
    name: str(n.name),
    online: bool(n.online),
    standby: bool(n.standby),
    unclean: bool(n.unclean),
    pending: bool(n.pending),
    isDc: bool(n.is_dc),
    id: str(n.id),
    maintenance: bool(n.maintenance),
  }));
  const resources: ResourceInstance[] = [];
  const walk = (el: X, clone: string | undefined, group: string | undefined) => {
    for (const r of arr(el.resource)) {
      const on = arr(r.node);
      const base = {
        id: str(r.id),
        agent: str(r.resource_agent),
        role: str(r.role),
        active: bool(r.active),
        failed: bool(r.failed),
        blocked: bool(r.blocked),
        managed: r.managed === undefined ? true : bool(r.managed),
        clone,
        group,
      };
      if (!on.length) resources.push({ ...base, node: undefined });
      for (const n of on) resources.push({ ...base, node: str(n.name) });
    }
    for (const g of arr(el.group)) walk(g, clone, str(g.id));
    for (const c of arr(el.clone)) walk(c, str(c.id), group);
  };
  walk((root.resources ?? {}) as X, undefined, undefined);
  const failures: Failure[] = arr((root.failures as X | undefined)?.failure).map((f) => ({
    opKey: str(f.op_key),
    node: str(f.node),
    exitStatus: OCF_RESULTS[Number(f.exitcode)] ?? str(f.exitstatus),
    exitReason: str(f.exitreason),
    task: str(f.task),
    interval: str(f.interval),
    exitCode: f.exitcode === undefined ? NaN : Number(f.exitcode),
    lastRcChange: str(f["last-rc-change"]),
    status: EXEC_STATUS_21[str(f.status)] ?? str(f.status),
  }));
  const fenceEvents: FenceEvent[] = arr((root.fence_history as X | undefined)?.fence_event).map((e) => ({
    action: str(e.action),
    target: str(e.target),
    delegate: str(e.delegate),
    origin: str(e.origin),
    status: str(e.status),
    completed: str(e.completed),
  }));
  const options: Record<string, string> = {};
  for (const [k, v] of Object.entries((summary.cluster_options ?? {}) as X)) options[k] = str(v);
  return {
    dc: bool(dcEl.present) ? str(dcEl.name) : undefined,
    quorum: bool(dcEl["with_quorum"]),
    lastUpdate: str(((summary.last_update ?? {}) as X).time),
    options,
    nodes,
    resources,
    failures,
    fenceEvents,
    xml,
  };
}

/** Instances of a primitive (by id) or of a clone/group (by its id), optionally in one role. */
export function instances(s: CrmStatus, id: string, role?: Role): ResourceInstance[] {
  return s.resources.filter((r) => (r.id === id || r.clone === id || r.group === id) && (role === undefined || r.role === role));
}

/** Nodes on which `id` is active (in `role` when given), sorted. */
export function where(s: CrmStatus, id: string, role?: Role): string[] {
  return [...new Set(instances(s, id, role).filter((r) => r.active && r.node).map((r) => r.node!))].sort();
}

/** One line per instance, for assertion messages and progress output. */
export function summarize(s: CrmStatus): string {
  const nodes = s.nodes.map((n) => `${n.name}:${n.online ? "online" : "OFFLINE"}${n.isDc ? "(DC)" : ""}`).join(" ");
  const res = s.resources.map((r) => `${r.clone ? `${r.clone}/` : ""}${r.id}=${r.role}${r.node ? `@${r.node}` : ""}${r.failed ? "!" : ""}`).join(" ");
  return `${nodes} | ${res}`;
}
