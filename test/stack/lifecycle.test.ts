// A stack's life on a CIB file, through the built `tsstor` and the real pcs, cibadmin,
// crm_verify and crm_simulate: apply is idempotent, a changed file changes only what changed,
// runtime settings (disable, a move) survive an apply, add-lun/remove-lun edit the file only when
// the CIB took the change, delete removes that stack and nothing else, and a LUN an initiator is
// logged in to (a real session to a real tgtd) is not removed unless forced.
import t from "tap";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { configFacts } from "../../cli/stack/lifecycle.js";
import { parseStack } from "../../cli/stack/file.js";
import { pcsEach } from "../../cli/pcs.js";
import { scratchDir } from "../lib/harness.js";
import { installAgents } from "../lib/install.js";
import { REPO } from "../lib/xml.js";
import { TgtRig, sleep } from "../iscsi/rig.js";
import { cli } from "./fake-pcs.js";
import { nodesUp, property, simulate } from "./simulate.js";

const tmp = scratchDir("stacklife");
installAgents();
const unfenced = (text: string) => text.replace(/^fencing:\n(?: {2}.*\n)+/m, "fencing:\n  method: none\n");
const example = (f: string) => unfenced(readFileSync(join(REPO, "examples", f), "utf8"));

function freshCib(name: string): string {
  const cib = join(tmp, `${name}.xml`);
  writeFileSync(cib, spawnSync("cibadmin", ["--empty"]).stdout);
  property(cib, "stonith-enabled", "false");
  const up = join(tmp, `${name}-up.xml`);
  nodesUp(cib, up, ["n1", "n2"]);
  return up;
}
const pcs = (cib: string, ...args: string[]) => {
  const r = spawnSync("pcs", ["-f", cib, ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`pcs ${args.join(" ")}: ${r.stderr}`);
};
/** the change as shown, without crm_simulate's part */
const changeLines = (out: string) => out.split("\n").filter((l) => /^[+~-] /.test(l) || /^ {4}/.test(l));
/** the stack's facts (elements whose ids start with its name) */
const factsOf = (cib: string, prefix: string) => [...configFacts(readFileSync(cib, "utf8"))].filter(([k]) => k.includes(`#${prefix}-`) || k.includes(`#tsstor-${prefix}`)).map(([k, v]) => `${k}=${v}`).sort();

t.test("apply, apply again, change, runtime settings, delete: two stacks in one CIB", async (t) => {
  const cib = freshCib("two");
  const a = join(tmp, "storage.yaml");
  const b = join(tmp, "app.yaml");
  writeFileSync(a, example("two-drbd-volumes-one-vip.yaml"));
  writeFileSync(b, example("exclusive-lv.yaml").replace("systemd:nginx", "ocf:pacemaker:Dummy"));

  let r = cli(["stack", "apply", a, "--cib", cib, "--quiet"]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^\+ resource storage-drbd-config \(ocf:tsstor:drbd drbd_resource=config\)$/m, "the change is shown first");
  t.match(r.stdout, /^\+ tag tsstor-storage$/m, "the stack remembers its resources in a tag");
  t.match(r.stdout, /^crm_simulate/m, "checked with crm_simulate");
  t.match(r.stderr, /pushed as one CIB change/);

  const once = readFileSync(cib, "utf8");
  r = cli(["stack", "apply", a, "--cib", cib, "--quiet"]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, "", "a second apply shows no change");
  t.match(r.stderr, /already matches; nothing to change, nothing pushed/);
  t.equal(readFileSync(cib, "utf8"), once, "and leaves the CIB byte for byte as it was");

  r = cli(["stack", "apply", b, "--cib", cib, "--quiet"]);
  t.equal(r.code, 0, r.stderr);
  t.notMatch(changeLines(r.stdout).join("\n"), /storage-/, "the second stack's apply shows only its own elements");
  t.match(r.stdout, /^\+ resource app-lvmlockd \(ocf:tsstor:clvm lock_type=sanlock\)$/m);
  const bFacts = factsOf(cib, "app");

  // a changed file: one LUN's path -> one resource changes, nothing else
  writeFileSync(a, readFileSync(a, "utf8").replace("path: /dev/drbd1", "path: /dev/drbd9"));
  r = cli(["stack", "apply", a, "--cib", cib, "--quiet", "--dry-run"]);
  t.equal(r.code, 0, r.stderr);
  const shown = changeLines(r.stdout);
  t.same(shown, ["~ resource storage-target-storage.disk.0-lun0", "    path: /dev/drbd1 -> /dev/drbd9"], "the smallest change: one parameter of one resource");
  t.match(r.stderr, /--dry-run: nothing pushed/);
  t.equal(factsOf(cib, "storage").join("\n"), factsOf(cib, "storage").join("\n"));
  t.match(readFileSync(cib, "utf8"), /value="\/dev\/drbd1"/, "--dry-run pushed nothing");
  r = cli(["stack", "apply", a, "--cib", cib, "--quiet"]);
  t.equal(r.code, 0, r.stderr);
  t.match(readFileSync(cib, "utf8"), /value="\/dev\/drbd9"/, "applied");

  // what the operator did at runtime survives an apply
  pcs(cib, "resource", "disable", "storage-ip-10.11.55.50");
  pcs(cib, "constraint", "location", "storage-group", "prefers", "n2=100");
  r = cli(["stack", "apply", a, "--cib", cib, "--quiet"]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, "", "a disabled resource and a location preference are no change to undo");
  t.match(readFileSync(cib, "utf8"), /name="target-role" value="Stopped"/, "still disabled");
  t.match(readFileSync(cib, "utf8"), /<rsc_location [^>]*rsc="storage-group"/, "the location constraint is kept");

  // add-lun: the file is written back only after the CIB took it
  const before = readFileSync(a, "utf8");
  r = cli(["stack", "add-lun", a, "--lun", "1:/dev/drbd2", "--cib", cib, "--quiet", "--dry-run"]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^\+ resource storage-target-storage\.disk\.0-lun1 \(ocf:tsstor:iSCSILogicalUnit .*lun=1 path=\/dev\/drbd2/m);
  t.equal(readFileSync(a, "utf8"), before, "--dry-run leaves the file as it was");
  r = cli(["stack", "add-lun", a, "--lun", "1:/dev/drbd2", "--cib", cib, "--quiet"]);
  t.equal(r.code, 0, r.stderr);
  t.match(readFileSync(a, "utf8"), /- lun: 1\n\s+path: \/dev\/drbd2/, "the LUN is in the file");
  t.match(readFileSync(a, "utf8"), /# both Primary on the same node/, "and the file's comments are kept");
  r = cli(["stack", "add-lun", a, "--lun", "1:/dev/drbd3", "--cib", cib, "--quiet"]);
  t.equal(r.code, 2, "the same LUN number twice is refused");
  t.match(r.stderr, /lun number: "1" given twice|luns number: "1" given twice/);
  r = cli(["stack", "remove-lun", a, "--lun", "1", "--cib", cib, "--quiet"]);
  t.equal(r.code, 0, `a LUN running nowhere goes: ${r.stderr}`);
  t.match(r.stdout, /^- resource storage-target-storage\.disk\.0-lun1$/m);
  t.notMatch(readFileSync(a, "utf8"), /drbd2/, "and leaves the file");

  // a broken file changes nothing
  const good = readFileSync(cib, "utf8");
  writeFileSync(join(tmp, "bad.yaml"), readFileSync(a, "utf8").replace("resource: config", "resource: 'con fig'"));
  r = cli(["stack", "apply", join(tmp, "bad.yaml"), "--cib", cib, "--quiet"]);
  t.equal(r.code, 2);
  t.match(r.stderr, /bad\.yaml:\d+:\d+: drbd\[0\]\.resource: "con fig" is not a DRBD resource name/);
  writeFileSync(join(tmp, "noagent.yaml"), readFileSync(b, "utf8").replace("ocf:pacemaker:Dummy", "ocf:pacemaker:NoSuchAgent"));
  r = cli(["stack", "apply", join(tmp, "noagent.yaml"), "--cib", cib, "--quiet"]);
  t.equal(r.code, 1, "pcs refusing a command stops before the push");
  t.equal(readFileSync(cib, "utf8"), good, "the CIB is as it was");

  // delete: that stack's resources, constraints and tag; the other stack untouched
  r = cli(["stack", "delete", "storage", "--cib", cib, "--quiet"]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^- group storage-group$/m);
  t.match(r.stdout, /^- rsc_location /m, "its location constraint goes with it");
  t.notMatch(changeLines(r.stdout).join("\n"), /app-/, "nothing of the other stack");
  t.same(factsOf(cib, "storage"), [], "nothing of the stack is left");
  t.same(factsOf(cib, "app"), bFacts, "the other stack is exactly as it was");
  r = cli(["stack", "delete", "storage", "--cib", cib, "--quiet"]);
  t.equal(r.code, 0);
  t.match(r.stderr, /nothing to change/, "deleting twice is no change");
});

t.test("the bundled shapes from files are idempotent too", async (t) => {
  for (const f of ["iscsi.yaml", "drbd-fs.yaml"]) {
    const cib = freshCib(f);
    const file = join(tmp, f);
    writeFileSync(file, example(f).replace("systemd:nfs-server", "ocf:pacemaker:Dummy"));
    t.equal(cli(["stack", "apply", file, "--cib", cib, "--quiet"]).code, 0, `${f}: applied`);
    const r = cli(["stack", "apply", file, "--cib", cib, "--quiet"]);
    t.equal(r.code, 0);
    t.equal(r.stdout, "", `${f}: no change the second time`);
  }
});

t.test("remove-lun refuses while an initiator is logged in to the target (real tgtd, real libiscsi session)", async (t) => {
  const rig = new TgtRig("rl");
  t.teardown(() => rig.destroy());
  const IQN = "iqn.2003-01.org.example:rmlun";
  const host = spawnSync("hostname", { encoding: "utf8" }).stdout.trim();
  // the stack: target + 3 LUNs + IP on a shared LUN (no DRBD), running on this host in the CIB
  const file = join(tmp, "rl.yaml");
  writeFileSync(
    file,
    `kind: iscsi\nname: rl\nfencing:\n  method: none\nno-drbd: true\niqn: ${IQN}\nimplementation: tgt\ntid: 7\nlun: ["1:/dev/rl1", "2:/dev/rl2", "3:/dev/rl3"]\nip: [10.231.9.9/32]\nallow-any-initiator: true\n`,
  );
  const cib = join(tmp, "rl.xml");
  writeFileSync(cib, spawnSync("cibadmin", ["--empty"]).stdout);
  property(cib, "stonith-enabled", "false");
  t.equal(cli(["stack", "apply", file, "--cib", cib, "--quiet"]).code, 0);
  const up = join(tmp, "rl-up.xml");
  nodesUp(cib, up, [host]);
  simulate(up, cib, join(tmp, "rl-g.xml"));
  t.match(spawnSync("crm_resource", ["--locate", "-r", "rl-lun1"], { env: { ...process.env, CIB_file: cib }, encoding: "utf8" }).stdout, new RegExp(`running on: ${host}`), "the CIB says LUN 1 runs here");

  // the target as the agent would make it in tgtd, and one initiator holding a session
  const backing = join(tmp, "rl.img");
  writeFileSync(backing, Buffer.alloc(8 << 20));
  for (const a of [
    ["--mode", "target", "--op", "new", "--tid", "7", "--targetname", IQN],
    ["--mode", "logicalunit", "--op", "new", "--tid", "7", "--lun", "1", "--backing-store", backing],
    ["--mode", "target", "--op", "bind", "--tid", "7", "--initiator-address", "ALL"],
  ])
    t.equal(rig.tgtadm(a).code, 0, a.join(" "));
  const env = { TGT_IPC_SOCKET: rig.socket };
  const INITIATOR = "iqn.2024-01.org.example:holder";
  const qemu = spawn("nsenter", ["-t", String(rig.pid), "-n", "qemu-io", "--image-opts", `driver=iscsi,transport=tcp,portal=${rig.addr4}:3260,target=${IQN},lun=1,initiator-name=${INITIATOR}`], { stdio: ["pipe", "ignore", "ignore"] });
  t.teardown(() => qemu.kill("SIGKILL"));
  for (let i = 0; i < 100 && !rig.tgtadm(["--mode", "target", "--op", "show"]).stdout.includes(INITIATOR); i++) sleep(100);
  t.match(rig.tgtadm(["--mode", "target", "--op", "show"]).stdout, INITIATOR, "the initiator is logged in");

  const fileBefore = readFileSync(file, "utf8");
  const cibBefore = readFileSync(cib, "utf8");
  let r = cli(["stack", "remove-lun", file, "--lun", "1", "--cib", cib, "--quiet"], env);
  t.equal(r.code, 1, "refused");
  t.match(r.stderr, new RegExp(`refused: initiator\\(s\\) logged in to ${IQN.replace(/\./g, "\\.")}: ${INITIATOR}`));
  t.equal(readFileSync(file, "utf8"), fileBefore, "the file is unchanged");
  t.equal(readFileSync(cib, "utf8"), cibBefore, "the CIB is unchanged");

  // a LUN that runs on another node: its sessions cannot be read here
  const other = join(tmp, "rl-other.xml");
  copyFileSync(cib, other);
  r = cli(["stack", "remove-lun", file, "--lun", "2", "--cib", join(tmp, "rl-elsewhere.xml")], env);
  t.equal(r.code, 1, "a CIB that cannot be read is an error, not a removal");

  r = cli(["stack", "remove-lun", file, "--lun", "1", "--cib", cib, "--quiet", "--force"], env);
  t.equal(r.code, 0, `--force removes it anyway: ${r.stderr}`);
  t.match(r.stdout, /^- resource rl-lun1$/m);

  qemu.kill("SIGKILL");
  for (let i = 0; i < 100 && rig.tgtadm(["--mode", "target", "--op", "show"]).stdout.includes(INITIATOR); i++) sleep(100);
  r = cli(["stack", "remove-lun", file, "--lun", "2", "--cib", cib, "--quiet"], env);
  t.equal(r.code, 0, `with nobody logged in, LUN 2 goes: ${r.stderr}`);
});

t.test("pcs in one interpreter gives the same CIB as one pcs process per command", async (t) => {
  const wrapper = join(tmp, "pcs-wrapper");
  // a shell script is not Python: pcsEach runs it once per command
  writeFileSync(wrapper, '#!/bin/bash\nexec pcs "$@"\n', { mode: 0o755 });
  for (const f of ["two-drbd-volumes-one-vip.yaml"]) {
    const plan = parseStack(example(f).replace("systemd:nginx", "ocf:pacemaker:Dummy"), f).plan;
    const [one, many] = ["one", "many"].map((k) => {
      const cib = join(tmp, `batch-${k}-${f}.xml`);
      writeFileSync(cib, spawnSync("cibadmin", ["--empty"]).stdout);
      const t0 = Date.now();
      pcsEach(k === "one" ? "pcs" : wrapper, cib, plan.commands);
      return { facts: [...configFacts(readFileSync(cib, "utf8"))].map(([k, v]) => `${k}=${v}`).sort(), ms: Date.now() - t0 };
    });
    t.same(one!.facts, many!.facts, `${f}: the same configuration (${plan.commands.length} commands: ${one!.ms} ms in one interpreter, ${many!.ms} ms one by one)`);
  }
  const cib = join(tmp, "batch-fail.xml");
  writeFileSync(cib, spawnSync("cibadmin", ["--empty"]).stdout);
  t.throws(() => pcsEach("pcs", cib, [["resource", "create", "d1", "ocf:pacemaker:Dummy"], ["resource", "create", "d2", "ocf:pacemaker:NoSuch"], ["resource", "create", "d3", "ocf:pacemaker:Dummy"]]), /pcs resource create d2 ocf:pacemaker:NoSuch failed/, "the first failure stops the batch");
  t.notMatch(readFileSync(cib, "utf8"), /id="d3"/, "nothing after it ran");
});
