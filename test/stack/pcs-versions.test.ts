// The pcs commands the stacks generate, with the pcs of Debian 12 (0.11.5) and of Debian 13
// (0.12.0.2), and that release's Pacemaker: every stack kind is applied (`tsstor ... --apply
// --cib`, pcs -f) to one empty CIB, in an overlay of that release's cached root (test/lib/debroot.ts,
// shared with the package test) with this checkout bound at its own path. pcs must print no warning
// (0.12 warns on the forms it deprecates), the clones' meta attributes must be on the clones and the
// groups must hold their members in order (what the commands mean), and crm_verify must accept it.
import t from "tap";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseCib } from "../../cli/doctor/cib.js";
import { pcsEach } from "../../cli/pcs.js";
import { parseStack } from "../../cli/stack/file.js";
import { bundledPlan } from "../../cli/stack/kinds.js";
import { parseCibConfig, planConfig, type Constraint } from "../../cli/status/config.js";
import { BUILD, scratchDir } from "../lib/harness.js";
import { REPO } from "../lib/xml.js";
import { debRoot, DEB_TEST_PKGS, inRootArgv } from "../lib/debroot.js";

// the roots test/packaging/deb.test.ts uses (the same package list: one cache), built if missing
const PLATFORMS = [
  { name: "Debian 12", pcs: "0.11.5", root: () => debRoot("pkgtest", "bookworm", DEB_TEST_PKGS) },
  { name: "Debian 13", pcs: "0.12.0.2", root: () => debRoot("pkgtest", "trixie", DEB_TEST_PKGS) },
];

// every kind, each as small as covers its commands: promotable DRBD, interleaved clones, groups,
// colocations with roles, Optional orders, a cluster property
const FAILOVER = `kind: failover
name: fo
fencing:
  method: none
drbd:
  - resource: config
  - resource: target
ips:
  - address: 10.11.55.50/8
services:
  - agent: ocf:pacemaker:Dummy
`;
const BUNDLED: Array<["iscsi" | "gfs2" | "san" | "drbd-fs", Record<string, string | string[]>]> = [
  ["iscsi", { prefix: "iscsi", "drbd-resource": "r0", iqn: "iqn.2026-12.org.example:t1", lun: ["0:/dev/drbd0"], ip: ["192.0.2.10/24"], implementation: "lio-t", initiator: ["iqn.2026-12.org.example:c1"] }],
  ["gfs2", { prefix: "gfs2", fs: ["vg1/lv1:/srv/a"] }],
  ["san", { prefix: "san", target: "iqn.2001-05.com.example:array", portal: ["10.20.0.10:3260"], "vm-vg": ["vg_vms"] }],
  ["drbd-fs", { prefix: "drbdfs", "drbd-resource": "r1", device: "/dev/drbd1", directory: "/srv/fs", fstype: "ext4", ip: "192.0.2.5/24", service: "ocf:pacemaker:Dummy" }],
];
const argv = (a: Record<string, string | string[]>) => Object.entries(a).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).flatMap((x) => [`--${k}`, x]));
const plans = [...BUNDLED.map(([kind, a]) => bundledPlan(kind, { ...a, fencing: "none" })), parseStack(FAILOVER, "fo.yaml").plan];
const commands = plans.flatMap((p) => p.commands);
// and, for the forms alone, every example stack file (fencing none: sbd reads this node's corosync.conf)
const examples = readdirSync(join(REPO, "examples")).filter((f) => f.endsWith(".yaml")).map((f) => parseStack(readFileSync(join(REPO, "examples", f), "utf8").replace(/^fencing:\n(?: {2}.*\n)+/m, "fencing:\n  method: none\n"), f).plan);

t.test("the generated commands use only the forms that mean the same on pcs 0.11 and 0.12", async (t) => {
  for (const c of [...commands, ...examples.flatMap((p) => p.commands)]) {
    const line = c.join(" ");
    t.notOk(c.includes("--group"), `no --group (0.12: deprecated): ${line}`);
    t.notOk(c.includes("INFINITY") || c.includes("-INFINITY"), `no bare score (0.12: deprecated): ${line}`);
    const k = c.findIndex((w) => w === "clone" || w === "promotable");
    if (c[0] === "resource" && c[1] === "create" && k >= 0) t.equal(k, c.length - 1, `nothing after ${c[k]} (0.12 warns on options there, and "meta" there means the primitive): ${line}`);
  }
  t.ok(commands.some((c) => c[0] === "resource" && c[1] === "meta"), "clone meta attributes by resource meta");
  t.ok(commands.some((c) => c[0] === "resource" && c[1] === "group" && c[2] === "add"), "groups by resource group add");
});

t.test("--apply passes pcs's warnings on, pcs 0.12's deprecation warnings included", async (t) => {
  const dir = scratchDir("pcs-warn");
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fake = join(dir, "pcs");
  writeFileSync(fake, "#!/bin/sh\necho 'Deprecation Warning: a' >&2\necho 'Warning: b' >&2\necho 'Adding c' >&2\n", { mode: 0o755 });
  const seen: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((s: string) => (seen.push(String(s)), true)) as typeof process.stderr.write;
  try {
    pcsEach(fake, join(dir, "cib.xml"), [["resource", "create", "x"]]);
  } finally {
    process.stderr.write = write;
  }
  t.same(seen, ["pcs: Deprecation Warning: a\n", "pcs: Warning: b\n"]);
});

// run in each root, the checkout and the scratch directory bound at their own paths: each stack
// applied by the built tsstor to its own empty CIB (smaller CIBs: each pcs call is faster) with a
// fence device (stonith stays enabled: the GFS2 monitors fence), its stderr kept, then crm_verify
const KINDS = [...BUNDLED.map(([k]) => k), "failover"];
const inner = (dir: string) => `set -u
cd ${dir}
mkdir -p /usr/lib/ocf/resource.d/tsstor
for a in ${BUILD}/agents/*; do ln -sf "$a" /usr/lib/ocf/resource.d/tsstor/; done
# pcs 0.12 looks for systemctl to know the init system (a node has it, a minbase root not) and
# warns "Unable to detect init system" on property set without it: systemd without sbd running
[ -e /bin/systemctl ] || ln -s /bin/false /bin/systemctl
pcs --version > pcs-version
apply() {
  kind=$1; shift
  cibadmin --empty > $kind.xml
  CIB_file=$kind.xml cibadmin --create -o resources --xml-text '<primitive id="fence-test" class="stonith" type="fence_dummy"/>'
  ${BUILD}/tsstor stack "$@" --quiet --cib $kind.xml 2> $kind.err; echo $? > $kind.rc
  crm_verify -x $kind.xml > $kind.verify 2>&1; echo $? >> $kind.rc
}
${BUNDLED.map(([kind, a]) => `apply ${kind} ${kind} ${argv(a).map((x) => `'${x}'`).join(" ")} --fencing none --apply`).join("\n")}
apply failover apply fo.yaml
`;

function inRoot(root: string, dir: string): Promise<{ code: number; out: string }> {
  writeFileSync(join(dir, "fo.yaml"), FAILOVER);
  writeFileSync(join(dir, "inner.sh"), inner(dir));
  // a private mount namespace: the mounts go away with the process, nothing shows on the host
  const [cmd, ...args] = [...inRootArgv(root, [REPO, dir]), "env", "-i", "LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "sh", `${dir}/inner.sh`];
  return new Promise((resolve) => {
    const p = spawn(cmd!, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => p.kill("SIGKILL"), 300_000);
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, out });
    });
  });
}

const key = (c: Constraint) => (c.kind === "colocation" ? `colocation ${c.rscRole} ${c.rsc} with ${c.withRole} ${c.with} ${c.score}` : `order ${c.firstAction} ${c.first} then ${c.thenAction} ${c.then} ${c.strength}`);

// both releases at once: pcs costs ~0.5-1 s a command, and the two roots share nothing
const runs = PLATFORMS.map((p) => {
  const dir = scratchDir("pcs-versions");
  return { p, dir, run: inRoot(p.root(), dir) };
});
t.teardown(() => {
  for (const r of runs) if (r.dir) rmSync(r.dir, { recursive: true, force: true });
});

for (const { p, dir, run } of runs)
  t.test(`${p.name}: every stack kind applied with pcs ${p.pcs}, no warning, the meaning as written`, async (t) => {
    const r = await run;
    t.equal(r.code, 0, `the root ran the script: ${r.out.slice(-2000)}`);
    const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), "utf8") : "");
    t.equal(read("pcs-version").trim(), p.pcs, `${p.name}'s pcs`);
    for (const kind of KINDS) {
      const err = read(`${kind}.err`);
      const [applied, verified] = read(`${kind}.rc`).split("\n");
      t.equal(applied, "0", `${kind}: applied: ${err.slice(-1500)}`);
      // tsstor passes every pcs "Warning:" and "Deprecation Warning:" line on, as "pcs: ..."
      t.same(err.split("\n").filter((l) => /warn/i.test(l)), [], `${kind}: no warning from pcs ${p.pcs}`);
      t.equal(verified, "0", `${kind}: crm_verify -x accepts the CIB: ${read(`${kind}.verify`)}`);
    }
    const xmls = KINDS.map((k) => read(`${k}.xml`));
    const cibs = xmls.map(parseCib);
    const clones = cibs.flatMap((c) => c.clones);
    const cibGroups = cibs.flatMap((c) => c.groups);
    // every clone the commands create, each with the stacks' meta attributes on the clone itself
    // (Pacemaker reads clone options only there) and none of them on its primitive
    const made = commands.filter((c) => c[0] === "resource" && c[1] === "create" && (c.includes("clone") || c.includes("promotable")));
    t.same(clones.map((c) => c.id).sort(), made.map((c) => `${c[2]}-clone`).sort(), `the clones: ${made.length}`);
    for (const c of clones) {
      const want: Record<string, string> = c.promotable ? { "promoted-max": "1", "promoted-node-max": "1", "clone-max": "2", "clone-node-max": "1", notify: "true" } : { interleave: "true" };
      t.same(Object.fromEntries(Object.keys(want).map((k) => [k, c.meta[k]])), want, `${c.id}${c.promotable ? " (promotable)" : ""}: ${Object.entries(want).map(([k, v]) => `${k}=${v}`).join(" ")} on the clone`);
      t.same(Object.keys(c.primitives[0]?.meta ?? {}).filter((k) => k in want || k === "promotable"), [], `${c.id}: none on its primitive ${c.primitives[0]?.id}`);
    }
    t.equal(made.filter((c) => c.includes("promotable")).length, clones.filter((c) => c.promotable).length, "the promotable ones promotable");
    const groups = new Map<string, string[]>();
    for (const c of commands) if (c[0] === "resource" && c[1] === "group" && c[2] === "add") groups.set(c[3]!, [...(groups.get(c[3]!) ?? []), ...c.slice(4)]);
    t.ok(groups.size >= 2, `groups: ${[...groups.keys()].join(", ")}`);
    for (const [g, members] of groups) t.same(cibGroups.find((x) => x.id === g)?.members.map((x) => x.id), members, `group ${g}: ${members.join(", ")}, in this order`);
    // every colocation (roles, score) and order as planned
    const have = new Set(xmls.flatMap((x) => parseCibConfig(x).constraints.map(key)));
    const want = planConfig(commands).constraints.map(key);
    t.same(want.filter((k) => !have.has(k)), [], `all ${want.length} constraints in the CIB as planned`);
    t.match(read("gfs2.xml"), /name="no-quorum-policy" value="freeze"/, "the property");
  });
