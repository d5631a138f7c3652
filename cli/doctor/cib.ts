// The parts of a Pacemaker CIB the doctor reads: cluster properties, nodes, and resources with
// their parameters and meta attributes (clones, promotable clones, groups; Pacemaker 1.1's
// <master> counts as a promotable clone). Rule-bearing attribute sets are skipped: the doctor
// reports the unconditional configuration.
import { XMLParser, XMLValidator } from "fast-xml-parser";

type X = Record<string, any>;

export interface Primitive {
  id: string;
  class: string;
  provider?: string;
  type: string;
  params: Record<string, string>;
  meta: Record<string, string>;
  /** id of the first instance_attributes set (for edits that keep it) */
  paramsSetId?: string;
  group?: Group;
  clone?: Clone;
}

export interface Group {
  id: string;
  meta: Record<string, string>;
  members: Primitive[];
  clone?: Clone;
}

export interface Clone {
  id: string;
  /** "master": a Pacemaker 1.1 <master> element */
  element: "clone" | "master";
  meta: Record<string, string>;
  promotable: boolean;
  primitives: Primitive[];
}

export interface Cib {
  properties: Record<string, string>;
  rscDefaults: Record<string, string>;
  nodes: string[];
  primitives: Primitive[];
  clones: Clone[];
  groups: Group[];
  /** name of the CIB's schema (validate-with), for messages */
  schema?: string;
}

export class CibError extends Error {}

const LISTS = new Set(["primitive", "group", "clone", "master", "bundle", "nvpair", "meta_attributes", "instance_attributes", "cluster_property_set", "node", "op"]);
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", isArray: (n) => LISTS.has(n), parseAttributeValue: false });

/** Pacemaker's crm_is_true(). */
export const isTrue = (v: string | undefined): boolean => v !== undefined && ["true", "on", "yes", "y", "1"].includes(v.toLowerCase());

export function agentOf(p: Primitive): string {
  return p.provider ? `${p.class}:${p.provider}:${p.type}` : `${p.class}:${p.type}`;
}

/** The clone a primitive belongs to, directly or through its group. */
export function cloneOf(p: Primitive): Clone | undefined {
  return p.clone ?? p.group?.clone;
}

export function parseCib(xml: string): Cib {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new CibError(`not XML: ${valid.err.msg} (line ${valid.err.line})`);
  let doc: X;
  try {
    doc = parser.parse(xml) as X;
  } catch (e) {
    throw new CibError(`not XML: ${(e as Error).message}`);
  }
  const cib = doc.cib as X | undefined;
  if (!cib || typeof cib !== "object") throw new CibError("no <cib> element");
  const conf = (cib.configuration ?? {}) as X;

  // id-ref support: attribute sets and nvpairs may point at others by id
  const byId = new Map<string, X>();
  const index = (o: unknown) => {
    if (Array.isArray(o)) o.forEach(index);
    else if (o && typeof o === "object") {
      const x = o as X;
      if (typeof x.id === "string") byId.set(x.id, x);
      for (const v of Object.values(x)) if (typeof v === "object") index(v);
    }
  };
  index(conf);
  const deref = (x: X): X => (typeof x["id-ref"] === "string" ? (byId.get(x["id-ref"]) ?? {}) : x);

  /** nvpairs of the rule-less sets, first value wins (Pacemaker's order for equal scores) */
  const attrs = (sets: X[] | undefined): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const s0 of sets ?? []) {
      const s = deref(s0);
      if (s.rule) continue;
      for (const nv0 of (s.nvpair ?? []) as X[]) {
        const nv = deref(nv0);
        if (typeof nv.name === "string" && !(nv.name in out)) out[nv.name] = String(nv.value ?? "");
      }
    }
    return out;
  };

  const out: Cib = {
    properties: attrs((conf.crm_config ?? {}).cluster_property_set),
    rscDefaults: attrs((conf.rsc_defaults ?? {}).meta_attributes),
    nodes: (((conf.nodes ?? {}).node ?? []) as X[]).filter((n) => !n.type || n.type === "member" || n.type === "normal").map((n) => String(n.uname ?? n.id)),
    primitives: [],
    clones: [],
    groups: [],
    schema: typeof cib["validate-with"] === "string" ? cib["validate-with"] : undefined,
  };

  const primitive = (x: X): Primitive => {
    const sets = (x.instance_attributes ?? []) as X[];
    const p: Primitive = {
      id: String(x.id),
      class: String(x.class ?? ""),
      provider: x.provider === undefined ? undefined : String(x.provider),
      type: String(x.type ?? ""),
      params: attrs(sets),
      meta: attrs(x.meta_attributes),
      paramsSetId: sets.find((s) => typeof s.id === "string" && !s.rule)?.id,
    };
    out.primitives.push(p);
    return p;
  };
  const group = (x: X): Group => {
    const g: Group = { id: String(x.id), meta: attrs(x.meta_attributes), members: [] };
    for (const px of (x.primitive ?? []) as X[]) {
      const p = primitive(px);
      p.group = g;
      g.members.push(p);
    }
    out.groups.push(g);
    return g;
  };
  const clone = (x: X, element: "clone" | "master") => {
    const meta = attrs(x.meta_attributes);
    const c: Clone = { id: String(x.id), element, meta, promotable: element === "master" || isTrue(meta.promotable), primitives: [] };
    for (const px of (x.primitive ?? []) as X[]) {
      const p = primitive(px);
      p.clone = c;
      c.primitives.push(p);
    }
    for (const gx of (x.group ?? []) as X[]) {
      const g = group(gx);
      g.clone = c;
      c.primitives.push(...g.members);
    }
    out.clones.push(c);
  };
  const res = (conf.resources ?? {}) as X;
  for (const x of (res.primitive ?? []) as X[]) primitive(x);
  for (const x of (res.group ?? []) as X[]) group(x);
  for (const x of (res.clone ?? []) as X[]) clone(x, "clone");
  for (const x of (res.master ?? []) as X[]) clone(x, "master");
  for (const b of (res.bundle ?? []) as X[]) for (const x of (b.primitive ?? []) as X[]) primitive(x);
  // the parser groups elements by tag: restore document order (reports follow the configuration)
  const pos = (id: string) => xml.search(new RegExp(`<primitive\\b[^>]*\\bid="${id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"`));
  const at = new Map(out.primitives.map((p) => [p, pos(p.id)]));
  out.primitives.sort((a, b) => at.get(a)! - at.get(b)!);
  return out;
}

/** A clone's meta attribute with the rsc_defaults fallback and Pacemaker 1.1's master-* names. */
export function cloneMeta(cib: Cib, c: Clone, name: string): string | undefined {
  const legacy: Record<string, string> = { "promoted-max": "master-max", "promoted-node-max": "master-node-max" };
  const l = legacy[name];
  return c.meta[name] ?? (l ? c.meta[l] : undefined) ?? cib.rscDefaults[name] ?? (l ? cib.rscDefaults[l] : undefined);
}

/** Number of clone instances Pacemaker runs: clone-max, default the number of nodes. */
export function cloneMax(cib: Cib, c: Clone, nodeCount: number): number {
  const v = cloneMeta(cib, c, "clone-max");
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : nodeCount;
}
