// Every agent (metadata and man page generation, tests), derived from the binary's loaders in
// agents/lazy.ts: a new agent is registered there, once.
import type { Agent } from "../lib/ocf/runner.js";
import { loaders } from "./lazy.js";

// one loader may serve several names (clvm and lvmlockd): load each once, in the loaders' order
export const agents: Agent<any>[] = (await Promise.all([...new Set(Object.values(loaders))].map((load) => load()))).flat();
