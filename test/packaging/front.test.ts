// The agents' shell fronts (packaging/front.sh): what the package installs in resource.d/tsstor/.
// meta-data for OCF 1.1 is printed by the front, byte for byte the executable's; everything else
// (other versions, other actions, arguments, environment, exit codes) is the executable's own.
import t from "tap";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUILD, scratchDir } from "../lib/harness.js";

const dir = scratchDir("front");
const exe = join(BUILD, "tsstor-agents");
const agents = spawnSync(exe, ["--list"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
const run = (argv: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", env: { PATH: process.env.PATH ?? "", ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const v11 = { OCF_RA_VERSION_MAJOR: "1", OCF_RA_VERSION_MINOR: "1" };

t.test("meta-data: the front's equals the executable's, for every OCF version", async (t) => {
  for (const a of agents) {
    const front = join(BUILD, "agents", a);
    t.ok(readFileSync(front, "utf8").startsWith("#!/bin/sh\n"), `${a}: a sh front`);
    for (const env of [v11, {}, { OCF_RA_VERSION_MAJOR: "1", OCF_RA_VERSION_MINOR: "0" }, { OCF_RA_VERSION_MAJOR: "2", OCF_RA_VERSION_MINOR: "0" }, { OCF_RA_VERSION_MAJOR: " 1", OCF_RA_VERSION_MINOR: "1" }]) {
      const f = run([front, "meta-data"], env), e = run([exe, a, "meta-data"], env);
      t.equal(f.code, 0);
      t.equal(f.out, e.out, `${a} ${JSON.stringify(env)}: same document`);
    }
    t.equal(run([front, "meta-data"], v11).out, readFileSync(`metadata/${a}.xml`, "utf8"), `${a}: the committed metadata`);
  }
});

t.test("every other action is the executable's: arguments, environment, exit code, stderr", async (t) => {
  const front = join(BUILD, "agents", "IPaddr2");
  const env = { ...v11, OCF_ROOT: "/usr/lib/ocf", OCF_RESKEY_ip: "not-an-address; touch /tmp/x", OCF_RESOURCE_INSTANCE: "vip" };
  for (const argv of [["validate-all"], ["frobnicate"], [], ["monitor", "extra"], ["meta-data", "extra"]]) {
    const f = run([front, ...argv], env), e = run([exe, "IPaddr2", ...argv], env);
    t.same({ code: f.code, out: f.out, err: f.err }, { code: e.code, out: e.out, err: e.err }, `IPaddr2 ${argv.join(" ") || "(no action)"}`);
  }
  const bad = run([front, "validate-all"], env);
  t.equal(bad.code, 6, "a bad ip: OCF_ERR_CONFIGURED, from the executable");
  t.match(bad.err, /ocf-exit-reason:/);
});

t.test("one process: the front execs the executable (strace: no fork)", async (t) => {
  const trace = join(dir, "trace");
  const r = spawnSync("strace", ["-f", "-qq", "-s", "4096", "-e", "trace=execve,clone,clone3,fork,vfork", "-o", trace, join(BUILD, "agents", "IPaddr2"), "frobnicate"], { encoding: "utf8", env: { PATH: process.env.PATH ?? "" } });
  t.error(r.error, "strace runs");
  const lines = readFileSync(trace, "utf8").split("\n").filter(Boolean);
  const pids = new Set(lines.map((l) => l.split(" ")[0]));
  const execs = lines.filter((l) => /execve\(/.test(l) && !/= -1 /.test(l));
  t.equal(execs.length, 2, `the front, then the executable: ${execs.map((l) => l.slice(0, 120)).join(" | ")}`);
  t.match(execs[1]!, /tsstor-agents", \["[^"]*tsstor-agents", "IPaddr2", "frobnicate"\]/);
  t.ok(lines.filter((l) => /^\d+ +(clone|fork|vfork)/.test(l) && pids.has(l.split(" ")[0]!)).every((l) => !/execve/.test(l)), "no child runs a program");
});

t.test("write_front carries any text: quotes, dollars, backslashes, percent signs", async (t) => {
  const doc = `<?xml version="1.0"?>\n<x a='1'>it's $HOME \`id\` $(id) \\n \\\\ %s %% "q" '' ' é 🙂</x>\n`;
  const fake = join(dir, "fake-agents");
  writeFileSync(fake, `#!/bin/sh\ncat ${join(dir, "doc")}\n`, { mode: 0o755 });
  writeFileSync(join(dir, "doc"), doc);
  const out = join(dir, "Hostile");
  const w = spawnSync("bash", ["-c", `source packaging/front.sh && write_front Hostile /usr/lib/tsstor/tsstor-agents ${out} ${fake}`], { encoding: "utf8" });
  t.equal(w.status, 0, w.stderr);
  const f = run([out, "meta-data"], v11);
  t.equal(f.code, 0, f.err);
  t.equal(f.out, doc, "printed byte for byte");
  const rel = spawnSync("bash", ["-c", `source packaging/front.sh && write_front Hostile tsstor-agents ${out}.rel ${fake}`], { encoding: "utf8" });
  t.not(rel.status, 0, "a relative executable path is refused");
});
