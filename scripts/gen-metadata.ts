// Build step (run with Bun): render every agent's metadata in both dialects with the XML
// library, for the agents binary to embed. `--write DIR` also writes DIR/<Agent>.xml (OCF 1.1).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { agents } from "../agents/index.js";
import { renderMetadata } from "../lib/ocf/metadata.js";
import { agent as testAgent } from "../test/fixtures/TestAgent.js";

const out: Record<string, { "1.1": string; "1.0": string }> = {};
for (const a of [...agents, testAgent]) {
  out[a.decl.name] = { "1.1": renderMetadata(a.decl, "1.1"), "1.0": renderMetadata(a.decl, "1.0") };
}
mkdirSync("build/gen", { recursive: true });
writeFileSync("build/gen/metadata.txt", JSON.stringify(out));
const i = process.argv.indexOf("--write");
if (i > 0) {
  const dir = process.argv[i + 1]!;
  for (const a of agents) writeFileSync(join(dir, `${a.decl.name}.xml`), out[a.decl.name]!["1.1"]);
}
