// Entry of the one tsstor executable (build/tsstor; /usr/lib/tsstor/tsstor when installed).
// - Run as `tsstor`, it is the command (cli/main.ts). Built with code splitting (scripts/build.sh),
//   the command is a chunk of its own that an agent call never loads (yargs, yaml).
// - As `tsstor-agents AGENT ACTION` (what the agents' sh fronts in resource.d/tsstor/ exec,
//   packaging/front.sh) or under an agent's name (a link), it is the multi-call agent binary.
//   meta-data is answered from the text rendered at build time (scripts/gen-metadata.ts) before
//   any agent module is loaded (the fronts print the OCF 1.1 document themselves; any other
//   version comes here). Agents are loaded lazily (agents/lazy.ts).
import { writeSync } from "node:fs";
import { basename } from "node:path";
import metadata from "../build/gen/metadata.txt" with { type: "text" }; // JSON text
import { parseEnv, speaks11 } from "../lib/ocf/env.js";
import type { Prebuilt } from "../lib/ocf/main.js";

const invoked = basename(process.argv0 || "");

/** The meta-data action, when that is what was asked: true once the document is written. */
function metaData(): boolean {
  if (!process.argv.includes("meta-data")) return false; // every other action: no JSON parse
  const all = JSON.parse(metadata) as Prebuilt;
  const [name, action] = Object.hasOwn(all, invoked) ? [invoked, process.argv[2]] : [process.argv[2] ?? "", process.argv[3]];
  const doc = action === "meta-data" && Object.hasOwn(all, name) ? all[name]! : undefined;
  if (!doc) return false;
  writeSync(1, doc[speaks11(parseEnv(process.env)) ? "1.1" : "1.0"]);
  return true;
}

/** A broken build, not an agent's answer: a generic error Pacemaker can show. */
function broken(e: unknown): never {
  writeSync(2, `ocf-exit-reason:cannot load the agent: ${(e as Error)?.message ?? String(e)}\n`);
  process.exit(1);
}

if (invoked === "tsstor") {
  import("../cli/main.js").catch((e: unknown) => {
    writeSync(2, `tsstor: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  });
} else if (!metaData()) {
  const load = async () => {
    const [{ main }, { loadAgents }] = await Promise.all([import("../lib/ocf/main.js"), import("./lazy.js")]);
    return { main, agents: await loadAgents(process.argv0, process.argv[2]) };
  };
  load().then(({ main, agents }) => main(agents, metadata), broken);
}
