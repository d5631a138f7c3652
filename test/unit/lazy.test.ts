// The binary's lazy dispatch (agents/lazy.ts) and the static list (agents/index.ts) name the
// same agents, and each link name loads the agent it names.
import t from "tap";
import { agents } from "../../agents/index.js";
import { loadAgents, loaders } from "../../agents/lazy.js";

t.test("one loader per agent, each loading that agent", async (t) => {
  t.same(Object.keys(loaders).sort(), agents.map((a) => a.decl.name).sort());
  for (const name of Object.keys(loaders)) {
    const loaded = await loadAgents(`/usr/lib/ocf/resource.d/tsstor/${name}`, "monitor");
    t.ok(loaded.some((a) => a.decl.name === name), `${name} loads itself`);
  }
});

t.test("by own name: the first argument picks the agent; unknown: all of them", async (t) => {
  t.same((await loadAgents("/usr/lib/tsstor/tsstor-agents", "drbd")).map((a) => a.decl.name), ["drbd"]);
  const all = await loadAgents("tsstor-agents", "--list");
  t.same(all.map((a) => a.decl.name).sort(), agents.map((a) => a.decl.name).sort());
});
