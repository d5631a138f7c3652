// Pacemaker's own tools on installed agents: crm_resource metadata and validation, pcs -f with a
// CIB file, and crm_resource --force-* running the agent from the CIB.
import t from "tap";
import { join } from "node:path";
import { installAgents, linkTestAgent, sh } from "../lib/install.js";
import { scratchDir } from "../lib/harness.js";
import { checkRng } from "../lib/xml.js";

installAgents([]);
t.teardown(linkTestAgent());
const tmp = scratchDir("pcmk");
const cib = join(tmp, "cib.xml");

t.test("crm_resource --show-metadata", async (t) => {
  const r = sh("crm_resource", ["--show-metadata", "ocf:tsstor:TestAgent"]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /<version>1\.1<\/version>/, "Pacemaker 2.1 asks for OCF 1.1");
  t.ok(checkRng(r.stdout).ok);
  t.match(sh("crm_resource", ["--list-agents", "ocf:tsstor"]).stdout, /TestAgent/);
});

t.test("crm_resource --validate: good and bad", async (t) => {
  const base = ["--validate", "--class", "ocf", "--provider", "tsstor", "--agent", "TestAgent"];
  const ok = sh("crm_resource", [...base, "--option", "name=x"]);
  t.equal(ok.code, 0, ok.out);
  t.match(ok.out, /returned 0 \(ok\)/);
  const bad = sh("crm_resource", [...base, "--option", "name=x", "--option", "count=abc", "--output-as=xml"]);
  t.equal(bad.code, 6);
  t.match(bad.stdout, /<agent-status code="6"[^>]*reason="parameter count must be an integer, got &quot;abc&quot;"/);
  const lvl = sh("crm_resource", ["--validate=10", ...base.slice(1), "--option", "name=x", "--option", "dir=/nonexistent"]);
  t.equal(lvl.code, 5, "level 10 through crm_resource");
});

t.test("pcs -f: creation accepts valid and rejects unknown, missing and duplicate parameters", async (t) => {
  t.equal(sh("bash", ["-c", `cibadmin --empty > ${cib}`]).code, 0);
  const ok = sh("pcs", ["-f", cib, "resource", "create", "r1", "ocf:tsstor:TestAgent", "name=x", "count=3", "mode=b"]);
  t.equal(ok.code, 0, ok.out);
  const unknown = sh("pcs", ["-f", cib, "resource", "create", "r2", "ocf:tsstor:TestAgent", "name=y", "foo=1"]);
  t.not(unknown.code, 0);
  t.match(unknown.stderr, /invalid resource option 'foo'/);
  const missing = sh("pcs", ["-f", cib, "resource", "create", "r3", "ocf:tsstor:TestAgent", "count=1"]);
  t.not(missing.code, 0);
  t.match(missing.stderr, /'name' or 'old_name' \(deprecated\) has to be specified/);
  const dup = sh("pcs", ["-f", cib, "resource", "create", "r4", "ocf:tsstor:TestAgent", "name=x"]);
  t.not(dup.code, 0);
  t.match(dup.stderr, /not unique/, "unique-group enforced by pcs");
  const dep = sh("pcs", ["-f", cib, "resource", "create", "r5", "ocf:tsstor:TestAgent", "name=z", "old_name=q"]);
  t.equal(dep.code, 0);
  t.match(dep.stderr, /deprecated/, "pcs warns on a deprecated parameter");
  const desc = sh("pcs", ["resource", "describe", "ocf:tsstor:TestAgent"]);
  t.match(desc.stdout, /name \(required\) \(unique group: name\)/);
});

t.test("crm_resource --force-start/check/stop run the agent from the CIB", async (t) => {
  const env = { CIB_file: cib, HA_RSCTMP: tmp };
  t.match(sh("crm_resource", ["-r", "r1", "--force-check"], env).out, /returned 7 \(not running\)/);
  t.equal(sh("crm_resource", ["-r", "r1", "--force-start"], env).code, 0);
  t.match(sh("crm_resource", ["-r", "r1", "--force-check"], env).out, /returned 0 \(ok\)/);
  t.equal(sh("crm_resource", ["-r", "r1", "--force-stop"], env).code, 0);
});

t.test("ocf-tester passes on the built test agent", async (t) => {
  const r = sh("ocf-tester", ["-n", "t1", "-o", "name=x", join(process.cwd(), "build/test/TestAgent")]);
  t.equal(r.code, 0, r.out);
  t.match(r.out, /passed all tests/);
});
