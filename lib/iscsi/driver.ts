// What both iSCSI agents do around their implementation: pick it (configured, else the installed
// one), map it to the module that drives it, check its tool at validate-all level 10, and turn a
// Check into a monitor answer.
import { chooseImplementation, type Implementation } from "./syntax.js";
import type { Check } from "./spec.js";
import * as lio from "./lio.js";
import * as tgt from "./tgt.js";
import { OCF, fail } from "../ocf/codes.js";
import type { Runner } from "../system/run.js";

export type Driver = typeof lio | typeof tgt;

interface ImplCtx {
  readonly params: { readonly implementation: string };
  readonly run: Runner;
}

const NONE = "no iSCSI target implementation found (neither targetcli nor tgtadm)";

/** The implementation to drive, or undefined when none is installed (auto-detection). */
export function detect(ctx: ImplCtx): Implementation | undefined {
  return chooseImplementation(ctx.params.implementation, (c) => ctx.run.which(c));
}

export const driver = (i: Implementation): Driver => (i === "tgt" ? tgt : lio);

/** For actions that change something: the implementation and its driver, else exit 5. */
export function required(ctx: ImplCtx): { impl: Implementation; m: Driver } {
  const impl = detect(ctx);
  if (impl === undefined) throw fail.installed(NONE);
  return { impl, m: driver(impl) };
}

/** validate-all level 10: the implementation's tool is installed. */
export function checkInstalled(ctx: ImplCtx): void {
  const found = detect(ctx);
  if (!found) throw fail.installed(NONE);
  const tool = found === "tgt" ? "tgtadm" : "targetcli";
  if (!ctx.run.which(tool)) throw fail.installed(`${tool} not found`);
}

/**
 * A monitor's implementation, or undefined when nothing can be running here (no implementation,
 * or tgt chosen and tgtadm missing): the monitor answers 7 then.
 */
export function monitored(ctx: ImplCtx): { impl: Implementation; m: Driver } | undefined {
  const impl = detect(ctx);
  if (impl === undefined) return undefined;
  if (impl === "tgt" && !ctx.run.which("tgtadm")) return undefined;
  return { impl, m: driver(impl) };
}

export function monitorCode(c: Check): number {
  if (c.absent) return OCF.NOT_RUNNING;
  if (c.problems.length) throw fail.generic(c.problems.join("; "));
  return OCF.SUCCESS;
}
