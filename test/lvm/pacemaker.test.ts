// Pacemaker's own tools on the cluster LVM agents: crm_resource metadata and --validate (good and
// bad, level 0 outside and level 10 inside a test node), pcs -f building the GFS2 stack
// (controld clone -> clvm clone -> LVM-activate shared clone, ordered and colocated), and
// crm_simulate starting it on two nodes in that order.
import t from "tap";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { installAgents, sh } from "../lib/install.js";
import { scratchDir } from "../lib/harness.js";
import { World } from "./world.js";

installAgents(["clvm", "lvmlockd", "LVM-activate"]);
const tmp = scratchDir("lvm-pcmk");
const cib = join(tmp, "cib.xml");
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

t.test("crm_resource --show-metadata and --list-agents", async (t) => {
  for (const a of ["clvm", "lvmlockd", "LVM-activate"]) {
    const r = sh("crm_resource", ["--show-metadata", `ocf:tsstor:${a}`]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, new RegExp(`<resource-agent name="${a}"`));
  }
  t.match(sh("crm_resource", ["--list-agents", "ocf:tsstor"]).stdout, /LVM-activate[\s\S]*clvm[\s\S]*lvmlockd|clvm/);
});

t.test("crm_resource --validate: good and bad", async (t) => {
  const v = (agent: string, opts: string[]) => sh("crm_resource", ["--validate", "--class", "ocf", "--provider", "tsstor", "--agent", agent, "--output-as=xml", ...opts.flatMap((o) => ["--option", o])]);
  const ok = v("LVM-activate", ["vgname=vgshared", "lvname=lv1", "vg_access_mode=lvmlockd", "activation_mode=shared"]);
  t.equal(ok.code, 0, ok.out);
  t.match(ok.stdout, /<agent-status code="0"/);
  const bad = v("LVM-activate", ["vgname=vgshared", "vg_access_mode=cluster"]);
  t.equal(bad.code, 6);
  t.match(bad.stdout, /reason="parameter vg_access_mode must be one of lvmlockd, clvmd, system_id, tagging; got &quot;cluster&quot;"/);
  const bad2 = v("LVM-activate", ["vgname=vgshared", "vg_access_mode=system_id", "activation_mode=shared"]);
  t.equal(bad2.code, 6);
  t.match(bad2.stdout, /activation_mode=shared needs vg_access_mode=lvmlockd/);
  t.equal(v("clvm", ["lock_type=sanlock", "host_id=3", "activate_vgs=vgshared"]).code, 0);
  const bad3 = v("clvm", ["lock_type=dlm", "pidfile=/var/run/x.pid"]);
  t.equal(bad3.code, 6);
  t.match(bad3.stdout, /pidfile=\/var\/run\/x.pid: LVM commands find lvmlockd only through \/run\/lvmlockd.pid/);
  t.equal(v("lvmlockd", ["adopt=1", "syslog_priority=err"]).code, 0, "heartbeat lvmlockd parameters");
});

t.test("crm_resource --validate=10 inside a test node: exact local problems", async (t) => {
  const w = await new World("pcmk").start();
  t.teardown(() => w.stop());
  w.addVg("vgshared", "dlm", ["lv1"]);
  w.daemon("dlm_controld");
  const v10 = (agent: string, opts: string[]) => w.sh("crm_resource", ["--validate=10", "--class", "ocf", "--provider", "tsstor", "--agent", agent, "--output-as=xml", ...opts.flatMap((o) => ["--option", o])]);
  const ok = v10("clvm", ["activate_vgs=vgshared"]);
  t.equal(ok.code, 0, ok.stdout + ok.stderr);
  w.conf("global {\n\tuse_lvmlockd = 0\n}\n");
  const bad = v10("clvm", ["activate_vgs=vgshared"]);
  t.equal(bad.code, 6);
  t.match(bad.stdout, /ocf-exit-reason:global\/use_lvmlockd = 0 \(.*lvm.conf line 2\): lvmlockd needs 1 \(fix it, or set update_lvm_conf=true\)/);
  w.conf("global {\n\tuse_lvmlockd = 1\n}\n");
  t.equal(w.run(join(process.cwd(), "build/agents/clvm"), "start", {}).code, 0);
  const lv = v10("LVM-activate", ["vgname=vgshared", "lvname=lv1", "vg_access_mode=lvmlockd"]);
  t.equal(lv.code, 0, lv.stdout + lv.stderr);
  const nolv = v10("LVM-activate", ["vgname=vgshared", "lvname=nope", "vg_access_mode=lvmlockd"]);
  t.equal(nolv.code, 6);
  t.match(nolv.stdout, /ocf-exit-reason:logical volume nope is not in volume group vgshared/);
  const sh1 = v10("LVM-activate", ["vgname=vgshared", "lvname=lv1", "vg_access_mode=lvmlockd", "activation_mode=shared"]);
  t.equal(sh1.code, 6, "shared outside a clone at level 10");
  t.equal(w.run(join(process.cwd(), "build/agents/clvm"), "stop", {}).code, 0);
});

t.test("pcs -f: the GFS2 stack pieces, and crm_simulate starts them in order on two nodes", async (t) => {
  const pcs = (...a: string[]) => sh("pcs", ["-f", cib, ...a]);
  t.equal(sh("bash", ["-c", `cibadmin --empty > ${cib}`]).code, 0);
  t.equal(pcs("property", "set", "stonith-enabled=false").code, 0);
  let r = pcs("resource", "create", "dlm", "ocf:pacemaker:controld", "op", "monitor", "interval=30s", "on-fail=fence", "clone", "interleave=true", "ordered=true");
  t.equal(r.code, 0, r.out);
  r = pcs("resource", "create", "lvmlockd", "ocf:tsstor:clvm", "lock_type=dlm", "activate_vgs=vgshared", "op", "monitor", "interval=30s", "on-fail=fence", "clone", "interleave=true", "ordered=true");
  t.equal(r.code, 0, r.out);
  r = pcs("resource", "create", "sharedlv", "ocf:tsstor:LVM-activate", "vgname=vgshared", "lvname=lv1", "vg_access_mode=lvmlockd", "activation_mode=shared", "clone", "interleave=true");
  t.equal(r.code, 0, r.out);
  r = pcs("resource", "create", "excllv", "ocf:tsstor:LVM-activate", "vgname=vgshared", "lvname=lv2", "vg_access_mode=lvmlockd");
  t.equal(r.code, 0, r.out);
  for (const [a, b] of [["dlm-clone", "lvmlockd-clone"], ["lvmlockd-clone", "sharedlv-clone"], ["lvmlockd-clone", "excllv"]]) {
    t.equal(pcs("constraint", "order", "start", a!, "then", b!).code, 0);
    t.equal(pcs("constraint", "colocation", "add", b!, "with", a!).code, 0);
  }
  const unknown = pcs("resource", "create", "x", "ocf:tsstor:LVM-activate", "vgname=v", "vg_access_mode=lvmlockd", "volgrpname=v");
  t.not(unknown.code, 0);
  t.match(unknown.stderr, /invalid resource option 'volgrpname'/);
  const missing = pcs("resource", "create", "y", "ocf:tsstor:LVM-activate", "vgname=v");
  t.not(missing.code, 0);
  t.match(missing.stderr, /required resource option 'vg_access_mode' is missing/);
  t.match(sh("pcs", ["resource", "describe", "ocf:tsstor:clvm"]).stdout, /activate_vgs/);

  const outXml = join(tmp, "out.xml");
  const sim = sh("crm_simulate", ["-x", cib, "-S", "-q", "1", "-u", "tsl-n1", "-u", "tsl-n2", "-O", outXml]);
  t.equal(sim.code, 0, sim.out);
  const lines = sim.stdout.split("\n");
  const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
  const dlmStart = at(/Resource action: +dlm:\d +start on tsl-n1/);
  const lockdStart = at(/Resource action: +lvmlockd:\d +start on tsl-n1/);
  const lvStart = at(/Resource action: +sharedlv:\d +start on tsl-n1/);
  t.ok(dlmStart >= 0 && lockdStart > dlmStart && lvStart > lockdStart, `dlm -> lvmlockd -> sharedlv on tsl-n1:\n${sim.stdout}`);
  t.match(sim.stdout, /sharedlv.*start on tsl-n2/, "the shared LV clone runs on both nodes");
  t.equal((sim.stdout.match(/excllv +start on/g) ?? []).length, 1, "the exclusive LV once");
});
