// `tsstor stack apply|script|delete|add-lun|remove-lun|schema`: stack files (cli/stack/file.ts)
// and their life on the cluster (cli/stack/lifecycle.ts). The change is printed on stdout before
// it is pushed; status lines go to stderr.
import type { Argv } from "yargs";
import { existsSync } from "node:fs";
import { ApplyError, renderScript } from "../pcs.js";
import { resourceId } from "../validate.js";
import { StackFileError, loadStack, type StackFile } from "./file.js";
import { change, writeAtomic, type ChangeOpts, type ChangeResult } from "./lifecycle.js";
import { LunRefused, addLun, checkLunUnused, removeLun } from "./luns.js";
import { jsonSchema } from "./schema.js";

type SetCode = (c: number) => void;

function report(what: string, r: ChangeResult, o: ChangeOpts): void {
  if (!r.changes.length) {
    process.stderr.write(`tsstor: ${what}: the CIB already matches; nothing to change, nothing pushed\n`);
    return;
  }
  process.stdout.write(`${r.changes.join("\n")}\n`);
  if (r.stoppedFirst.length) process.stdout.write(`${o.dryRun ? "to be stopped first" : "stopped first"}, in a change of their own (every constraint still in place): ${r.stoppedFirst.join(", ")}\n`);
  if (r.actions.length) process.stdout.write(`crm_simulate, what the cluster will do:\n${r.actions.map((a) => `  ${a}`).join("\n")}\n`);
  else process.stdout.write("crm_simulate: no resource actions\n");
  process.stderr.write(`tsstor: ${what}: ${r.pushed ? `pushed as one CIB change${o.cib ? ` to ${o.cib}` : ""}` : "--dry-run: nothing pushed"}\n`);
}

function guard(setCode: SetCode, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof StackFileError) {
      process.stderr.write(`${e.message}\ntsstor: nothing was changed.\n`);
      setCode(2);
    } else if (e instanceof LunRefused) {
      process.stderr.write(`tsstor: refused: ${e.message}\nnothing was changed.\n`);
      setCode(1);
    } else if (e instanceof ApplyError) {
      process.stderr.write(`tsstor: ${e.message}\n`);
      setCode(1);
    } else throw e;
  }
}

const changeOpts = (y: Argv) =>
  y
    .option("cib", { type: "string", describe: "edit this CIB file instead of the live cluster (e.g. for crm_simulate)" })
    .option("dry-run", { type: "boolean", default: false, describe: "show the change and what the cluster would do; push nothing" })
    .option("quiet", { type: "boolean", default: false, describe: "do not echo each pcs command" });

const opts = (a: { cib?: unknown; "dry-run"?: unknown; quiet?: unknown }): ChangeOpts => ({
  cib: a.cib as string | undefined,
  dryRun: a["dry-run"] === true,
  log: a.quiet ? undefined : (l) => process.stderr.write(`${l}\n`),
});

/** Apply a stack file's (possibly edited) content, then write the file when it was edited. */
function applyFile(sf: StackFile, o: ChangeOpts, what: string, edited: boolean): void {
  const r = change({ name: sf.name, plan: sf.plan }, o);
  report(what, r, o);
  if (edited && !o.dryRun) writeAtomic(sf.path, sf.text);
}

export function stackFileCommands(y: Argv, setCode: SetCode): Argv {
  return y
    .command(
      "apply <file>",
      "create or update a stack from a stack file: idempotent, the smallest change, shown and checked with crm_simulate before one push",
      (y) => changeOpts(y.positional("file", { type: "string", demandOption: true, describe: "stack file (YAML; see docs/stacks.md)" })),
      (a) => guard(setCode, () => {
        const sf = loadStack(String(a.file));
        if (sf.plan.nodeSteps.length) throw new StackFileError([`${a.file}: node steps are not applied from a stack file`]);
        applyFile(sf, opts(a), `stack ${sf.name} (${sf.kind})`, false);
      }),
    )
    .command(
      "script <file>",
      "print the stack file's stack as a reviewable bash script of pcs commands (a first creation)",
      (y) => y.positional("file", { type: "string", demandOption: true }),
      (a) => guard(setCode, () => {
        const sf = loadStack(String(a.file));
        process.stdout.write(renderScript(sf.plan, ["stack", "script", String(a.file)]));
      }),
    )
    .command(
      "delete <stack>",
      "remove a stack's resources and constraints, nothing else (fencing stays: it protects the whole cluster)",
      (y) => changeOpts(y.positional("stack", { type: "string", demandOption: true, describe: "the stack file, or the stack's name" })),
      (a) => guard(setCode, () => {
        const arg = String(a.stack);
        const name = existsSync(arg) ? loadStack(arg).name : arg;
        const bad = resourceId(name);
        if (bad) throw new StackFileError([`stack name: ${bad}`]);
        const r = change({ name }, opts(a));
        report(`stack ${name} deleted`, r, opts(a));
      }),
    )
    .command(
      "add-lun <file>",
      "add a LUN to a stack's target: the file is edited, applied, and written back when the apply succeeded",
      (y) =>
        changeOpts(y.positional("file", { type: "string", demandOption: true }))
          .option("lun", { type: "string", demandOption: true, describe: "N:/dev/path" })
          .option("target", { type: "string", describe: "the target's IQN (when the stack has several)" })
          .option("id", { type: "string", describe: "resource id of the LUN (failover stacks)" }),
      (a) => guard(setCode, () => {
        const sf = addLun(loadStack(String(a.file)), String(a.lun), a.target as string | undefined, a.id as string | undefined);
        applyFile(sf, opts(a), `stack ${sf.name}: LUN ${String(a.lun)} added`, true);
      }),
    )
    .command(
      "remove-lun <file>",
      "remove a LUN; refused while an initiator is logged in to its target (checked on the node serving it) unless --force",
      (y) =>
        changeOpts(y.positional("file", { type: "string", demandOption: true }))
          .option("lun", { type: "number", demandOption: true, describe: "LUN number" })
          .option("target", { type: "string", describe: "the target's IQN (when the stack has several)" })
          .option("force", { type: "boolean", default: false, describe: "remove it even with initiators logged in" }),
      (a) => guard(setCode, () => {
        const sf = loadStack(String(a.file));
        const lun = Number(a.lun);
        const rm = removeLun(sf, lun, a.target as string | undefined);
        if (!a.force) checkLunUnused(rm.resource, rm.iqn, lun, a.cib as string | undefined);
        applyFile(rm.next, opts(a), `stack ${sf.name}: LUN ${lun} removed`, true);
      }),
    )
    .command(
      "schema",
      "print the stack file's JSON Schema (for editors; tsstor itself checks every key with its line)",
      (y) => y,
      () => {
        process.stdout.write(`${JSON.stringify(jsonSchema(), null, 2)}\n`);
      },
    );
}
