// OCF_RESKEY_* values -> typed parameters, with type, range, enumeration and required checks.
// An empty value counts as unset (the default applies), as most heartbeat agents behave.

import type { AgentDecl, ParamDecl, Params } from "./declaration.js";
import { ocfIsFalse, ocfIsTrue } from "./env.js";

export interface ParamError {
  param: string;
  message: string;
}

export interface Parsed<P extends Record<string, ParamDecl>> {
  values: Params<P>;
  errors: ParamError[];
  /** OCF_RESKEY_ names the declaration does not know (logged, not fatal) */
  unknown: string[];
  /** parameters set explicitly (not from a default) */
  given: Set<keyof P & string>;
}

// Printable form of a user value inside a reason: bounded and one line.
export function shown(v: string): string {
  const one = JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}...` : v);
  return one;
}

/** A validator that throws is a bug, but the value is still refused with a reason naming the parameter. */
function safely<T>(check: ((v: T) => string | undefined) | undefined, v: T): string | undefined {
  try {
    return check?.(v);
  } catch (e) {
    return `could not be checked (internal error: ${e instanceof Error ? e.message : String(e)})`;
  }
}

function parseOne(name: string, d: ParamDecl, raw: string | undefined): { value: unknown; error?: string } {
  const set = raw !== undefined && raw !== "";
  if (!set) {
    if (d.required) return { value: undefined, error: "is required" };
    if (d.type === "boolean") return { value: d.default ?? false };
    if (d.type === "string") return { value: d.default ?? "" };
    if (d.type === "select") return { value: d.default ?? "" };
    return { value: d.default };
  }
  switch (d.type) {
    case "string": {
      const err = safely(d.validate, raw);
      return err ? { value: raw, error: err } : { value: raw };
    }
    case "integer": {
      if (!/^\s*[-+]?\d+\s*$/.test(raw)) return { value: undefined, error: `must be an integer, got ${shown(raw)}` };
      const n = Number(raw.trim());
      if (!Number.isSafeInteger(n)) return { value: undefined, error: `is out of range: ${shown(raw)}` };
      if (d.min !== undefined && n < d.min) return { value: n, error: `must be >= ${d.min}, got ${n}` };
      if (d.max !== undefined && n > d.max) return { value: n, error: `must be <= ${d.max}, got ${n}` };
      const err = safely(d.validate, n);
      return err ? { value: n, error: err } : { value: n };
    }
    case "boolean": {
      if (ocfIsTrue(raw)) return { value: true };
      if (ocfIsFalse(raw)) return { value: false };
      return { value: d.default ?? false, error: `must be a boolean (true/false, yes/no, 1/0, on/off), got ${shown(raw)}` };
    }
    case "select": {
      const v = d.options.includes(raw) ? raw : d.aliases?.[raw];
      if (v === undefined) return { value: d.default ?? "", error: `must be one of ${d.options.join(", ")}; got ${shown(raw)}` };
      return { value: v };
    }
  }
}

export function parseParams<P extends Record<string, ParamDecl>>(decl: AgentDecl<P>, reskeys: Record<string, string>): Parsed<P> {
  const values: Record<string, unknown> = {};
  const errors: ParamError[] = [];
  const given = new Set<keyof P & string>();
  for (const [name, d] of Object.entries(decl.params)) {
    const raw = reskeys[name];
    if (raw !== undefined && raw !== "") given.add(name as keyof P & string);
    const r = parseOne(name, d, raw);
    values[name] = r.value;
    if (r.error) errors.push({ param: name, message: r.error });
  }
  const unknown = Object.keys(reskeys).filter((k) => !(k in decl.params));
  return { values: values as Params<P>, errors, unknown, given };
}

export function formatErrors(errors: ParamError[]): string {
  return errors.map((e) => `parameter ${e.param} ${e.message}`).join("; ");
}
