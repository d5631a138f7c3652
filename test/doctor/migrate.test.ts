// Migration from ocf:heartbeat / ocf:linbit to ocf:tsstor: the per-resource cibadmin fix and the
// --migrate-script transaction change only the agents (parameters, operations, meta attributes
// and constraints byte-for-byte the same), refuse configurations ocf:tsstor would reject, and
// crm_simulate confirms what the text warns: Pacemaker restarts a resource whose agent changes.
import t from "tap";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { scratchDir } from "../lib/harness.js";
import { CLI, HOWTO_DRBD_ISCSI, buildCib, doctor, find, nodeRoot } from "./lib.js";

const tmp = scratchDir("doctor-migrate");
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

const cib = buildCib(join(tmp, "upstream.xml"), [
  ["property", "set", "stonith-enabled=false"],
  ...HOWTO_DRBD_ISCSI,
  ["resource", "create", "p_clvmd", "ocf:heartbeat:clvm", "with_cmirrord=true", "clone", "interleave=true"],
  ["resource", "create", "p_lockd", "ocf:heartbeat:lvmlockd", "pidfile=/var/run/my-lvmlockd.pid", "clone", "interleave=true"],
  ["resource", "create", "p_iet", "ocf:heartbeat:iSCSITarget", "implementation=iet", "iqn=iqn.2003-01.org.example:iet", "--force"],
]);
const root = nodeRoot(join(tmp, "root"));

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", isArray: (n) => ["primitive", "nvpair", "op", "clone", "group"].includes(n) });
type X = Record<string, any>;
/** Every primitive: agent, and everything else about it (params, ops, meta) as JSON. */
function primitives(xml: string): Map<string, { agent: string; rest: string }> {
  const out = new Map<string, { agent: string; rest: string }>();
  const walk = (o: unknown) => {
    if (Array.isArray(o)) return o.forEach(walk);
    if (!o || typeof o !== "object") return;
    const x = o as X;
    for (const p of (x.primitive ?? []) as X[]) {
      const { class: c, provider, type, ...rest } = p;
      out.set(p.id, { agent: `${c}:${provider}:${type}`, rest: JSON.stringify(rest) });
    }
    for (const [k, v] of Object.entries(x)) if (k !== "primitive") walk(v);
  };
  walk(parser.parse(xml).cib.configuration.resources);
  return out;
}
const constraints = (xml: string) => /<constraints>[\s\S]*<\/constraints>/.exec(xml)?.[0] ?? "";

t.test("the findings: one cibadmin command per resource, blocked configurations said why", async (t) => {
  const d = doctor(["-f", cib, "--root", root]);
  const m = find(d.report, "migrate-to-tsstor");
  t.same(
    m.map((f) => f.subject),
    ["resource p_DRBD", "resource p_iSCSITarget", "resource p_iSCSI_lun1", "resource ClusterIP", "resource p_clvmd"],
  );
  t.same(find(d.report, "migrate-to-tsstor")[3]!.fix, [`cibadmin --modify --xml-text '<primitive id="ClusterIP" class="ocf" provider="tsstor" type="IPaddr2"/>'`]);
  t.same(m[4]!.fix, [
    `cibadmin --modify --xml-text '<primitive id="p_clvmd" class="ocf" provider="tsstor" type="clvm"><instance_attributes id="p_clvmd-instance_attributes"><nvpair id="p_clvmd-instance_attributes-lock_type" name="lock_type" value="clvmd"/></instance_attributes></primitive>'`,
  ]);
  t.match(m[0]!.reason, /Pacemaker restarts the resource when its agent changes/);
  const b = find(d.report, "migrate-blocked");
  t.same(b.map((f) => f.subject), ["resource p_lockd", "resource p_iet"]);
  t.match(b[0]!.message, /non-default pidfile/);
  t.match(b[1]!.message, /implementation=iet/);

  // the fix command itself, on a copy of the CIB
  const copy = join(tmp, "one.xml");
  copyFileSync(cib, copy);
  const xml = /--xml-text '(.*)'$/.exec(m[4]!.fix[0]!)![1]!;
  const r = spawnSync("cibadmin", ["--modify", "--xml-text", xml], { encoding: "utf8", env: { ...process.env, CIB_file: copy } });
  t.equal(r.status, 0, r.stderr);
  const after = primitives(readFileSync(copy, "utf8")).get("p_clvmd")!;
  t.equal(after.agent, "ocf:tsstor:clvm");
  t.match(after.rest, /"name":"with_cmirrord","value":"true"/, "existing parameters kept");
  t.match(after.rest, /"name":"lock_type","value":"clvmd"/, "heartbeat clvm is lock_type=clvmd");
});

// a pcs that only moves the CIB in and out, and OCF_ROOT with the tsstor agents "installed"
const bin = join(tmp, "bin");
const ocf = join(tmp, "ocf");
mkdirSync(bin);
mkdirSync(join(ocf, "resource.d/tsstor"), { recursive: true });
for (const a of ["drbd", "iSCSITarget", "iSCSILogicalUnit", "IPaddr2", "clvm"]) {
  writeFileSync(join(ocf, "resource.d/tsstor", a), "#!/bin/sh\n");
  chmodSync(join(ocf, "resource.d/tsstor", a), 0o755);
}
writeFileSync(
  join(bin, "pcs"),
  `#!/bin/bash
echo "$*" >> "$PCS_LOG"
case "$1 $2" in
  "cluster cib") cp "$SRC_CIB" "$3" ;;
  "cluster cib-push") cp "$3" "$OUT_CIB" ;;
  *) echo "unexpected pcs $*" >&2; exit 1 ;;
esac
`,
);
chmodSync(join(bin, "pcs"), 0o755);

function runScript(script: string, src: string, out: string, extraEnv: Record<string, string> = {}) {
  const log = join(tmp, `pcs-${Date.now()}.log`);
  const r = spawnSync("bash", ["-c", script], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, OCF_ROOT: ocf, SRC_CIB: src, OUT_CIB: out, PCS_LOG: log, ...extraEnv },
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}`, pcs: existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [] };
}

t.test("--migrate-script: one transaction, only the agents change", async (t) => {
  const script = spawnSync(CLI, ["doctor", "-f", cib, "--root", root, "--migrate-script"], { encoding: "utf8" });
  t.equal(script.status, 0, script.stderr);
  t.match(script.stdout, /^#!\/bin\/bash\n# tsstor doctor --migrate-script: 5 resource\(s\) to ocf:tsstor agents\n/);
  t.match(script.stdout, /#   p_lockd: stays on ocf:heartbeat:lvmlockd: a non-default pidfile/);
  t.match(script.stdout, /restarts each migrated resource/);
  t.equal(spawnSync("bash", ["-n"], { input: script.stdout }).status, 0, "bash -n");

  const out = join(tmp, "migrated.xml");
  const r = runScript(script.stdout, cib, out);
  t.equal(r.code, 0, r.out);
  t.same(r.pcs.map((l) => l.split(" ").slice(0, 2).join(" ")), ["cluster cib", "cluster cib-push"], "pcs cluster cib, then one cib-push");
  t.match(r.pcs[1], /diff-against=/);
  const before = primitives(readFileSync(cib, "utf8"));
  const after = primitives(readFileSync(out, "utf8"));
  const expect: Record<string, string> = {
    p_DRBD: "ocf:tsstor:drbd",
    p_iSCSITarget: "ocf:tsstor:iSCSITarget",
    p_iSCSI_lun1: "ocf:tsstor:iSCSILogicalUnit",
    ClusterIP: "ocf:tsstor:IPaddr2",
    p_clvmd: "ocf:tsstor:clvm",
    p_lockd: "ocf:heartbeat:lvmlockd",
    p_iet: "ocf:heartbeat:iSCSITarget",
  };
  for (const [id, agent] of Object.entries(expect)) {
    t.equal(after.get(id)?.agent, agent, `${id}: ${agent}`);
    if (id !== "p_clvmd") t.equal(after.get(id)?.rest, before.get(id)?.rest, `${id}: parameters, operations, meta unchanged`);
  }
  t.equal(constraints(readFileSync(out, "utf8")), constraints(readFileSync(cib, "utf8")), "constraints unchanged");
  const v = spawnSync("crm_verify", ["--xml-file", out], { encoding: "utf8" });
  t.notMatch(`${v.stdout}${v.stderr}`, /Invalid|not valid|schema/i, "the result is a valid CIB");

  // an agent missing on this node: the script stops before touching the CIB
  rmSync(join(ocf, "resource.d/tsstor/clvm"));
  const miss = runScript(script.stdout, cib, join(tmp, "never.xml"));
  t.not(miss.code, 0);
  t.match(miss.out, /ocf:tsstor:clvm is not installed here/);
  t.same(miss.pcs, [], "pcs never ran");
  writeFileSync(join(ocf, "resource.d/tsstor/clvm"), "#!/bin/sh\n");
  chmodSync(join(ocf, "resource.d/tsstor/clvm"), 0o755);
});

t.test("crm_simulate: changing the agent restarts the running resource (what the finding warns)", async (t) => {
  // run the upstream configuration: both nodes up, resources started
  const running = join(tmp, "running.xml");
  const s1 = spawnSync("crm_simulate", ["-S", "-x", cib, "--node-up", "n1", "--node-up", "n2", "--quorum", "1", "-O", running], { encoding: "utf8" });
  t.equal(s1.status, 0, s1.stderr);
  const st = spawnSync("crm_simulate", ["-S", "-x", running], { encoding: "utf8" });
  t.match(st.stdout, /ClusterIP\s+\(ocf:heartbeat:IPaddr2\):\s+Started n\d/);
  const script = spawnSync(CLI, ["doctor", "-f", running, "--root", root, "--migrate-script"], { encoding: "utf8" }).stdout;
  const out = join(tmp, "running-migrated.xml");
  t.equal(runScript(script, running, out).code, 0);
  const sim = spawnSync("crm_simulate", ["-S", "-x", out], { encoding: "utf8" });
  const summary = /Transition Summary:\n([\s\S]*?)\n\n/.exec(sim.stdout)?.[1] ?? "";
  t.match(summary, /Restart\s+ClusterIP\b/, "ClusterIP restarts");
  t.match(summary, /Restart\s+p_DRBD:0\b/, "each DRBD instance restarts");
  t.notMatch(summary, /p_lockd/, "a resource left on its agent does not move");
});
