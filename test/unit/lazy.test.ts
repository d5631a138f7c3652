// The binary's lazy dispatch (agents/lazy.ts): every agent file in agents/ is reached by a loader
// (agents/index.ts derives the full list from them), and each link name loads the agent it names.
import t from "tap";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { agents } from "../../agents/index.js";
import { loadAgents, loaders } from "../../agents/lazy.js";

const AGENTS_DIR = join(dirname(fileURLToPath(import.meta.url)), "../../agents");

t.test("every agent exported by a file in agents/ has a loader, and the list has each agent once", async (t) => {
  const declared: string[] = [];
  for (const f of readdirSync(AGENTS_DIR).filter((f) => f.endsWith(".ts") && !["index.ts", "lazy.ts", "main.ts"].includes(f))) {
    const m = (await import(join(AGENTS_DIR, f))) as Record<string, unknown>;
    for (const v of Object.values(m)) {
      const name = (v as { decl?: { name?: string }; handlers?: unknown })?.decl?.name;
      if (name && typeof v === "object" && "handlers" in (v as object)) declared.push(name);
    }
  }
  t.same([...new Set(declared)].sort(), Object.keys(loaders).sort(), "a loader for every agent, no loader without one");
  const names = agents.map((a) => a.decl.name);
  t.same(names.slice().sort(), Object.keys(loaders).sort());
  t.equal(new Set(names).size, names.length, "no agent twice");
});

t.test("one loader per agent, each loading that agent", async (t) => {
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
