// Entry point of the multi-call agent binary: the agent is chosen by the first argument (the
// agents' sh fronts run `tsstor-agents AGENT ACTION`), or by the name it was invoked as (a link).

import { basename, resolve } from "node:path";
import { writeSync } from "node:fs";
import { runAction, type Agent } from "./runner.js";

export type Prebuilt = Record<string, { "1.1": string; "1.0": string }>;

/** `metadata`: the Prebuilt map as JSON text (parsed only when meta-data is asked for). */
export function main(agents: Agent<any>[], metadata: string): never {
  const invoked = basename(process.argv0 || "");
  let args = process.argv.slice(2);
  let agent = agents.find((a) => a.decl.name === invoked);
  const self = [process.argv0.includes("/") ? resolve(process.argv0) : process.argv0];
  if (!agent && args[0] === "--list") {
    writeSync(1, agents.map((a) => `${a.decl.name}\n`).join(""));
    process.exit(0);
  }
  if (!agent) {
    agent = agents.find((a) => a.decl.name === args[0]);
    if (agent) self.push(agent.decl.name);
    args = args.slice(1);
  }
  if (!agent) {
    writeSync(2, `usage: ${invoked} AGENT ACTION\nagents: ${agents.map((a) => a.decl.name).join(" ")}\n`);
    process.exit(3);
  }
  const name = agent.decl.name;
  const md = (d: "1.1" | "1.0") => (JSON.parse(metadata) as Prebuilt)[name]?.[d] ?? "";
  process.exit(runAction(agent, args[0], process.env, { self, metadata: md }));
}
