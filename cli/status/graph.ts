// The stack as a picture, laid out by Graphviz `dot` (Debian's graphviz package): every resource
// instance is a box inside its node's frame, order constraints are arrows (first -> then),
// colocations are dashed links (dependent -> the resource it is placed with), the Promoted
// instance has a double border and a gold fill, failed instances a red one. Stopped resources
// sit in a "not running" frame.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { members, planConfig, type Rsc, type StackConfig } from "./config.js";

export interface Placed {
  node?: string;
  role: string;
  failed?: boolean;
}

export interface GraphInput {
  title: string;
  /** frames, left to right */
  nodes: Array<{ name: string; label: string }>;
  cfg: StackConfig;
  /** where each primitive's instances are (none: stopped) */
  placement: (r: Rsc) => Placed[];
}

const STOPPED = "\u0000stopped";
const html = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const q = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;

interface Box {
  key: string;
  rsc: Rsc;
  node: string;
  role: string;
  failed: boolean;
}

/** Instances that take part in an action or role: promote/demote and Promoted mean the Promoted one. */
function pick(boxes: Box[], roleOrAction: string): Box[] {
  if (["promote", "demote", "Promoted"].includes(roleOrAction)) {
    const p = boxes.filter((b) => b.role === "Promoted");
    return p.length ? p : boxes.filter((b) => b.node === STOPPED);
  }
  if (roleOrAction === "Unpromoted") return boxes.filter((b) => b.role === "Unpromoted");
  return boxes;
}

/** Pair instances of two resources: same node where both run there, else every combination. */
function pairs(a: Box[], b: Box[]): Array<[Box, Box]> {
  const out: Array<[Box, Box]> = [];
  for (const y of b) {
    const same = a.filter((x) => x.node === y.node);
    for (const x of same.length ? same : a) out.push([x, y]);
  }
  return out;
}

export function toDot(g: GraphInput): string {
  const boxes: Box[] = [];
  g.cfg.resources.forEach((r) => {
    const placed = g.placement(r);
    const list = placed.length ? placed : [{ role: "Stopped" }];
    list.forEach((p, i) => boxes.push({ key: `${r.id}@${p.node ?? "stopped"}#${i}`, rsc: r, node: p.node ?? STOPPED, role: p.role, failed: !!p.failed }));
  });
  const L: string[] = [];
  L.push("digraph tsstor {");
  const legend = "arrow: order (first, then) · dashed ○: placed with (colocation) · double gold border: Promoted · red: failed";
  L.push(`  graph [compound=true, label=<${html(g.title)}<br/><font point-size="9" color="#555555">${html(legend)}</font>>, labelloc=t, fontname="Helvetica", fontsize=16, rankdir=TB, newrank=true, nodesep=0.35, ranksep=0.55, pad=0.3];`);
  L.push('  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, fillcolor="#ffffff", color="#555555", margin="0.15,0.06"];');
  L.push('  edge [fontname="Helvetica", fontsize=9, color="#444444"];');
  const frames = [...g.nodes.map((n) => ({ name: n.name, label: n.label })), { name: STOPPED, label: "not running" }];
  // a group's members on one node sit in a dashed sub-frame; constraints naming the group end at it
  const groupFrame = new Map<string, string>();
  const boxLine = (b: Box, indent: string) => {
    const attrs: string[] = [];
    const stateLine = b.failed ? `${b.role} FAILED` : b.role;
    const agent = b.rsc.agent.startsWith("ocf:") ? b.rsc.agent.slice(4) : b.rsc.agent;
    attrs.push(`label=${q(`${b.rsc.id}\n${agent}\n${stateLine}`)}`);
    if (b.role === "Promoted") attrs.push('peripheries=2, penwidth=2, fillcolor="#ffe08a", color="#b8860b"');
    else if (b.role === "Unpromoted") attrs.push('fillcolor="#dbe9f7"');
    else if (b.role === "Started") attrs.push('fillcolor="#d9f2d9"');
    else attrs.push('fillcolor="#eeeeee", style="rounded,filled,dashed"');
    if (b.failed) attrs.push('color="#cc0000", penwidth=2.5, fillcolor="#f7c6c6"');
    const tip = `${b.rsc.id} (${b.rsc.agent})${b.rsc.clone ? ` in ${b.rsc.promotable ? "promotable " : ""}clone ${b.rsc.clone}` : ""}${b.rsc.group ? ` in group ${b.rsc.group}` : ""}`;
    attrs.push(`tooltip=${q(tip)}`);
    L.push(`${indent}${q(b.key)} [${attrs.join(", ")}];`);
  };
  frames.forEach((f, i) => {
    const inside = boxes.filter((b) => b.node === f.name);
    if (f.name === STOPPED && !inside.length) return;
    L.push(`  subgraph cluster_${i} {`);
    L.push(`    label=${q(f.label)}; style="rounded${f.name === STOPPED ? ",dashed" : ""}"; color="#888888"; fontname="Helvetica"; fontsize=13;`);
    if (!inside.length) L.push(`    ${q(`empty#${i}`)} [label="nothing running", shape=plaintext, style="", fontcolor="#888888"];`);
    const groups = [...new Set(inside.map((b) => b.rsc.group).filter((x): x is string => !!x))];
    for (const b of inside) if (!b.rsc.group) boxLine(b, "    ");
    groups.forEach((grp, j) => {
      const name = `cluster_${i}_${j}`;
      groupFrame.set(`${f.name}|${grp}`, name);
      L.push(`    subgraph ${name} {`);
      L.push(`      label=${q(`group ${grp}`)}; style="rounded,dashed"; color="#aaaaaa"; fontsize=10;`);
      for (const b of inside) if (b.rsc.group === grp) boxLine(b, "      ");
      L.push("    }");
    });
    L.push("  }");
  });
  /**
   * The boxes a constraint end attaches to. A group id means the whole group: its first member
   * (last one for the "first" side of an order: the group has started when its last member has),
   * with the edge clipped at the group's frame.
   */
  const ends = (id: string, side: "head" | "tail"): Array<Box & { frame?: string }> => {
    const ms = members(g.cfg, id);
    const grp = ms.length > 1 && ms.every((r) => r.group && r.group === ms[0]!.group) ? ms[0]!.group! : undefined;
    const pickIds = new Set((grp ? [side === "tail" ? ms[ms.length - 1]! : ms[0]!] : ms).map((r) => r.id));
    return boxes.filter((b) => pickIds.has(b.rsc.id)).map((b) => ({ ...b, frame: grp ? groupFrame.get(`${b.node}|${grp}`) : undefined }));
  };
  const boxesOf = (id: string) => {
    const ids = new Set(members(g.cfg, id).map((r) => r.id));
    return boxes.filter((b) => ids.has(b.rsc.id));
  };
  const seen = new Set<string>();
  const edge = (a: Box & { frame?: string }, b: Box & { frame?: string }, attrs: string) => {
    const k = `${a.key}->${b.key}:${attrs}`;
    if (a.key === b.key || seen.has(k)) return;
    seen.add(k);
    const clip = [a.frame ? `ltail=${a.frame}` : "", b.frame ? `lhead=${b.frame}` : ""].filter(Boolean).join(", ");
    L.push(`  ${q(a.key)} -> ${q(b.key)} [${attrs}${clip ? `, ${clip}` : ""}];`);
  };
  for (const c of g.cfg.constraints) {
    if (c.kind === "order") {
      const label = c.firstAction === c.thenAction ? c.firstAction : `${c.firstAction} \u2192 ${c.thenAction}`;
      const optional = c.strength !== "Mandatory";
      for (const [a, b] of pairs(pick(ends(c.first, "tail"), c.firstAction), pick(ends(c.then, "head"), c.thenAction)))
        edge(a, b, `label=${q(optional ? `${label} (${c.strength.toLowerCase()})` : label)}${optional ? ', color="#999999"' : ""}`);
    } else {
      const label = `with${c.withRole !== "Started" ? ` ${c.withRole}` : ""}${c.score !== "INFINITY" ? ` (${c.score})` : ""}`;
      for (const [a, b] of pairs(pick(ends(c.with, "head"), c.withRole), pick(ends(c.rsc, "head"), c.rscRole)))
        edge(b, a, `style=dashed, arrowhead=odot, constraint=false, color="#1f5fa8", fontcolor="#1f5fa8", label=${q(label)}`);
    }
  }
  // group members start in order
  const groups = [...new Set(g.cfg.resources.map((r) => r.group).filter((x): x is string => !!x))];
  for (const grp of groups) {
    const ms = g.cfg.resources.filter((r) => r.group === grp);
    for (let i = 1; i < ms.length; i++) for (const [a, b] of pairs(boxesOf(ms[i - 1]!.id), boxesOf(ms[i]!.id))) edge(a, b, 'color="#777777"');
  }
  L.push("}");
  return `${L.join("\n")}\n`;
}

export class GraphError extends Error {}

/** Write the picture; the format follows the extension (.svg .png .pdf; .dot/.gv = the DOT source). */
export function writeGraph(dot: string, file: string, dotBin = "dot"): void {
  const ext = (/\.([a-z]+)$/i.exec(file)?.[1] ?? "svg").toLowerCase();
  if (ext === "dot" || ext === "gv") {
    writeFileSync(file, dot);
    return;
  }
  if (!["svg", "png", "pdf"].includes(ext)) throw new GraphError(`--graph ${file}: use a .svg, .png, .pdf or .dot file name`);
  const r = spawnSync(dotBin, [`-T${ext}`, "-o", file], { input: dot, encoding: "utf8", timeout: 60_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") throw new GraphError("Graphviz is not installed (apt-get install graphviz): `dot` lays out the picture");
  if (r.status !== 0) throw new GraphError(`dot -T${ext} failed: ${(r.stderr || r.error?.message || "").trim()}`);
}

/** The predicted layout of a plan on two nodes: clones on both, the Promoted instance and everything else on the first. */
export function planPlacement(r: Rsc): Placed[] {
  if (r.clone && r.promotable) return [{ node: "node 1", role: "Promoted" }, { node: "node 2", role: "Unpromoted" }];
  if (r.clone) return [{ node: "node 1", role: "Started" }, { node: "node 2", role: "Started" }];
  return [{ node: "node 1", role: "Started" }];
}

export const PLAN_NODES = [
  { name: "node 1", label: "node 1" },
  { name: "node 2", label: "node 2" },
];

/** `tsstor stack ... --graph FILE`: the plan as it would run on two nodes. */
export function planDot(plan: { stack: string; commands: string[][] }): string {
  return toDot({ title: `tsstor stack ${plan.stack}: as placed on two nodes`, nodes: PLAN_NODES, cfg: planConfig(plan.commands), placement: planPlacement });
}
