// ocf:tsstor:drbd through Pacemaker's own tools, no cluster: crm_resource metadata and
// --validate (clone/notify checks only from level 10), pcs -f creating the promotable clone as the
// seed article does, and ocf-tester on the DRBD simulator.
import t from "tap";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { installAgents, sh } from "../lib/install.js";
import { agentPath } from "../lib/harness.js";
import { checkRng, REPO } from "../lib/xml.js";
import { makeSim } from "./sim.js";

installAgents(["drbd"]);
const sim = makeSim({ prefix: "drbdpcmk", minor: 11 });
const env = sim.env("alpha");
// The OCF 1.1 RNG lives beside the main checkout (../shared); from a worktree one level deeper.
const RNG = [resolve(REPO, "../shared/schemas/ocf-ra-api-1.1.rng"), resolve(REPO, "../../shared/schemas/ocf-ra-api-1.1.rng")].find(existsSync);

t.test("crm_resource --show-metadata: OCF 1.1 with Promoted/Unpromoted monitors", async (t) => {
  const r = sh("crm_resource", ["--show-metadata", "ocf:tsstor:drbd"]);
  t.equal(r.code, 0, r.stderr);
  if (RNG) t.ok(checkRng(r.stdout, RNG).ok, checkRng(r.stdout, RNG).out);
  t.match(r.stdout, /<action name="monitor" timeout="20s" interval="20s" role="Unpromoted"\/>/);
  t.match(r.stdout, /<action name="monitor" timeout="20s" interval="10s" role="Promoted"\/>/);
  const upstream = sh("crm_resource", ["--show-metadata", "ocf:linbit:drbd"]).stdout;
  const names = (x: string) => [...x.matchAll(/<parameter name="([^"]+)"/g)].map((m) => m[1]);
  const ours = names(r.stdout);
  for (const n of names(upstream)) t.ok(ours.includes(n), `upstream parameter ${n} exists`);
  const defaults = (x: string) => Object.fromEntries([...x.matchAll(/<parameter name="([^"]+)"[\s\S]*?<content type="[^"]+"(?: default="([^"]*)")?/g)].map((m) => [m[1], m[2]]));
  const ud = defaults(upstream);
  const od = defaults(r.stdout);
  for (const n of ["drbdconf", "adjust_master_score", "stop_outdates_secondary", "ignore_missing_notifications", "wfc_timeout", "remove_master_score_if_peer_primary", "unfence_extra_args", "require_drbd_module_version_ge", "require_drbd_module_version_lt"]) {
    t.equal(od[n], ud[n], `default of ${n}`);
  }
});

t.test("crm_resource --validate: level 0 needs no clone meta and touches nothing; level 10 checks it", async (t) => {
  const base = ["--class", "ocf", "--provider", "tsstor", "--agent", "drbd"];
  const ok = sh("crm_resource", ["--validate", ...base, "--option", "drbd_resource=r0"], env);
  t.equal(ok.code, 0, ok.out);
  t.match(ok.out, /returned 0 \(ok\)/);
  const noconf = sh("crm_resource", ["--validate", ...base, "--option", "drbd_resource=r0", "--option", "drbdconf=/nonexistent.conf"], env);
  t.equal(noconf.code, 0, "level 0 does not read the configuration (pcs#656)");
  const bad = sh("crm_resource", ["--validate", ...base, "--option", "drbd_resource=r0;reboot", "--output-as=xml"], env);
  t.equal(bad.code, 6);
  t.match(bad.stdout, /ocf-exit-reason:parameter drbd_resource must only contain \[-%\+\.\/0-9:=@A-Z_a-z\]/);
  const badAdj = sh("crm_resource", ["--validate", ...base, "--option", "drbd_resource=r0", "--option", "adjust_master_score=0 10 1000"], env);
  t.equal(badAdj.code, 6);
  const l10 = sh("crm_resource", ["--validate=10", ...base, "--option", "drbd_resource=r0", "--option", `drbdconf=${sim.conf}`, "--output-as=xml"], env);
  t.equal(l10.code, 6, "level 10 without notify meta");
  t.match(l10.stdout, /notify must be enabled/);
  const l10ok = sh("crm_resource", ["--validate=10", ...base, "--option", "drbd_resource=r0", "--option", `drbdconf=${sim.conf}`, "--option", "ignore_missing_notifications=true"], env);
  t.equal(l10ok.code, 0, l10ok.out);
  const l10missing = sh("crm_resource", ["--validate=10", ...base, "--option", "drbd_resource=r5", "--option", `drbdconf=${sim.conf}`, "--option", "ignore_missing_notifications=true"], env);
  t.equal(l10missing.code, 5, "resource not in this node's configuration");
});

t.test("pcs -f: promotable clone with notify=true, as the published article creates it", async (t) => {
  const cib = join(sim.dir, "cib.xml");
  t.equal(sh("bash", ["-c", `cibadmin --empty > ${cib}`]).code, 0);
  const c = sh("pcs", ["-f", cib, "resource", "create", "p_DRBD", "ocf:tsstor:drbd", "drbd_resource=iscsi_data", "op", "monitor", "interval=29s", "role=Promoted", "op", "monitor", "interval=31s", "role=Unpromoted"]);
  t.equal(c.code, 0, c.out);
  const p = sh("pcs", ["-f", cib, "resource", "promotable", "p_DRBD", "promoted-max=1", "promoted-node-max=1", "clone-max=2", "clone-node-max=1", "notify=true"]);
  t.equal(p.code, 0, p.out);
  const one = sh("pcs", ["-f", cib, "resource", "create", "p_r1", "ocf:tsstor:drbd", "drbd_resource=r1", "--agent-validation", "promotable", "notify=true"], env);
  t.equal(one.code, 0, `one step, with pcs running validate-all: ${one.out}`);
  const xml = readFileSync(cib, "utf8");
  t.match(xml, /<clone id="p_DRBD-clone">/);
  t.match(xml, /name="promotable" value="true"/);
  t.match(xml, /name="notify" value="true"/);
  t.match(xml, /<op name="monitor" interval="29s" role="Promoted"/);
  t.match(xml, /<clone id="p_r1-clone">/);
  const unknown = sh("pcs", ["-f", cib, "resource", "create", "p_x", "ocf:tsstor:drbd", "drbd_resource=x", "drbd_volume=y"]);
  t.not(unknown.code, 0);
  t.match(unknown.stderr, /invalid resource option 'drbd_volume'/);
  const missing = sh("pcs", ["-f", cib, "resource", "create", "p_y", "ocf:tsstor:drbd"]);
  t.not(missing.code, 0);
  t.match(missing.stderr, /'drbd_resource'/);
  const dup = sh("pcs", ["-f", cib, "resource", "create", "p_z", "ocf:tsstor:drbd", "drbd_resource=iscsi_data"]);
  t.not(dup.code, 0, "drbd_resource is unique");
  sh("pcs", ["-f", cib, "property", "set", "stonith-enabled=false"]);
  const v = sh("crm_verify", ["-x", cib]);
  t.equal(v.code, 0, `crm_verify accepts the CIB: ${v.out}`);
});

t.test("ocf-tester on the simulator", async (t) => {
  const r = sh("ocf-tester", ["-v", "-n", "p_drbd", "-o", "drbd_resource=r0", "-o", `drbdconf=${sim.conf}`, "-o", "ignore_missing_notifications=true", "-o", "wfc_timeout=0", agentPath("drbd")], env);
  t.equal(r.code, 0, r.out);
  t.match(r.out, /passed all tests/);
  t.match(r.out, /Testing: promotion of promoted resource/);
  t.match(r.out, /Testing: demotion of demoted resource/);
});
