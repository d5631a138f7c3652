// `tsstor status` on the live 2-node rig (test/status/rig.ts): the iSCSI stack over DRBD (the
// simulator) in each state an operator meets: healthy with an initiator logged in, DRBD
// resyncing, a failed LU monitor, a node down. The text and JSON are compared with the expected
// files in test/status/expected/ after normalising times, temporary paths and the elected DC
// (TSSTOR_UPDATE_EXPECTED=1 rewrites them; review the diff).
import t, { type Test } from "tap";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { clientToolsMissing } from "../rig/iscsi.js";
import { CLI, normJson, normText, sleep, startStatusRig, type StatusRig } from "./rig.js";

const EXPECTED = join(import.meta.dirname, "expected");
const missing = (await clientToolsMissing()) ?? (existsSync(CLI) ? undefined : "build/tsstor not built (npm run build)");

function expectFile(t: Test, name: string, actual: string): void {
  const f = join(EXPECTED, name);
  if (process.env.TSSTOR_UPDATE_EXPECTED || !existsSync(f)) {
    mkdirSync(EXPECTED, { recursive: true });
    writeFileSync(f, actual);
    if (!process.env.TSSTOR_UPDATE_EXPECTED) t.fail(`${name} did not exist: written, review it`);
    return;
  }
  t.equal(actual, readFileSync(f, "utf8"), `matches expected/${name}`);
}

async function snapshot(t: Test, r: StatusRig, state: string, node = "n1", code = 0) {
  const text = await r.status(node);
  t.equal(text.code, code, `exit status ${code}${text.stderr ? `: ${text.stderr}` : ""}`);
  expectFile(t, `${state}.txt`, normText(text.stdout, r.backing));
  const json = await r.status(node, ["--json"]);
  t.equal(json.code, code);
  expectFile(t, `${state}.json`, `${JSON.stringify(normJson(json.stdout, r.backing), null, 2)}\n`);
  return { text: text.stdout, json: JSON.parse(json.stdout) };
}

t.test("tsstor status on the live rig", { skip: missing ?? false }, async (t) => {
  const r = await startStatusRig((m) => t.comment(m));
  t.teardown(() => r.stop());

  await t.test("healthy, an initiator logged in", async (t) => {
    await r.login();
    const { text, json } = await snapshot(t, r, "healthy");
    t.match(text, /initiator iqn\.2024-01\.org\.example\.tsstor:client from 10\.233\.1\.101/);
    t.equal(json.stacks[0].targets[0].initiators[0].addresses[0], "10.233.1.101");
    // the other node sees Pacemaker's view and DRBD from its side, and says where initiators show
    const other = await r.status("n2");
    t.equal(other.code, 0);
    t.match(other.stdout, /logged-in initiators are visible on n1 only/);
    t.match(other.stdout, /n2 +Secondary +UpToDate +Pacemaker: Unpromoted +this node/);
    t.match(other.stdout, /n1 +Primary +UpToDate +Pacemaker: Promoted +connected/);
  });

  await t.test("DRBD resyncing: progress bar, rate and ETA", async (t) => {
    // n2's data is marked bad while its link is cut; on reconnect it resyncs from n1
    r.sim.ctl("sync-ms", "600000");
    r.sim.ctl("cut", "n1", "n2");
    r.sim.ctl("md", "n2", "r0", "0", "Inconsistent");
    r.sim.ctl("heal", "n1", "n2");
    await sleep(1500);
    const moving = await r.status("n1");
    t.match(moving.stdout, /resync n1 -> n2 +\[[#-]{24}\] +\d+\.\d\d% +ETA \d+:\d\d/, "a moving resync has an ETA");
    const eta = Number(/ETA (\d+):(\d\d)/.exec(moving.stdout)?.[1]) * 60 + Number(/ETA (\d+):(\d\d)/.exec(moving.stdout)?.[2]);
    // rate measured over one second of a 600 s resync on a loaded host: the right order of magnitude
    t.ok(eta > 300 && eta < 1200, `ETA ${eta} s for a 600 s resync`);
    // frozen at an exact point for the byte-exact comparison (no progress: "stalled")
    r.sim.ctl("sync-freeze", "37.5");
    const { json } = await snapshot(t, r, "resync", "n1", 0);
    t.same(json.stacks[0].drbd[0].syncs, [{ target: "n2", source: "n1", volume: 0, done: 37.5, etaSeconds: null }]);
    const fromTarget = await r.status("n2");
    t.match(fromTarget.stdout, /n2 +Secondary +Inconsistent +Pacemaker: Unpromoted +this node/, "the target's own view");
    t.match(fromTarget.stdout, /resync n1 -> n2 +\[#########---------------\] +37\.50%/);
    r.sim.ctl("finish-sync");
    r.sim.ctl("sync-ms", "0");
  });

  await t.test("a failed LU monitor, recovered by Pacemaker", async (t) => {
    // the LU disappears behind Pacemaker's back: the next monitor finds it gone
    const del = await r.rig.node("n1").run("tgtadm", ["--lld", "iscsi", "--mode", "logicalunit", "--op", "delete", "--tid", "1", "--lun", "1"]);
    t.equal(del.code, 0, del.out);
    await r.rig.waitFor("the LU monitor failure", (s) => s.failures.some((f) => f.opKey.startsWith("iscsi-lun1_monitor")), { timeoutMs: 60_000 });
    await r.rig.waitFor("the LU recovered", (s) => s.resources.some((x) => x.id === "iscsi-lun1" && x.active && !x.failed && x.node === "n1"), { timeoutMs: 60_000 });
    const { text, json } = await snapshot(t, r, "failed-lu", "n1", 1);
    t.match(text, /iscsi-lun1 monitor every 10s on n1: not running \(7\)/);
    t.equal(json.failures[0].resource, "iscsi-lun1");
    await r.rig.pcsOk(["resource", "cleanup", "iscsi-lun1"]);
    await r.rig.waitFor("failures cleaned", (s) => !s.failures.length, { timeoutMs: 60_000 });
  });

  await t.test("a node down", async (t) => {
    await r.rig.hardKill("n2");
    r.sim.ctl("crash", "n2");
    await r.rig.waitFor("n2 offline", (s) => s.nodes.some((n) => n.name === "n2" && !n.online), { on: "n1", timeoutMs: 60_000 });
    await r.rig.waitResource("iscsi-drbd-clone", { role: "Promoted", node: "n1", on: "n1" });
    await sleep(1000);
    const { json } = await snapshot(t, r, "node-down", "n1", 1);
    t.same(json.nodes.map((n: { name: string; state: string }) => [n.name, n.state]), [["n1", "online"], ["n2", "OFFLINE"]]);
  });
});
