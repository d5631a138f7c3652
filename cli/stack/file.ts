// A stack file (YAML) to a stack plan. Every key and type is checked against cli/stack/schema.ts
// with its line; the values then go through the same builders as the command line, and their
// problems are reported at the line of the key they name. Nothing runs unless all of it passes.
// YAML is read as plain data: no aliases, no tags, no duplicate keys, strings without control
// characters; the values only ever become pcs arguments (argv, never a shell).
import { readFileSync, statSync } from "node:fs";
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node, type Pair } from "yaml";
import { InvalidOptions, type Plan } from "../stacks.js";
import { failoverStack, type FailoverOptions } from "./failover.js";
import { bundledPlan, fencingOptions, type Args } from "./kinds.js";
import { FENCING, KINDS, SCHEMAS, type Field, type Kind, type Schema } from "./schema.js";

/** Problems in a stack file, each "FILE:LINE:COL: KEY: what is wrong". */
export class StackFileError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

export interface StackFile {
  path: string;
  text: string;
  kind: Kind;
  name: string;
  /** the checked values, keys as in the file */
  values: Record<string, unknown>;
  plan: Plan;
}

const MAX_BYTES = 1 << 20;

interface Ctx {
  file: string;
  lc: LineCounter;
  problems: string[];
  /** key path -> "LINE:COL" of the key (items: of the item) */
  at: Map<string, string>;
}

const where = (c: Ctx, n: { range?: [number, number, number] | null } | null | undefined) => {
  const r = n?.range;
  if (!r) return "1:1";
  const p = c.lc.linePos(r[0]);
  return `${p.line}:${p.col}`;
};
const fail = (c: Ctx, pos: string, path: string, msg: string): undefined => {
  c.problems.push(`${c.file}:${pos}: ${path ? `${path}: ` : ""}${msg}`);
  return undefined;
};
const kindOf = (n: unknown) => (isMap(n) ? "a map" : isSeq(n) ? "a list" : isScalar(n) ? (n.value === null ? "empty" : typeof n.value === "string" ? "a string" : `a ${typeof n.value}`) : "nothing");

/** A scalar's plain value, refusing what a stack file never needs. */
function scalar(c: Ctx, n: Node, path: string): unknown {
  if (n.tag) return fail(c, where(c, n), path, `YAML tags (${n.tag}) are not allowed`);
  if (!isScalar(n)) return fail(c, where(c, n), path, `must be a value, not ${kindOf(n)}`);
  if (typeof n.value === "string") {
    if (/[\x00-\x1f\x7f]/.test(n.value)) return fail(c, where(c, n), path, "control characters (newlines, tabs, escapes) are not allowed in a value");
    if (n.value.length > 4096) return fail(c, where(c, n), path, "longer than 4096 characters");
  }
  return n.value;
}

function value(c: Ctx, f: Field, n: Node | null | undefined, path: string): unknown {
  if (!n || (isScalar(n) && n.value === null && f.t !== "str")) return fail(c, where(c, n), path, "has no value");
  if (isAlias(n)) return fail(c, where(c, n), path, "YAML aliases (*name) are not allowed: write the value out");
  if (n.tag && !isScalar(n)) return fail(c, where(c, n), path, `YAML tags (${n.tag}) are not allowed`);
  switch (f.t) {
    case "str": {
      const v = scalar(c, n, path);
      if (v === undefined) return undefined;
      if (typeof v !== "string") return fail(c, where(c, n), path, `must be a string, not ${kindOf(n)}${v === null ? "" : ` (quote it: "${String(v)}")`}`);
      if (f.enum && !f.enum.includes(v)) return fail(c, where(c, n), path, `"${v}" is not one of ${f.enum.join(", ")}`);
      return v;
    }
    case "int": {
      const v = scalar(c, n, path);
      if (v === undefined) return undefined;
      if (typeof v !== "number" || !Number.isInteger(v)) return fail(c, where(c, n), path, `must be a whole number, not ${kindOf(n)}`);
      if (v < f.min || v > f.max) return fail(c, where(c, n), path, `${v} is not ${f.min}-${f.max}`);
      return v;
    }
    case "bool": {
      const v = scalar(c, n, path);
      if (v === undefined) return undefined;
      if (typeof v !== "boolean") return fail(c, where(c, n), path, `must be true or false, not ${kindOf(n)}`);
      return v;
    }
    case "strs": {
      if (!isSeq(n)) return fail(c, where(c, n), path, `must be a list of strings, not ${kindOf(n)}`);
      const out: string[] = [];
      n.items.forEach((it, i) => {
        const v = value(c, { t: "str", doc: "" }, it as Node, `${path}[${i}]`);
        if (typeof v === "string") out.push(v);
      });
      return out;
    }
    case "dict": {
      if (!isMap(n)) return fail(c, where(c, n), path, `must be a map of NAME: VALUE, not ${kindOf(n)}`);
      const out: Record<string, string> = {};
      for (const p of n.items as Pair<Node, Node>[]) {
        const k = key(c, p, path);
        if (k === undefined) continue;
        const v = value(c, { t: "str", doc: "" }, p.value, `${path}.${k}`);
        if (typeof v === "string") out[k] = v;
      }
      return out;
    }
    case "list": {
      if (!isSeq(n)) return fail(c, where(c, n), path, `must be a list, not ${kindOf(n)}`);
      return n.items.map((it, i) => {
        c.at.set(`${path}[${i}]`, where(c, it as Node));
        return value(c, { t: "map", doc: "", keys: f.of }, it as Node, `${path}[${i}]`);
      });
    }
    case "map":
      return map(c, f.keys, n, path);
  }
}

function key(c: Ctx, p: Pair<Node, Node>, path: string): string | undefined {
  const k = p.key;
  if (!isScalar(k) || typeof k.value !== "string" || k.tag) {
    fail(c, where(c, k), path, "keys must be plain names");
    return undefined;
  }
  c.at.set(path ? `${path}.${k.value}` : k.value, where(c, k));
  return k.value;
}

function map(c: Ctx, s: Schema, n: Node, path: string): Record<string, unknown> | undefined {
  if (!isMap(n)) return fail(c, where(c, n), path, `must be a map of keys, not ${kindOf(n)}`);
  const out: Record<string, unknown> = {};
  for (const p of n.items as Pair<Node, Node>[]) {
    const k = key(c, p, path);
    if (k === undefined) continue;
    const sub = path ? `${path}.${k}` : k;
    const f = Object.hasOwn(s, k) ? s[k] : undefined;
    if (!f) {
      fail(c, where(c, p.key), sub, `unknown key (${path ? `${path} takes` : "known keys:"} ${Object.keys(s).join(", ")})`);
      continue;
    }
    const v = value(c, f, p.value, sub);
    if (v !== undefined) out[k] = v;
  }
  for (const [k, f] of Object.entries(s))
    if ("required" in f && f.required && !Object.hasOwn(out, k) && !n.items.some((p) => isScalar(p.key) && p.key.value === k)) fail(c, where(c, n), path, `${k} is required`);
  return out;
}

/**
 * A builder's problem begins with what it is about: a file key path ("targets[0].iqn: ...") or a
 * command-line flag ("--lun 1:/x: ..."). Report it at that key's line, named as in the file.
 */
function locate(c: Ctx, problem: string): string {
  const m = /^(--)?([A-Za-z][A-Za-z0-9_-]*(?:\[\d+\])?(?:\.[A-Za-z][A-Za-z0-9_-]*(?:\[\d+\])?)*)/.exec(problem);
  let path = m?.[2] ?? "";
  let rest = problem;
  if (m?.[1]) {
    // a flag: fencing flags live under fencing:, --prefix is the name, --fencing the method
    const flag = path;
    path = flag === "prefix" ? "name" : flag === "fencing" ? "fencing.method" : Object.hasOwn(FENCING, flag) ? `fencing.${flag}` : flag;
    rest = path + problem.slice(m[0].length);
  }
  for (let p = path; p; p = p.replace(/(\.[^.[\]]+|\[\d+\])$/, "") === p ? "" : p.replace(/(\.[^.[\]]+|\[\d+\])$/, "")) {
    const pos = c.at.get(p);
    if (pos) return `${c.file}:${pos}: ${rest}`;
  }
  return `${c.file}: ${rest}`;
}

const camel = (o: Record<string, unknown> | undefined): Record<string, any> =>
  Object.fromEntries(Object.entries(o ?? {}).map(([k, v]) => [k.replace(/-([a-z])/g, (_, x: string) => x.toUpperCase()), v]));

function failoverOptions(v: Record<string, any>): FailoverOptions {
  const items = (k: string) => ((v[k] ?? []) as Record<string, unknown>[]).filter(Boolean).map(camel);
  return {
    name: v.name,
    monitorInterval: v["monitor-interval"],
    lockType: v["lock-type"],
    drbd: items("drbd") as FailoverOptions["drbd"],
    lvm: items("lvm") as FailoverOptions["lvm"],
    filesystems: items("filesystems") as FailoverOptions["filesystems"],
    targets: items("targets").map((t) => ({
      ...t,
      luns: ((t.luns ?? []) as Record<string, unknown>[]).filter(Boolean).map(camel),
      chap: { user: t.chapUser, file: t.chapSecretFile },
      mutualChap: { user: t.mutualChapUser, file: t.mutualChapSecretFile },
    })) as FailoverOptions["targets"],
    ips: items("ips") as FailoverOptions["ips"],
    services: items("services") as FailoverOptions["services"],
  };
}

/** Parse and check stack file text; throws StackFileError with every problem found. */
export function parseStack(text: string, file: string): StackFile {
  const lc = new LineCounter();
  const c: Ctx = { file, lc, problems: [], at: new Map() };
  const doc: Document = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false, strict: true });
  for (const e of [...doc.errors, ...doc.warnings]) {
    const p = lc.linePos(e.pos[0]);
    c.problems.push(`${file}:${p.line}:${p.col}: ${e.message.split("\n")[0]}`);
  }
  if (c.problems.length) throw new StackFileError(c.problems);
  const root = doc.contents as Node | null;
  if (!root || !isMap(root)) throw new StackFileError([`${file}:1:1: a stack file is a map of keys (kind: ..., name: ..., fencing: ...)`]);
  const kindNode = root.items.find((p) => isScalar(p.key) && p.key.value === "kind");
  const kind = kindNode && isScalar(kindNode.value) ? kindNode.value.value : undefined;
  if (typeof kind !== "string" || !(KINDS as readonly string[]).includes(kind))
    throw new StackFileError([`${file}:${where(c, kindNode?.value ?? root)}: kind: ${kind === undefined ? "is required" : `"${String(kind)}" is not a stack kind`}: ${KINDS.join(", ")}`]);
  const values = map(c, SCHEMAS[kind as Kind], root, "") ?? {};
  if (c.problems.length) throw new StackFileError(c.problems);
  // the fencing: map holds the --fencing options; its method is --fencing itself
  const flat: Args = { ...values, ...(values.fencing as Args), fencing: (values.fencing as Args).method, prefix: values.name };
  let plan: Plan;
  try {
    plan = kind === "failover" ? failoverStack(failoverOptions(values), fencingOptions(flat)) : bundledPlan(kind as Exclude<Kind, "failover">, flat);
  } catch (e) {
    if (e instanceof InvalidOptions) throw new StackFileError(e.problems.map((p) => locate(c, p)));
    throw e;
  }
  return { path: file, text, kind: kind as Kind, name: String(values.name), values, plan };
}

export function loadStack(path: string): StackFile {
  let text: string;
  try {
    if (statSync(path).size > MAX_BYTES) throw new StackFileError([`${path}: larger than 1 MiB: not a stack file`]);
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (e instanceof StackFileError) throw e;
    throw new StackFileError([`${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`]);
  }
  return parseStack(text, path);
}
