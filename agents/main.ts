// Entry of the multi-call agent binary. Metadata is rendered at build time
// (scripts/gen-metadata.ts), so the XML library is not loaded by every action.
import metadata from "../build/gen/metadata.json" with { type: "json" };
import { main } from "../lib/main.js";
import { agents } from "./index.js";

main(agents, metadata);
