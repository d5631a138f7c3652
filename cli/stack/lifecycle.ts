// A stack's life after it is created: apply a stack file again (idempotent: no change, no push),
// apply a changed one (the smallest change, shown first), delete a stack, add and remove LUNs.
// Every change is built on a copy of the CIB: the stack's own resources and constraints are taken
// out, its pcs commands put them back as the file says now, and the copy is compared with the
// original element by element. A change is checked (crm_verify: no new errors; crm_simulate: the
// actions it causes) and pushed as one patch (cib-push diff-against). The stack's resources are
// remembered in the CIB as the tag tsstor-NAME, so a delete or a removed LUN knows what was ours.
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { ApplyError, pcsEach, pushCib, readCib } from "../pcs.js";
import { lastLine, runTool } from "../run.js";
import { sleepMs } from "../../lib/system/sleep.js";
import type { Plan } from "../stacks.js";

export interface ChangeOpts {
  /** a CIB file instead of the live cluster */
  cib?: string;
  /** show the change, push nothing */
  dryRun?: boolean;
  log?: (line: string) => void;
}

export interface ChangeResult {
  /** one line per changed element; empty: nothing to change */
  changes: string[];
  /** crm_simulate's transition summary for the change */
  actions: string[];
  /** running resources that leave: stopped (with --dry-run: to be stopped) in a change of their own first */
  stoppedFirst: string[];
  pushed: boolean;
}

export const tagOf = (name: string) => `tsstor-${name}`;

function run(bin: string, args: string[], env: Record<string, string> = {}) {
  return runTool(bin, args, { timeoutMs: 300_000, env });
}

// ---- the CIB as comparable facts -------------------------------------------------------------

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", preserveOrder: true, allowBooleanAttributes: true });
type Ordered = Array<Record<string, any>>;

/**
 * The configuration section as facts "SECTION/TOP/.../tag#id@attr" -> value, plus the member
 * order of groups (start order) and resource sets. Keyed by ids, so the position of a top-level
 * element (a resource re-created at the end) is no change.
 */
export function configFacts(xml: string): Map<string, string> {
  const facts = new Map<string, string>();
  const doc = parser.parse(xml) as Ordered;
  const cib = doc.find((n) => "cib" in n)?.cib as Ordered | undefined;
  const conf = cib?.find((n) => "configuration" in n)?.configuration as Ordered | undefined;
  const walk = (nodes: Ordered, path: string) => {
    const kids: string[] = [];
    // elements without an id (operations, utilization) by tag, and by their rank among same-tag siblings
    const rank = new Map<string, number>();
    nodes.forEach((n) => {
      const tag = Object.keys(n).find((k) => k !== ":@");
      if (!tag || tag === "#text") return;
      const attrs = (n[":@"] ?? {}) as Record<string, string>;
      const r = rank.get(tag) ?? 0;
      if (attrs.id === undefined) rank.set(tag, r + 1);
      const name = attrs.id !== undefined ? `${tag}#${attrs.id}` : r ? `${tag}[${r}]` : tag;
      const p = `${path}/${name}`;
      kids.push(name);
      for (const [k, v] of Object.entries(attrs)) if (k !== "id") facts.set(`${p}@${k}`, String(v));
      // an element that is only its id (a tag's or a set's reference) is a fact by being there
      if (Object.keys(attrs).length === 1 && attrs.id !== undefined && !(n[tag] as Ordered).length) facts.set(`${p}@ref`, "");
      walk(n[tag] as Ordered, p);
    });
    // order means something only among a group's members (start order) and in a resource set
    if (kids.length > 1 && /\/(group|resource_set)#[^/]*$/.test(path)) facts.set(`${path}/#order`, kids.join(" "));
  };
  // per section: top-level ids as their own roots, so order among them never counts
  for (const sec of conf ?? []) {
    const tag = Object.keys(sec).find((k) => k !== ":@");
    if (!tag) continue;
    for (const top of sec[tag] as Ordered) {
      const t = Object.keys(top).find((k) => k !== ":@");
      if (!t) continue;
      const a = (top[":@"] ?? {}) as Record<string, string>;
      walk([top], `${tag}/${a.id ?? t}`.replace(/\/[^/]*$/, ""));
    }
  }
  return facts;
}

/**
 * What a fact belongs to, for a reviewer: the primitive it is part of ("resource X", wherever it
 * sits: alone, in a group, in a clone), else its top-level element ("group G", "rsc_order O").
 */
function unitOf(k: string): string {
  const segs = k.split("/").map((x) => x.replace(/@.*$/, ""));
  const prim = segs.find((x) => x.startsWith("primitive#"));
  if (prim) return `resource ${prim.slice("primitive#".length)}`;
  const [tag = "", id = ""] = (segs[1] ?? "").split("#");
  return `${tag} ${id}`.trim();
}

/** One changed fact, readably: a parameter by its name, child order as a member list. */
function detail(k: string, b: string | undefined, a: string | undefined, name: string | undefined): string | undefined {
  const list = (v: string | undefined) => (v === undefined ? "(none)" : v.replace(/\S+#/g, ""));
  if (k.endsWith("/#order")) return `members: ${list(b)} -> ${list(a)}`;
  const last = k.split("/").pop()!;
  if (last.endsWith("@name")) return undefined;
  if (last.endsWith("@ref")) return `${last.replace(/^[^#]*#/, "").replace(/@ref$/, "")}: ${a === undefined ? "removed" : "added"}`;
  const label = last.startsWith("nvpair") && last.endsWith("@value") && name ? name : last.replace(/^[^#]*#/, "").replace("@", " ");
  return `${label}: ${b ?? "(none)"} -> ${a ?? "(none)"}`;
}

/** Human lines for what differs: "+ resource X (agent k=v ...)", "- rsc_order Y", "~ group G" and what changed in it. */
export function describeDiff(before: Map<string, string>, after: Map<string, string>): string[] {
  const units = (f: Map<string, string>) => new Set([...f.keys()].map(unitOf));
  const had = units(before);
  const has = units(after);
  const changed = new Map<string, string[]>();
  for (const k of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const b = before.get(k);
    const a = after.get(k);
    if (a === b) continue;
    const u = unitOf(k);
    const name = k.endsWith("@value") ? (after.get(k.replace(/@value$/, "@name")) ?? before.get(k.replace(/@value$/, "@name"))) : undefined;
    const d = detail(k, b, a, name);
    changed.set(u, [...(changed.get(u) ?? []), ...(d ? [d] : [])]);
  }
  const out: string[] = [];
  for (const [u, lines] of [...changed].sort(([x], [y]) => x.localeCompare(y))) {
    if (!had.has(u)) out.push(`+ ${u}${u.startsWith("resource ") ? ` (${agentLine(after, u.slice(9))})` : ""}`);
    else if (!has.has(u)) out.push(`- ${u}`);
    else out.push(`~ ${u}`, ...lines.map((l) => `    ${l}`));
  }
  return out;
}

/** "class:provider:type name=value ..." of primitive `id`. */
function agentLine(f: Map<string, string>, id: string): string {
  const base = [...f.keys()].find((k) => k.endsWith(`primitive#${id}@class`))?.slice(0, -"@class".length);
  if (base === undefined) return "";
  const params: string[] = [];
  for (const [k, v] of f) if (k.startsWith(`${base}/instance_attributes#`) && k.endsWith("@name")) params.push(`${v}=${f.get(k.replace(/@name$/, "@value")) ?? ""}`);
  return [[f.get(`${base}@class`), f.get(`${base}@provider`), f.get(`${base}@type`)].filter(Boolean).join(":"), ...params].join(" ");
}

// ---- building the change -----------------------------------------------------------------------

/** Ids a plan's pcs commands create: resources, their clones, groups, fence devices. */
export function planIds(plan: Plan): { resources: string[]; fencing: string[] } {
  const resources = new Set<string>();
  const fencing: string[] = [];
  for (const c of plan.commands) {
    if (c[0] === "stonith" && c[1] === "create") fencing.push(c[2]!);
    // `resource group add G MEMBER...` creates G (the stacks put created primitives into groups so)
    if (c[0] === "resource" && c[1] === "group" && c[2] === "add") resources.add(c[3]!);
    if (c[0] !== "resource" || c[1] !== "create") continue;
    resources.add(c[2]!);
    if (c.includes("clone") || c.includes("promotable")) resources.add(`${c[2]}-clone`);
  }
  return { resources: [...resources], fencing };
}

/** Members of tag tsstor-NAME in a CIB file (what the stack owned when last applied). */
function tagged(xml: string, name: string): string[] {
  const esc = tagOf(name).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const m = new RegExp(`<tag id="${esc}">([\\s\\S]*?)</tag>`).exec(xml);
  return m ? [...m[1]!.matchAll(/<obj_ref id="([^"]+)"/g)].map((x) => x[1]!) : [];
}

const xq = (v: string) => (v.includes("'") ? `"${v}"` : `'${v}'`);
const anyId = (ids: string[]) => ids.map((i) => `@id=${xq(i)}`).join(" or ");
const refs = (ids: string[]) => ids.map((i) => `@rsc=${xq(i)} or @with-rsc=${xq(i)} or @first=${xq(i)} or @then=${xq(i)} or .//resource_ref[@id=${xq(i)}]`).join(" or ");

/**
 * Take elements out of a CIB file: top-level resources holding any of `ids`, the order and
 * colocation constraints naming them, and the stack's tag. Location and ticket constraints naming
 * them (a move, a ban, a preference: the operator's) are taken out too, for the CIB schema does
 * not allow a reference to a missing resource; they are returned, to be put back once the
 * resources exist again.
 */
function remove(file: string, ids: string[], name: string): string[] {
  const parts = [`/cib/configuration/tags/tag[@id=${xq(tagOf(name))}]`];
  let kept: string[] = [];
  if (ids.length) {
    const loc = `/cib/configuration/constraints/*[(self::rsc_location or self::rsc_ticket) and (${refs(ids)})]`;
    const q = run("cibadmin", ["--query", "--xpath", loc], { CIB_file: file });
    if (q.code === 0) kept = [...q.stdout.matchAll(/<(rsc_location|rsc_ticket)\b[^>]*?(?:\/>|>[\s\S]*?<\/\1>)/g)].map((m) => m[0]);
    parts.push(loc);
    parts.push(`/cib/configuration/resources/*[descendant-or-self::*[${anyId(ids)}]]`);
    parts.push(`/cib/configuration/constraints/*[(self::rsc_order or self::rsc_colocation) and (${refs(ids)})]`);
  }
  const r = run("cibadmin", ["--delete-all", "--xpath", parts.join(" | "), "--force"], { CIB_file: file });
  // 105: nothing matched (a first apply)
  if (r.code !== 0 && r.code !== 105) throw new ApplyError(`cibadmin --delete-all failed: ${lastLine(r)}`);
  return kept;
}

/** Put back the operator's location/ticket constraints whose resources still exist (others go). */
function restore(file: string, constraints: string[]): void {
  for (const x of constraints) run("cibadmin", ["--create", "--scope", "constraints", "--xml-text", x], { CIB_file: file });
}

/** What the operator set at runtime stays: pcs resource disable/unmanage, maintenance. */
const RUNTIME_META = ["target-role", "is-managed", "maintenance"];

function keepRuntimeMeta(orig: Map<string, string>, file: string, ids: string[]): void {
  for (const id of ids)
    for (const m of RUNTIME_META) {
      const hit = [...orig.entries()].find(([k]) => new RegExp(`[/]([a-z]+)#${id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/meta_attributes#[^/]+/nvpair#[^/]+@name$`).test(k) && orig.get(k) === m);
      if (!hit) continue;
      const value = orig.get(hit[0].replace(/@name$/, "@value"));
      if (value === undefined) continue;
      const r = run("crm_resource", ["--resource", id, "--meta", "--set-parameter", m, "--parameter-value", value], { CIB_file: file });
      if (r.code !== 0) throw new ApplyError(`keeping ${m}=${value} of ${id} failed: ${lastLine(r)}`);
    }
}

/** crm_verify's error lines for a CIB file (its summary line aside), without the function names. */
function errors(file: string): string[] {
  const r = run("crm_verify", ["--xml-file", file, "-V"]);
  return [...new Set(`${r.stdout}\n${r.stderr}`.split("\n").filter((l) => /\berror:/.test(l) && !/^crm_verify:/.test(l)).map((l) => l.replace(/^\([^)]*\)\s*/, "").trim()))];
}

/** crm_simulate's "Transition Summary" lines for a CIB file with the change. */
function transition(file: string): string[] {
  const r = run("crm_simulate", ["--simulate", "--xml-file", file]);
  if (r.code !== 0) throw new ApplyError(`crm_simulate refused the change: ${lastLine(r)}`);
  const out = r.stdout.split("\n");
  const i = out.findIndex((l) => /^Transition Summary:/.test(l));
  if (i < 0) return [];
  const lines: string[] = [];
  for (const l of out.slice(i + 1)) {
    if (!l.trim() || /^(Executing|Revised|Using the original)/.test(l)) break;
    lines.push(l.trim().replace(/^\*\s*/, ""));
  }
  return lines;
}

interface Edit {
  name: string;
  /** the pcs commands that put the stack back as it is now; none for a delete */
  plan?: Plan;
}

/**
 * The one change path: orig -> copy without the stack -> plan's commands -> compare -> check ->
 * push. `edit.plan` undefined deletes the stack.
 */
export function change(edit: Edit, o: ChangeOpts = {}): ChangeResult {
  const log = o.log ?? (() => {});
  // resources leaving a live cluster are stopped first, in one change that keeps every constraint
  // (the group unmounts before DRBD demotes); removed while running, Pacemaker would stop them as
  // orphans, with no order among them (seen in the lab: a deleted stack's DRBD clone orphaned)
  const stopped = o.cib ? [] : stopLeaving(edit, o, log);
  const work = mkdtempSync(join(tmpdir(), "tsstor-stack-"));
  try {
    const orig = join(work, "orig.xml");
    const next = join(work, "new.xml");
    readCib("pcs", orig, o.cib, edit.plan?.requires);
    const origXml = readFileSync(orig, "utf8");
    const before = configFacts(origXml);
    const had = tagged(origXml, edit.name);
    const ids = edit.plan ? planIds(edit.plan) : { resources: [], fencing: [] };
    copyFileSync(orig, next);
    // fence devices are re-created as the plan says, but never tagged: a delete leaves them
    const kept = remove(next, [...new Set([...had, ...ids.resources, ...ids.fencing])], edit.name);
    if (edit.plan) {
      pcsEach("pcs", next, [...edit.plan.commands, ["tag", "create", tagOf(edit.name), ...ids.resources]], log);
      keepRuntimeMeta(before, next, ids.resources);
    }
    restore(next, kept);
    const changes = describeDiff(before, configFacts(readFileSync(next, "utf8")));
    if (!changes.length) return { changes, actions: [], stoppedFirst: stopped, pushed: false };
    const was = new Set(errors(orig));
    const fresh = errors(next).filter((e) => !was.has(e));
    if (fresh.length) throw new ApplyError(`crm_verify finds new errors in the changed CIB; nothing was pushed:\n  ${fresh.join("\n  ")}`);
    const actions = transition(next);
    if (o.dryRun) return { changes, actions, stoppedFirst: stopped, pushed: false };
    pushCib("pcs", next, orig, o.cib, log);
    return { changes, actions, stoppedFirst: stopped, pushed: true };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * What to stop for resources that leave: the top-level element (clone, group, lone primitive)
 * holding each, or the resource itself when that element stays (a member leaving a group).
 */
function toStop(facts: Map<string, string>, leaving: readonly string[], staying: readonly string[]): string[] {
  const out = new Set<string>();
  for (const k of facts.keys()) {
    const segs = k.split("/");
    if (segs[0] !== "resources") continue;
    const ids = segs.slice(1).map((x) => /#([^@/]+)/.exec(x.replace(/@.*$/, ""))?.[1]);
    const top = ids[0];
    const hit = ids.find((i) => i !== undefined && leaving.includes(i));
    if (top && hit) out.add(staying.includes(top) ? hit : top);
  }
  return [...out];
}

/**
 * Phase one of a change that removes running resources: target-role=Stopped on their top-level
 * elements, pushed as one change, then wait until none runs anywhere (failed stops: an error,
 * nothing removed; the resources stay stopped for the operator to look at).
 */
function stopLeaving(edit: Edit, o: ChangeOpts, log: (line: string) => void): string[] {
  const work = mkdtempSync(join(tmpdir(), "tsstor-stop-"));
  try {
    const orig = join(work, "orig.xml");
    const next = join(work, "new.xml");
    readCib("pcs", orig, undefined, edit.plan?.requires);
    const xml = readFileSync(orig, "utf8");
    const facts = configFacts(xml);
    const keep = edit.plan ? planIds(edit.plan).resources : [];
    const leaving = toStop(facts, tagged(xml, edit.name).filter((i) => !keep.includes(i)), keep);
    const running = leaving.filter((id) => runningOn(id).length);
    if (!running.length || o.dryRun) return running;
    copyFileSync(orig, next);
    for (const id of running) {
      const r = run("crm_resource", ["--resource", id, "--meta", "--set-parameter", "target-role", "--parameter-value", "Stopped"], { CIB_file: next });
      if (r.code !== 0) throw new ApplyError(`stopping ${id} first failed: ${lastLine(r)}`);
    }
    log(`stopping first, in one change: ${running.join(", ")}`);
    pushCib("pcs", next, orig, undefined, log);
    const deadline = Date.now() + STOP_WAIT_MS;
    for (;;) {
      const still = running.filter((id) => runningOn(id).length);
      if (!still.length) return running;
      if (Date.now() > deadline) throw new ApplyError(`${still.join(", ")} still running ${STOP_WAIT_MS / 1000} s after target-role=Stopped: nothing was removed (crm_mon shows why; they stay stopped)`);
      sleepMs(2000);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
const STOP_WAIT_MS = 600_000;

// ---- where a resource runs -----------------------------------------------------------------------

/** Nodes `id` is active on (crm_resource --locate), from the cluster or a CIB file. */
export function runningOn(id: string, cib?: string): string[] {
  const r = run("crm_resource", ["--locate", "--resource", id], cib ? { CIB_file: cib } : {});
  return [...r.stdout.matchAll(/is running on: (\S+)/g)].map((m) => m[1]!);
}

/** This node's cluster name (crm_node -n), else the host name. */
export function localNode(): string {
  const r = run("crm_node", ["-n"]);
  return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : hostname();
}

export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tsstor-new`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
