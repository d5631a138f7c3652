// The action runner: turns a declaration plus handlers into an OCF resource agent.
//
// Order of work for every action but meta-data/usage: parse the environment, parse and check
// parameters, level-0 validation, then the handler, all inside one time budget. Handlers return
// an OCF code (or nothing for success) and throw OcfError to fail with a reason.

import { readFileSync, writeSync } from "node:fs";
import type { AgentDecl, ActionName, ParamDecl, Params } from "./declaration.js";
import { Budget } from "./budget.js";
import { effectiveLevel, isProbe, parseEnv, speaks11, type Env, type OcfEnv } from "./env.js";
import { withLock } from "../system/lock.js";
import { Logger } from "./log.js";
import type { Dialect } from "./metadata.js";
import { OCF, OcfError, isOcfCode, ocfName, type OcfCode } from "./codes.js";
import { formatErrors, parseParams } from "./params.js";
import { PromotionScore } from "../cluster/promotion.js";
import { Runner } from "../system/run.js";

export interface Ctx<P extends Record<string, ParamDecl>> {
  readonly action: ActionName;
  readonly params: Params<P>;
  /** parameters set explicitly rather than defaulted */
  readonly given: ReadonlySet<keyof P & string>;
  readonly env: OcfEnv;
  /** monitor with interval 0 */
  readonly probe: boolean;
  /** effective OCF_CHECK_LEVEL for monitor and validate-all (after fallback); 0 otherwise */
  readonly level: number;
  readonly budget: Budget;
  readonly log: Logger;
  readonly run: Runner;
  /** CRM_meta_on_node, else the kernel hostname */
  readonly nodeName: string;
  /** A per-node lock in HA_RSCTMP held while fn runs, waiting at most the budget. */
  lock<T>(name: string, fn: () => T): T;
  /** This instance's promotion score (crm_attribute --promotion). */
  readonly promotion: PromotionScore;
  /**
   * Run this same action again under a wrapper (e.g. `ip netns exec NS`), with `env` merged
   * over ours; its stdout/stderr pass through and its exit code is returned.
   */
  reexec(wrapper: string[], env: Record<string, string>): number;
}

/**
 * What a domain procedure in lib/ uses of an action's context: the tools, not the parameters (an
 * agent's handler passes it the values it needs).
 */
export type ActionTools = Pick<Ctx<Record<string, ParamDecl>>, "action" | "env" | "probe" | "budget" | "log" | "run" | "lock">;

type Result = number | void;
export type Handler<P extends Record<string, ParamDecl>> = (ctx: Ctx<P>) => Result;

export interface Handlers<P extends Record<string, ParamDecl>> {
  start: Handler<P>;
  stop: Handler<P>;
  monitor: Handler<P>;
  /**
   * Checks beyond single-parameter types. Runs at level 0 before every action (must then touch
   * nothing on the system) and at the asked level for validate-all. Throw OcfError to fail.
   */
  validate?: Handler<P>;
  promote?: Handler<P>;
  demote?: Handler<P>;
  notify?: Handler<P>;
  reload?: Handler<P>;
  "reload-agent"?: Handler<P>;
  migrate_to?: Handler<P>;
  migrate_from?: Handler<P>;
  /**
   * The code for an action whose parameters are invalid. Default: stop 0 (nothing can have
   * been started with these parameters, and a failed stop gets the node fenced), else 6.
   */
  invalidParamsCode?: (action: ActionName, probe: boolean) => OcfCode;
}

export interface Agent<P extends Record<string, ParamDecl> = Record<string, ParamDecl>> {
  decl: AgentDecl<P>;
  handlers: Handlers<P>;
}

export function defineHandlers<P extends Record<string, ParamDecl>>(decl: AgentDecl<P>, handlers: Handlers<P>): Agent<P> {
  return { decl, handlers };
}

function usage(decl: AgentDecl): string {
  const names = ["meta-data", ...decl.actions.map((a) => a.name).filter((n) => n !== "meta-data")];
  return `usage: ${decl.name} {${[...new Set(names)].join("|")}}\n`;
}

function kernelHostname(): string {
  try {
    return readFileSync("/proc/sys/kernel/hostname", "utf8").trim();
  } catch {
    return "localhost";
  }
}

export interface RunOutcome {
  code: number;
  stdout: string;
}

/**
 * Run one action. `out`/`err` default to the process's fds; tests pass collectors.
 * Returns the exit code (the caller exits with it).
 */
export interface RunActionOpts {
  out?: (s: string) => void;
  err?: (s: string) => void;
  /** how to start this agent again: [path, ...args before the action] */
  self?: string[];
  /** the metadata document, rendered at build time (the agents binary does not load the XML library) */
  metadata?: (dialect: Dialect) => string;
}

export function runAction<P extends Record<string, ParamDecl>>(agent: Agent<P>, actionArg: string | undefined, rawEnv: Env, o: RunActionOpts = {}): number {
  const out = o.out ?? ((s: string) => writeSync(1, s));
  const err = o.err;
  const self = o.self ?? [];
  const { decl, handlers } = agent;
  const env = parseEnv(rawEnv);
  const log = new Logger(decl.name, env.instance, env.trace, err);

  if (actionArg === "meta-data") {
    if (!o.metadata) {
      log.exitReason(env.exitReasonPrefix, "metadata was not built into this binary");
      return OCF.ERR_GENERIC;
    }
    out(o.metadata(speaks11(env) ? "1.1" : "1.0"));
    return OCF.SUCCESS;
  }
  if (actionArg === "usage" || actionArg === "help") {
    out(usage(decl as AgentDecl));
    return OCF.SUCCESS;
  }
  const declared = decl.actions.find((a) => a.name === actionArg);
  const action = actionArg as ActionName;
  const handler = declared ? (action === "validate-all" ? (handlers.validate ?? (() => undefined)) : handlers[action as keyof Handlers<P>]) : undefined;
  if (!declared || typeof handler !== "function") {
    (err ?? ((s: string) => writeSync(2, s)))(usage(decl as AgentDecl));
    log.exitReason(env.exitReasonPrefix, `unsupported action ${JSON.stringify(actionArg ?? "")}`);
    return OCF.ERR_UNIMPLEMENTED;
  }

  // Secrets first, so nothing below can log them.
  for (const [name, d] of Object.entries(decl.params)) {
    const v = env.reskeys[name];
    if (d.secret && v) log.addSecret(v);
  }

  const probe = isProbe(action, env.meta);
  const level =
    action === "monitor" ? effectiveLevel(env.checkLevel, decl.monitorDepths ?? [0]) : action === "validate-all" ? effectiveLevel(env.checkLevel, [0, 10]) : 0;
  const budget = Budget.fromMeta(env.meta.timeout, declared.timeout);
  const runner = new Runner(budget, log, rawEnv as Record<string, string | undefined>);
  const parsed = parseParams(decl, env.reskeys);
  if (parsed.unknown.length) log.debug(`ignoring unknown parameters: ${parsed.unknown.join(", ")}`);

  const nodeName = env.meta.onNode ?? kernelHostname();
  const ctx: Ctx<P> = {
    action,
    params: parsed.values,
    given: parsed.given,
    env,
    probe,
    level,
    budget,
    log,
    run: runner,
    nodeName,
    lock: (name, fn) =>
      withLock({ dir: env.rscTmp, name, budget, onWait: (h) => log.info(`waiting for lock ${name} (held by ${h})`) }, fn),
    promotion: new PromotionScore({ runner, instance: env.instance, node: env.meta.onNode, rscTmp: env.rscTmp }),
    reexec: (wrapper, extra) => {
      if (!self.length) throw new OcfError(OCF.ERR_GENERIC, "cannot re-run the agent: its own path is unknown");
      const [cmd, ...args] = [...wrapper, ...self, action];
      const r = runner.run(cmd!, args, { env: extra });
      out(r.stdout);
      (err ?? ((s: string) => writeSync(2, s)))(r.stderr);
      if (r.missing) throw new OcfError(OCF.ERR_INSTALLED, `${cmd} not found`);
      if (r.timedOut) throw new OcfError(OCF.ERR_GENERIC, `${action} under ${wrapper.join(" ")} timed out`);
      return r.code;
    },
  };

  const invalidCode = (): OcfCode =>
    handlers.invalidParamsCode?.(action, probe) ?? (action === "stop" ? OCF.SUCCESS : OCF.ERR_CONFIGURED);

  const finish = (code: number, reason?: string): number => {
    const c = isOcfCode(code) ? code : OCF.ERR_GENERIC;
    log.debug(`${action} -> ${ocfName(c)} in ${budget.elapsedMs().toFixed(1)} ms`);
    if (reason) log.exitReason(env.exitReasonPrefix, reason); // the reason is the last line
    return c;
  };

  try {
    if (parsed.errors.length) {
      const code = invalidCode();
      if (code === OCF.SUCCESS) log.warn(`${formatErrors(parsed.errors)}; nothing can have been started with these parameters`);
      return finish(code, formatErrors(parsed.errors));
    }
    if (action !== "validate-all" && handlers.validate) {
      try {
        handlers.validate({ ...ctx, level: 0 } as Ctx<P>);
      } catch (e) {
        if (e instanceof OcfError && e.code === OCF.ERR_CONFIGURED) return finish(invalidCode(), e.message);
        throw e;
      }
    }
    const r = (handler as Handler<P>)(ctx);
    return finish(typeof r === "number" ? r : OCF.SUCCESS);
  } catch (e) {
    if (e instanceof OcfError) return finish(e.code, e.message);
    const msg = e instanceof Error ? e.message : String(e);
    log.error(`internal error in ${action}: ${e instanceof Error && e.stack ? e.stack : msg}`);
    return finish(OCF.ERR_GENERIC, `internal error in ${action}: ${msg}`);
  }
}
