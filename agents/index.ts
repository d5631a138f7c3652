// Every agent in the multi-call binary. Add a new agent here (import + array entry).
import type { Agent } from "../lib/agent.js";
import { agent as Filesystem } from "./Filesystem.js";
import { agent as IPaddr2 } from "./IPaddr2.js";

export const agents: Agent<any>[] = [IPaddr2, Filesystem];
