// Entry of the multi-call agent binary. Metadata is rendered at build time
// (scripts/gen-metadata.ts), so the XML library is not loaded by every action; it is embedded as
// text and parsed only by the meta-data action. Agents are loaded lazily (agents/lazy.ts).
import { writeSync } from "node:fs";
import metadata from "../build/gen/metadata.txt" with { type: "text" }; // JSON text
import { main } from "../lib/ocf/main.js";
import { loadAgents } from "./lazy.js";

loadAgents(process.argv0, process.argv[2]).then(
  (agents) => main(agents, metadata),
  (e: unknown) => {
    // a broken build, not an agent's answer: a generic error Pacemaker can show
    writeSync(2, `ocf-exit-reason:cannot load the agent: ${(e as Error)?.message ?? String(e)}\n`);
    process.exit(1);
  },
);
