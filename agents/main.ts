// Entry of the multi-call agent binary. Metadata is rendered at build time
// (scripts/gen-metadata.ts), so the XML library is not loaded by every action; it is embedded as
// text and parsed only by the meta-data action.
import metadata from "../build/gen/metadata.txt" with { type: "text" }; // JSON text
import { main } from "../lib/main.js";
import { agents } from "./index.js";

main(agents, metadata);
