// How should an agent be packaged? The same tiny monitor (a state-file check, the test agent)
// built every candidate way, beside heartbeat's Dummy doing the same work, in one run.
//   node + bundle | Node SEA | Bun compiled: one agent | Bun multi-call (lazy or eager) | + --bytecode
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT, TMP, ocfEnv, once, measure, save, type Row, type Cmd } from "./lib.js";

const BUN = join(ROOT, "node_modules/@oven/bun-linux-x64-baseline/bin/bun");
const dir = join(TMP, "startup");
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const rsc = join(dir, "rsc");
mkdirSync(rsc);

function sh(cmd: string, args: string[], cwd = ROOT): void {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
}

// 1. Node bundle (ESM) and a CommonJS bundle for Node SEA
sh(BUN, ["build", "--target=node", "test/fixtures/test-agent-main.ts", "--outfile", join(dir, "agent.mjs")]);
sh(BUN, ["build", "--target=node", "--format=cjs", "test/fixtures/test-agent-main.ts", "--outfile", join(dir, "agent.cjs")]);
// 2. Node SEA (node --experimental-sea-config + postject from npm)
let sea: string | undefined = join(dir, "TestAgent-sea");
try {
  writeFileSync(join(dir, "sea.json"), JSON.stringify({ main: join(dir, "agent.cjs"), output: join(dir, "sea.blob"), disableExperimentalSEAWarning: true }));
  sh("node", ["--experimental-sea-config", join(dir, "sea.json")]);
  copyFileSync(process.execPath.includes("node") ? process.execPath : spawnSync("sh", ["-c", "command -v node"], { encoding: "utf8" }).stdout.trim(), sea);
  sh("npx", ["--yes", "postject@1.0.0-alpha.6", sea, "NODE_SEA_BLOB", join(dir, "sea.blob"), "--sentinel-fuse", "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2"]);
} catch (e) {
  // e.g. "Could not find the sentinel NODE_SEA_FUSE_...": this node binary cannot host a SEA
  console.log(`Node SEA skipped: ${(e as Error).message.split("\n").filter((l) => !/npm warn/.test(l)).slice(-2).join(" ")}`);
  sea = undefined;
}
// 3. Bun: the test agent alone, with --bytecode, and inside the multi-call binary with every agent
//    (loaded lazily as shipped, or all evaluated at start)
sh(BUN, ["build", "--compile", "--minify", "test/fixtures/test-agent-main.ts", "--outfile", join(dir, "single")]);
sh(BUN, ["build", "--compile", "--minify", "--bytecode", "test/fixtures/test-agent-main.ts", "--outfile", join(dir, "bytecode")]);
// every agent imported statically: all of them evaluated at every start
writeFileSync(
  join(dir, "multi-eager-main.ts"),
  [
    `import metadata from "${ROOT}/build/gen/metadata.txt" with { type: "text" };`,
    `import { main } from "${ROOT}/lib/ocf/main.ts";`,
    `import { agents } from "${ROOT}/agents/index.ts";`,
    `import { agent as T } from "${ROOT}/test/fixtures/TestAgent.ts";`,
    "main([T, ...agents], metadata);",
  ].join("\n"),
);
// as agents/main.ts ships: every agent and the tsstor command in the binary, only the invoked
// agent loaded (agents/lazy.ts)
writeFileSync(
  join(dir, "multi-main.ts"),
  [
    `import metadata from "${ROOT}/build/gen/metadata.txt" with { type: "text" };`,
    `if (process.argv0.endsWith("tsstor")) import("${ROOT}/cli/main.ts");`,
    `else Promise.all([import("${ROOT}/lib/ocf/main.ts"), import("${ROOT}/agents/lazy.ts")]).then(([{ main }, { loadAgents }]) =>`,
    `  (process.argv0.endsWith("TestAgent") || process.argv[2] === "TestAgent" ? import("${ROOT}/test/fixtures/TestAgent.ts").then((m) => [m.agent]) : loadAgents(process.argv0, process.argv[2])).then((a) => main(a, metadata)));`,
  ].join("\n"),
);
// the form shipped before the command joined the executable: agents only, one CommonJS chunk
writeFileSync(
  join(dir, "multi-cjs-main.ts"),
  [
    `import metadata from "${ROOT}/build/gen/metadata.txt" with { type: "text" };`,
    `import { main } from "${ROOT}/lib/ocf/main.ts";`,
    `import { loadAgents } from "${ROOT}/agents/lazy.ts";`,
    `const load = process.argv0.endsWith("TestAgent") ? import("${ROOT}/test/fixtures/TestAgent.ts").then((m) => [m.agent]) : loadAgents(process.argv0, process.argv[2]);`,
    "load.then((a) => main(a, metadata));",
  ].join("\n"),
);
// the shipped form (scripts/build.sh: multi-call, lazy, bytecode, split ESM chunks), the same
// without bytecode, the previous form (one CommonJS chunk, no command), eager with bytecode
sh(BUN, ["build", "--compile", "--splitting", "--format=esm", "--minify", "--bytecode", join(dir, "multi-main.ts"), "--outfile", join(dir, "multi")]);
sh(BUN, ["build", "--compile", "--minify", "--bytecode", join(dir, "multi-cjs-main.ts"), "--outfile", join(dir, "multi-cjs")]);
sh(BUN, ["build", "--compile", "--splitting", "--format=esm", "--minify", join(dir, "multi-main.ts"), "--outfile", join(dir, "multi-nobc")]);
sh(BUN, ["build", "--compile", "--format=esm", "--minify", "--bytecode", join(dir, "multi-eager-main.ts"), "--outfile", join(dir, "multi-eager")]);
sh(BUN, ["build", "--compile", "--minify", join(ROOT, "bench/empty.ts"), "--outfile", join(dir, "bun-empty")]);
for (const v of ["single", "bytecode", "multi", "multi-cjs", "multi-nobc", "multi-eager", ...(sea ? ["TestAgent-sea"] : [])]) {
  mkdirSync(join(dir, `as-${v}`));
  symlinkSync(join(dir, v), join(dir, `as-${v}`, "TestAgent"));
}

// as installed: the shipped executable behind the agent's sh front (packaging/front.sh)
mkdirSync(join(dir, "front"));
sh("bash", ["-c", `source packaging/front.sh && write_front TestAgent ${join(dir, "multi")} ${join(dir, "front", "TestAgent")} ${join(dir, "multi")}`]);

const env = ocfEnv("TestAgent", { name: "bench" }, { HA_RSCTMP: rsc });
const dummyEnv = ocfEnv("Dummy", { state: join(rsc, "Dummy.state") }, { HA_RSCTMP: rsc, OCF_FUNCTIONS_DIR: "/usr/lib/ocf/lib/heartbeat" });
const cmd = (argv: string[], e = env): Cmd => ({ argv, env: e });
const variants: Array<[string, Cmd]> = [
  ["node + ESM bundle", cmd(["node", join(dir, "agent.mjs"), "TestAgent", "monitor"])],
  ...(sea ? ([["Node SEA", cmd([join(dir, "as-TestAgent-sea", "TestAgent"), "TestAgent", "monitor"])]] as Array<[string, Cmd]>) : []),
  ["Bun compiled, one agent", cmd([join(dir, "as-single", "TestAgent"), "monitor"])],
  ["Bun compiled, one agent, --bytecode", cmd([join(dir, "as-bytecode", "TestAgent"), "monitor"])],
  ["Bun compiled, multi-call (all agents), lazy", cmd([join(dir, "as-multi-nobc", "TestAgent"), "monitor"])],
  ["Bun compiled, multi-call (all agents evaluated), --bytecode", cmd([join(dir, "as-multi-eager", "TestAgent"), "monitor"])],
  ["Bun compiled, multi-call (all agents), lazy, --bytecode, one CommonJS chunk: before", cmd([join(dir, "as-multi-cjs", "TestAgent"), "monitor"])],
  ["Bun compiled, multi-call (all agents + command), lazy, --bytecode, ESM chunks", cmd([join(dir, "as-multi", "TestAgent"), "monitor"])],
  ["the same behind the agent's sh front: shipped", cmd([join(dir, "front", "TestAgent"), "monitor"])],
];
once(cmd([join(dir, "as-single", "TestAgent"), "start"]));
once({ argv: ["/usr/lib/ocf/resource.d/heartbeat/Dummy", "start"], env: dummyEnv });

const rows: Row[] = [];
const upstream = measure({ argv: ["/usr/lib/ocf/resource.d/heartbeat/Dummy", "monitor"], env: dummyEnv }, { runs: 40 });
const base = (name: string, c: Cmd) => {
  const m = measure(c, { runs: 40 });
  rows.push({ agent: "baseline", action: "run", scenario: name, ours: m });
  console.log(`${name}: ${m.median_ms} ms, ${m.peak_rss_kb} kB`);
};
base("bash -c :", cmd(["bash", "-c", ":"]));
base("node -e 0", cmd(["node", "-e", "0"]));
base("Bun compiled, empty program", cmd([join(dir, "bun-empty")]));
for (const [name, c] of variants) {
  const m = measure(c, { runs: 40 });
  // informational: heartbeat Dummy is a 20-line dash script, the floor of any agent (no goal)
  const row: Row = { agent: "TestAgent", action: "monitor", scenario: name, upstream, ours: m, ratio: Math.round((m.median_ms / upstream.median_ms) * 1000) / 1000 };
  rows.push(row);
  console.log(`${name}: ${m.median_ms} ms (exit ${m.exit_code}, ${m.peak_rss_kb} kB) vs heartbeat Dummy ${upstream.median_ms} ms: ratio ${row.ratio}`);
}
// meta-data: the front prints it without starting the runtime; Dummy's is a heredoc
const mdUp = measure({ argv: ["/usr/lib/ocf/resource.d/heartbeat/Dummy", "meta-data"], env: dummyEnv }, { runs: 40 });
for (const [name, c] of [["the executable (no front)", cmd([join(dir, "as-multi", "TestAgent"), "meta-data"])], ["shipped: the sh front", cmd([join(dir, "front", "TestAgent"), "meta-data"])]] as Array<[string, Cmd]>) {
  const m = measure(c, { runs: 40 });
  const row: Row = { agent: "TestAgent", action: "meta-data", scenario: name, upstream: mdUp, ours: m, ratio: Math.round((m.median_ms / mdUp.median_ms) * 1000) / 1000 };
  rows.push(row);
  console.log(`meta-data, ${name}: ${m.median_ms} ms vs heartbeat Dummy ${mdUp.median_ms} ms: ratio ${row.ratio}`);
}
const size = (f: string) => (existsSync(f) ? Math.round(statSync(f).size / 2 ** 20) : undefined);
save("startup", rows, [
  "Same work in every variant: a monitor that checks a state file (tsstor's test agent vs heartbeat's Dummy).",
  `Binary sizes (MiB): single ${size(join(dir, "single"))}, multi-call ${size(join(dir, "multi"))}, bytecode ${size(join(dir, "bytecode"))}${sea ? `, Node SEA ${size(sea)}` : ""}.`,
]);
