// The one declaration per agent: metadata, parameter parsing and dispatch all come from it.

export type ParamType = "string" | "integer" | "boolean" | "select";

interface ParamCommon {
  shortdesc: string;
  longdesc: string;
  required?: boolean;
  /** OCF 1.1 unique-group; `unique="1"` is emitted beside it for 1.0 readers. */
  uniqueGroup?: string;
  /** Changing it calls reload-agent instead of a restart. */
  reloadable?: boolean;
  deprecated?: { replacedWith?: string[]; desc?: string };
  /** Never in argv, logs, traces or exit reasons. */
  secret?: boolean;
}

export interface StringParam extends ParamCommon {
  type: "string";
  default?: string;
  /** Returns an error message (without the parameter name) or undefined. */
  validate?: (v: string) => string | undefined;
}
export interface IntegerParam extends ParamCommon {
  type: "integer";
  default?: number;
  min?: number;
  max?: number;
  validate?: (v: number) => string | undefined;
}
export interface BooleanParam extends ParamCommon {
  type: "boolean";
  default?: boolean;
}
export interface SelectParam<O extends string = string> extends ParamCommon {
  type: "select";
  options: readonly O[];
  default?: O;
  /** Accept these spellings too and map them (e.g. upstream aliases). */
  aliases?: Record<string, O>;
}

export type ParamDecl = StringParam | IntegerParam | BooleanParam | SelectParam<string>;

export type ActionName =
  | "start"
  | "stop"
  | "monitor"
  | "promote"
  | "demote"
  | "notify"
  | "reload"
  | "reload-agent"
  | "validate-all"
  | "meta-data"
  | "migrate_to"
  | "migrate_from";

export interface ActionDecl {
  name: ActionName;
  /** seconds */
  timeout: number;
  /** seconds */
  interval?: number;
  depth?: number;
  role?: "Promoted" | "Unpromoted";
}

/**
 * The action list of a plain (not promotable) agent, in the order the metadata lists them: start,
 * stop, monitor (depth 0), reload-agent when it is reloadable, validate-all, meta-data.
 */
export function plainActions(o: { start: number; stop: number; monitor: { timeout: number; interval: number }; reloadAgent?: number; validate: number; metaData: number }): ActionDecl[] {
  return [
    { name: "start", timeout: o.start },
    { name: "stop", timeout: o.stop },
    { name: "monitor", timeout: o.monitor.timeout, interval: o.monitor.interval, depth: 0 },
    ...(o.reloadAgent !== undefined ? [{ name: "reload-agent" as const, timeout: o.reloadAgent }] : []),
    { name: "validate-all", timeout: o.validate },
    { name: "meta-data", timeout: o.metaData },
  ];
}

export interface AgentDecl<P extends Record<string, ParamDecl> = Record<string, ParamDecl>> {
  name: string;
  version: string;
  shortdesc: string;
  longdesc: string;
  params: P;
  actions: ActionDecl[];
  /** OCF_CHECK_LEVEL values monitor understands (default [0]). */
  monitorDepths?: number[];
  /** pcs commands for the man page's EXAMPLES */
  examples?: string[];
}

// ---- typed parameter values ---------------------------------------------------------------

type HasDefault<D> = D extends { default: unknown } ? true : false;

export type ParamValue<D extends ParamDecl> = D extends SelectParam<infer O>
  ? HasDefault<D> extends true
    ? O
    : O | ""
  : D extends IntegerParam
    ? HasDefault<D> extends true
      ? number
      : D extends { required: true }
        ? number
        : number | undefined
    : D extends BooleanParam
      ? boolean
      : string;

export type Params<P extends Record<string, ParamDecl>> = { readonly [K in keyof P]: ParamValue<P[K]> };

// Helpers keep literal types (select options, presence of default) for ParamValue.
export const p = {
  string<D extends Omit<StringParam, "type">>(d: D): D & { type: "string" } {
    return { ...d, type: "string" };
  },
  integer<D extends Omit<IntegerParam, "type">>(d: D): D & { type: "integer" } {
    return { ...d, type: "integer" };
  },
  boolean<D extends Omit<BooleanParam, "type">>(d: D): D & { type: "boolean" } {
    return { ...d, type: "boolean" };
  },
  select<const O extends string, D extends Omit<SelectParam<O>, "type" | "options">>(
    options: readonly O[],
    d: D,
  ): D & { type: "select"; options: readonly O[] } {
    return { ...d, type: "select", options };
  },
};

export function defineAgent<P extends Record<string, ParamDecl>>(d: AgentDecl<P>): AgentDecl<P> {
  return d;
}

/** The default shown in metadata, in OCF spelling. */
export function defaultText(d: ParamDecl): string | undefined {
  if (d.default === undefined) return undefined;
  if (d.type === "boolean") return d.default ? "true" : "false";
  return String(d.default);
}
