// The configuration half of `tsstor status` and of the stack graphs: resources (with their
// clone/group and instance parameters) and the order/colocation constraints between them, read
// from the CIB (`cibadmin -Q`) or from a stack plan's pcs commands (before anything exists).
// crm_mon's XML has neither parameters nor constraints, so the CIB is read as well.
import { XMLParser } from "fast-xml-parser";

export interface Rsc {
  /** primitive id */
  id: string;
  /** ocf:tsstor:IPaddr2, systemd:nfs-server, stonith:fence_xvm */
  agent: string;
  params: Record<string, string>;
  /** enclosing clone id */
  clone?: string;
  promotable: boolean;
  /** enclosing group id */
  group?: string;
  /** the id constraints name it by: clone, else group, else its own */
  top: string;
}

export interface OrderConstraint {
  kind: "order";
  id: string;
  first: string;
  then: string;
  /** start, promote, demote, stop */
  firstAction: string;
  thenAction: string;
  /** Mandatory, Optional, Serialize */
  strength: string;
}

export interface ColocationConstraint {
  kind: "colocation";
  id: string;
  /** the dependent resource: placed relative to `with` */
  rsc: string;
  with: string;
  rscRole: string;
  withRole: string;
  score: string;
}

export type Constraint = OrderConstraint | ColocationConstraint;

export interface StackConfig {
  /** primitives in configuration order */
  resources: Rsc[];
  constraints: Constraint[];
  properties: Record<string, string>;
}

type X = Record<string, unknown>;
const LISTS = new Set(["primitive", "group", "clone", "master", "nvpair", "instance_attributes", "meta_attributes", "cluster_property_set", "rsc_order", "rsc_colocation", "resource_set", "resource_ref"]);
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", isArray: (n) => LISTS.has(n), parseAttributeValue: false });
const arr = (v: unknown): X[] => (Array.isArray(v) ? (v as X[]) : v === undefined || v === "" ? [] : [v as X]);
const str = (v: unknown) => (v === undefined ? "" : String(v));
const isTrue = (v: string | undefined) => v !== undefined && ["true", "on", "yes", "y", "1"].includes(v.toLowerCase());

/** nvpairs of the rule-less attribute sets, first value wins. */
function nvpairs(sets: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of arr(sets)) {
    if (s.rule) continue;
    for (const nv of arr(s.nvpair)) {
      const name = str(nv.name);
      if (name && !(name in out)) out[name] = str(nv.value);
    }
  }
  return out;
}

/** Normalise Pacemaker 1.1 role names to 2.1's. */
export function role(r: string | undefined): string {
  if (!r) return "Started";
  return r === "Master" ? "Promoted" : r === "Slave" ? "Unpromoted" : r;
}

export function parseCibConfig(xml: string): StackConfig {
  const doc = parser.parse(xml) as X;
  const cib = (doc.cib ?? {}) as X;
  const conf = (cib.configuration ?? {}) as X;
  const resources: Rsc[] = [];
  const primitive = (p: X, clone: string | undefined, promotable: boolean, group: string | undefined) => {
    const cls = str(p.class);
    const agent = p.provider ? `${cls}:${str(p.provider)}:${str(p.type)}` : `${cls}:${str(p.type)}`;
    resources.push({ id: str(p.id), agent, params: nvpairs(p.instance_attributes), clone, promotable, group, top: clone ?? group ?? str(p.id) });
  };
  const groupOf = (g: X, clone: string | undefined, promotable: boolean) => {
    for (const p of arr(g.primitive)) primitive(p, clone, promotable, str(g.id));
  };
  const res = (conf.resources ?? {}) as X;
  for (const p of arr(res.primitive)) primitive(p, undefined, false, undefined);
  for (const g of arr(res.group)) groupOf(g, undefined, false);
  for (const [el, legacy] of [["clone", false], ["master", true]] as const) {
    for (const c of arr(res[el])) {
      const promotable = legacy || isTrue(nvpairs(c.meta_attributes).promotable);
      for (const p of arr(c.primitive)) primitive(p, str(c.id), promotable, undefined);
      for (const g of arr(c.group)) groupOf(g, str(c.id), promotable);
    }
  }
  // keep the CIB's document order as far as the parser lets us: primitives, groups, clones
  const cons = (conf.constraints ?? {}) as X;
  const constraints: Constraint[] = [];
  for (const o of arr(cons.rsc_order)) {
    const kind = str(o.kind) || (o.score === "0" ? "Optional" : "Mandatory");
    const sets = arr(o.resource_set);
    if (!sets.length) {
      constraints.push({ kind: "order", id: str(o.id), first: str(o.first), then: str(o.then), firstAction: str(o["first-action"]) || "start", thenAction: str(o["then-action"]) || str(o["first-action"]) || "start", strength: kind });
      continue;
    }
    // ordered sets: each member after the previous one (sequential sets), each set after the previous set
    let prev: Array<{ id: string; action: string }> = [];
    for (const s of sets) {
      const members = arr(s.resource_ref).map((r) => ({ id: str(r.id), action: str(s.action) || "start" }));
      const sequential = s.sequential === undefined || isTrue(str(s.sequential));
      const chain = sequential ? members.map((m) => [m]) : [members];
      for (const step of chain) {
        for (const a of prev) for (const b of step) constraints.push({ kind: "order", id: str(o.id), first: a.id, then: b.id, firstAction: a.action, thenAction: b.action, strength: kind });
        prev = step;
      }
    }
  }
  for (const c of arr(cons.rsc_colocation)) {
    const sets = arr(c.resource_set);
    if (!sets.length) {
      constraints.push({ kind: "colocation", id: str(c.id), rsc: str(c.rsc), with: str(c["with-rsc"]), rscRole: role(str(c["rsc-role"]) || undefined), withRole: role(str(c["with-rsc-role"]) || undefined), score: str(c.score) || "INFINITY" });
      continue;
    }
    // colocated sets: each member placed with the previous one (Pacemaker: later sets depend on earlier)
    let prev: { id: string; role: string } | undefined;
    for (const s of sets) {
      for (const r of arr(s.resource_ref)) {
        const cur = { id: str(r.id), role: role(str(s.role) || undefined) };
        if (prev) constraints.push({ kind: "colocation", id: str(c.id), rsc: cur.id, with: prev.id, rscRole: cur.role, withRole: prev.role, score: str(c.score) || "INFINITY" });
        prev = cur;
      }
    }
  }
  return { resources, constraints, properties: nvpairs(((conf.crm_config ?? {}) as X).cluster_property_set) };
}

// ---- a stack plan's pcs commands, as the CIB they would produce --------------------------------

const ROLE_WORDS = new Set(["Promoted", "Unpromoted", "Started", "Stopped", "Master", "Slave"]);
const ACTIONS = new Set(["start", "stop", "promote", "demote"]);

/**
 * The resources and constraints of `pcs` argv lists as the stack builders write them
 * (`resource create ID AGENT k=v... [op ...] [promotable|clone]`, `resource group add G ID...`,
 * `constraint colocation add A with [ROLE] B [score=SCORE]`, `constraint order [ACTION] A then [ACTION] B [kind=K]`).
 * `resource meta` (the clones' meta attributes) changes nothing shown here.
 */
export function planConfig(commands: string[][]): StackConfig {
  const resources: Rsc[] = [];
  const constraints: Constraint[] = [];
  const properties: Record<string, string> = {};
  for (const c of commands) {
    if (c[0] === "resource" && c[1] === "create") {
      const id = c[2]!;
      const agent = c[3]!.split(":").length === 2 && !c[3]!.startsWith("systemd") && !c[3]!.startsWith("stonith") ? `ocf:${c[3]}` : c[3]!;
      const params: Record<string, string> = {};
      let clone: string | undefined;
      let promotable = false;
      let section = "params";
      for (let i = 4; i < c.length; i++) {
        const w = c[i]!;
        if (w === "op" || w === "meta") section = w;
        else if (w === "promotable" || w === "clone") {
          section = w;
          clone = `${id}-clone`;
          promotable = w === "promotable";
        } else if (section === "params") {
          const eq = w.indexOf("=");
          if (eq > 0) params[w.slice(0, eq)] = w.slice(eq + 1);
        }
      }
      resources.push({ id, agent, params, clone, promotable, top: clone ?? id });
    } else if (c[0] === "resource" && c[1] === "group" && c[2] === "add") {
      for (const r of resources) if (c.slice(4).includes(r.id)) Object.assign(r, { group: c[3], top: r.clone ?? c[3] });
    } else if (c[0] === "constraint" && c[1] === "colocation" && c[2] === "add") {
      const w = c.slice(3);
      let i = 0;
      const rscRole = ROLE_WORDS.has(w[i]!) ? role(w[i++]) : "Started";
      const rsc = w[i++]!;
      if (w[i] === "with") i++;
      const withRole = ROLE_WORDS.has(w[i]!) ? role(w[i++]) : "Started";
      const wth = w[i++]!;
      const score = w.slice(i).find((x) => x.startsWith("score="))?.slice(6) ?? "INFINITY";
      constraints.push({ kind: "colocation", id: `colocation-${rsc}-${wth}`, rsc, with: wth, rscRole, withRole, score });
    } else if (c[0] === "constraint" && c[1] === "order") {
      const w = c.slice(2);
      let i = 0;
      const firstAction = ACTIONS.has(w[i]!) ? w[i++]! : "start";
      const first = w[i++]!;
      if (w[i] === "then") i++;
      const thenAction = ACTIONS.has(w[i]!) ? w[i++]! : firstAction;
      const then = w[i++]!;
      const kind = w.slice(i).find((x) => x.startsWith("kind="))?.slice(5) ?? "Mandatory";
      constraints.push({ kind: "order", id: `order-${first}-${then}`, first, then, firstAction, thenAction, strength: kind });
    } else if (c[0] === "property" && c[1] === "set") {
      for (const kv of c.slice(2)) {
        const eq = kv.indexOf("=");
        if (eq > 0) properties[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
    }
  }
  // pcs names a group's clone after the group; the builders clone primitives only
  return { resources, constraints, properties };
}

/** Every id a constraint may name (clone, group, primitive) -> its primitives. */
export function members(cfg: StackConfig, id: string): Rsc[] {
  return cfg.resources.filter((r) => r.id === id || r.clone === id || r.group === id);
}
