// `tsstor status` for people: one block per stack (a resource x node table, then the virtual
// IPs, iSCSI targets, DRBD and filesystems of the stack), failed actions, hazards. Colours only
// when asked (a terminal), never in pipes or files.
import { formatEta } from "./eta.js";
import { roleOn, type DrbdRow, type FsRow, type ResourceRow, type StackRow, type StatusReport, type TargetRow } from "./model.js";

export interface Style {
  bold: (s: string) => string;
  dim: (s: string) => string;
  red: (s: string) => string;
  green: (s: string) => string;
  yellow: (s: string) => string;
  cyan: (s: string) => string;
}

const sgr = (code: string) => (s: string) => (s ? `\x1b[${code}m${s}\x1b[0m` : s);
export const COLOUR: Style = { bold: sgr("1"), dim: sgr("2"), red: sgr("1;31"), green: sgr("32"), yellow: sgr("33"), cyan: sgr("36") };
const id = (s: string) => s;
export const PLAIN: Style = { bold: id, dim: id, red: id, green: id, yellow: id, cyan: id };

/** Visible width (without colour escapes). */
const width = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "").length;
const pad = (s: string, n: number) => s + " ".repeat(Math.max(0, n - width(s)));

function table(rows: string[][], indent: string): string[] {
  const w: number[] = [];
  for (const r of rows) r.forEach((c, i) => (w[i] = Math.max(w[i] ?? 0, width(c))));
  return rows.map((r) => (indent + r.map((c, i) => (i === r.length - 1 ? c : pad(c, w[i]! + 2))).join("")).trimEnd());
}

export const BAR_WIDTH = 24;

/** [#########---------------] for a percentage. */
export function progressBar(done: number, n = BAR_WIDTH): string {
  const full = Math.max(0, Math.min(n, Math.floor((done / 100) * n)));
  return `[${"#".repeat(full)}${"-".repeat(n - full)}]`;
}

function roleCell(r: ResourceRow, node: string, st: Style): string {
  const i = roleOn(r, node);
  if (!i) return st.dim("·");
  let s = i.role;
  if (i.failed) return st.red(`${s} FAILED`);
  if (i.blocked) return st.red(`${s} BLOCKED`);
  if (!i.managed) s += " (unmanaged)";
  if (i.role === "Promoted") return st.bold(st.green(s));
  if (i.role === "Started") return st.green(s);
  if (i.role === "Unpromoted") return st.cyan(s);
  return st.yellow(s);
}

function agentCell(r: ResourceRow): string {
  const kind = r.clone ? (r.promotable ? ", promotable clone" : ", clone") : r.group ? `, group ${r.group}` : "";
  return `${r.agent}${kind}`;
}

const nodesText = (nodes: string[], st: Style) => (nodes.length ? `on ${nodes.join(", ")}` : st.yellow("not running"));

function targetLines(t: TargetRow, st: Style): string[] {
  const L = [`    ${st.bold(t.iqn)}  ${t.resource}  ${nodesText(t.nodes, st)}${t.implementation ? `  (${t.implementation})` : ""}`];
  if (t.strayHere) L.push(`      ${st.red(`ALSO served by this node, where Pacemaker does not run ${t.resource}: a leftover or a duplicate target`)}`);
  for (const l of t.luns) L.push(`      LUN ${l.lun}  ${l.path}${l.sizeMb !== undefined ? `  ${l.sizeMb} MB` : ""}  ${l.resource ?? st.yellow("(no resource manages it)")}  ${nodesText(l.nodes, st)}`);
  if (t.initiators) {
    if (!t.initiators.length) L.push(`      ${st.dim("no initiator logged in")}`);
    for (const i of t.initiators) L.push(`      initiator ${i.name}${i.addresses.length ? ` from ${i.addresses.join(", ")}` : ""}`);
  } else if (t.initiatorsNote) L.push(`      ${st.dim(t.initiatorsNote)}`);
  return L;
}

function drbdLines(d: DrbdRow, local: string | undefined, st: Style): string[] {
  const L = [`    ${st.bold(`DRBD ${d.drbdResource}`)} (${d.resource})`];
  const rows = d.nodes.map((n) => {
    const role = n.role ?? st.dim("?");
    const disk = n.disk ?? st.dim("?");
    const extra = n.node === local ? "this node" : n.connection ? (n.connection === "Connected" ? "connected" : st.yellow(n.connection.toLowerCase())) : n.source === "pacemaker" ? st.dim("not seen from here") : "";
    const diskS = /UpToDate/.test(disk) && !/Inconsistent|Outdated|DUnknown|Diskless|Failed/.test(disk) ? st.green(disk) : /\?/.test(disk) ? disk : st.yellow(disk);
    const roleS = n.role === "Primary" ? st.bold(role) : role;
    return [n.node, roleS, diskS, n.pacemaker ? `Pacemaker: ${n.pacemaker}` : st.dim("Pacemaker: -"), extra];
  });
  L.push(...table(rows, "      "));
  for (const s of d.syncs) {
    L.push(`      ${st.yellow(`resync ${s.source} -> ${s.target}`)}${d.nodes.length && s.volume ? ` volume ${s.volume}` : ""}  ${st.yellow(progressBar(s.done))} ${s.done.toFixed(2).padStart(6)}%  ETA ${formatEta(s.etaSeconds)}`);
  }
  if (d.error) L.push(`      ${st.dim(`this node: ${d.error}`)}`);
  return L;
}

function fsLines(f: FsRow, local: string | undefined, st: Style): string[] {
  const L = [`    ${st.bold(f.directory)}  ${f.fstype || "?"} on ${f.device || "?"}  ${f.resource}${f.lockTable ? `  lock table ${f.lockTable}` : ""}`];
  if (!f.nodes.length) L.push(`      ${st.yellow("mounted nowhere")}`);
  const rows = f.nodes.map((n) => {
    const what: string[] = [];
    if (n.mounted !== undefined) what.push(n.mounted ? st.green(`mounted ${n.readOnly ? "ro" : "rw"}`) : st.red("NOT mounted"));
    else what.push(n.started ? "started" : "stopped");
    if (n.withdrawn) what.push(st.red("WITHDRAWN"));
    if (n.dlmMember !== undefined) what.push(n.dlmMember ? "DLM member" : st.yellow("not in the DLM lockspace"));
    if (n.mounted !== undefined && !n.started) what.push(st.yellow("(Pacemaker does not run it here)"));
    return [n.node, what.join(", "), n.node === local ? "this node" : ""];
  });
  L.push(...table(rows, "      "));
  return L;
}

function stackLines(s: StackRow, r: StatusReport, st: Style): string[] {
  const nodes = r.nodes.map((n) => n.name);
  const L = [st.bold(`Stack ${s.name}: ${s.kind}`)];
  const head = ["RESOURCE", "AGENT", ...r.nodes.map((n) => (n.state === "online" ? n.name : `${n.name} (${n.state})`))];
  const rows = s.resources.map((x) => {
    const cells = [x.id, agentCell(x), ...nodes.map((n) => roleCell(x, n, st))];
    if (!x.instances.some((i) => i.node)) cells.push(st.yellow("stopped"));
    return cells;
  });
  L.push(...table([head.map((h) => st.dim(h)), ...rows], "  "));
  if (s.vips.length) {
    L.push("  Virtual IPs");
    for (const v of s.vips) {
      const here = v.presentHere === undefined || !r.cluster.localNode ? "" : v.presentHere ? "  (configured on this node)" : v.nodes.includes(r.cluster.localNode) ? st.red("  (MISSING on this node)") : "";
      L.push(`    ${st.bold(`${v.ip}${v.cidr ? `/${v.cidr}` : ""}`)}  ${v.resource}  ${nodesText(v.nodes, st)}${here}`);
    }
  }
  if (s.targets.length) {
    L.push("  iSCSI targets");
    for (const t of s.targets) L.push(...targetLines(t, st));
  }
  if (s.drbd.length) {
    L.push("  Replication");
    for (const d of s.drbd) L.push(...drbdLines(d, r.cluster.localNode, st));
  }
  if (s.filesystems.length) {
    L.push("  Filesystems");
    for (const f of s.filesystems) L.push(...fsLines(f, r.cluster.localNode, st));
  }
  if (s.lockd.length) {
    L.push("  Lock managers");
    for (const l of s.lockd) L.push(`    ${l.resource}  ${nodesText(l.nodes, st)}${l.lockspaces ? `  lockspaces here: ${l.lockspaces.join(", ") || "none"}` : ""}${l.note ? `  ${st.dim(l.note)}` : ""}`);
  }
  return L;
}

function fencingText(f: StatusReport["cluster"]["fencing"], enabled: boolean, st: Style): string {
  const how =
    f.method === "none"
      ? st.red(enabled ? "none (no fence device)" : "none (stonith-enabled=false)")
      : `${f.method}${f.devices.length ? `: ${f.devices.map((d) => `${d.id} (${d.agent}) ${d.nodes.length ? `on ${d.nodes.join(",")}` : st.red("stopped")}`).join(", ")}` : ""}`;
  const e = f.last;
  const last = e ? `; last: ${e.target} ${e.action} by ${e.by || "?"}, ${e.status === "success" ? e.status : st.red(e.status)}${e.completed ? ` ${st.dim(`at ${e.completed}`)}` : ""}` : "";
  return `${how}${last}`;
}

export function renderText(r: StatusReport, st: Style = PLAIN): string {
  const L: string[] = [];
  const online = r.nodes.filter((n) => n.state === "online").length;
  L.push(
    `${st.bold("Cluster")}: ${online}/${r.nodes.length} nodes online, ${r.cluster.dc ? `DC ${r.cluster.dc}` : st.red("no DC")}, ${r.cluster.quorum ? "quorum" : st.red("NO QUORUM")}${r.cluster.maintenanceMode ? st.yellow(", maintenance mode") : ""}  ${st.dim(`(${r.cluster.lastUpdate || "now"})`)}`,
  );
  L.push(
    `${st.bold("Nodes")}:   ${r.nodes
      .map((n) => {
        const tags = [n.dc ? "DC" : "", n.local ? "this node" : ""].filter(Boolean);
        const state = n.state === "online" ? st.green(n.state) : st.red(n.state);
        return `${n.name} ${state}${tags.length ? ` (${tags.join(", ")})` : ""}`;
      })
      .join("   ")}`,
  );
  L.push(`${st.bold("Fencing")}: ${fencingText(r.cluster.fencing, r.cluster.stonithEnabled, st)}`);
  for (const s of r.stacks) {
    L.push("");
    L.push(...stackLines(s, r, st));
  }
  if (!r.stacks.length) L.push("", st.dim("No resources configured."));
  L.push("");
  if (r.failures.length) {
    L.push(st.bold(st.red("Failed actions")));
    for (const f of r.failures) {
      const every = f.interval === "0s" ? "" : ` every ${f.interval}`;
      L.push(`  ${st.red(`${f.resource} ${f.operation}${every} on ${f.node}`)}: ${f.exitStatus}${Number.isFinite(f.exitCode) ? ` (${f.exitCode})` : ""}${f.exitReason ? ` "${f.exitReason}"` : ""}${f.lastRcChange ? ` ${st.dim(`at ${f.lastRcChange}`)}` : ""}`);
    }
  } else L.push(`${st.bold("Failed actions")}: none`);
  if (r.hazardsUnavailable) L.push(`${st.bold("Hazards")}: ${st.dim(`not checked (${r.hazardsUnavailable})`)}`);
  else if (!r.hazards.length) L.push(`${st.bold("Hazards")}: none found (tsstor doctor)`);
  else {
    L.push(st.bold("Hazards (tsstor doctor for details and fixes)"));
    for (const h of r.hazards) {
      const sev = h.severity === "error" ? st.red("ERROR  ") : h.severity === "warning" ? st.yellow("WARNING") : st.dim("INFO   ");
      L.push(`  ${sev} ${h.id}  ${h.subject}: ${h.message}`);
    }
  }
  for (const n of r.notes) L.push(st.dim(`note: ${n}`));
  return `${L.join("\n")}\n`;
}

export function renderJson(r: StatusReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
