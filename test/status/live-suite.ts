// `tsstor status` and `tsstor doctor` on the live 2-node rig (test/status/rig.ts): the iSCSI stack over DRBD (the
// simulator) in each state an operator meets: healthy with an initiator logged in, DRBD
// resyncing, a failed LU monitor, a node down. The text and JSON are compared with the expected
// files in test/status/expected/ after normalising times, temporary paths and the elected DC
// (TSSTOR_UPDATE_EXPECTED=1 rewrites them; review the diff).
import t, { type Test } from "tap";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { clientToolsMissing } from "../rig/iscsi.js";
import { checkLabels, svgNodes } from "./image.js";
import { CLI, normJson, normText, sleep, startStatusRig, type StatusRig } from "./rig.js";
import { Tmux } from "./tmux.js";
import { PLATFORMS, type Platform } from "../rig/platform.js";

const EXPECTED = join(import.meta.dirname, "expected");
const have = (c: string) => spawnSync("sh", ["-c", `command -v ${c}`]).status === 0;
const missing =
  (await clientToolsMissing()) ??
  (!existsSync(CLI) ? "build/tsstor not built (npm run build)" : !have("tmux") ? "tmux missing" : !have("dot") ? "graphviz missing" : !have("rsvg-convert") ? "rsvg-convert missing (apt-get install librsvg2-bin)" : undefined);
const RESOURCES = ["iscsi-drbd", "iscsi-target", "iscsi-lun1", "iscsi-ip1"];

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

/** The whole suite on one platform's cluster stack (live-debian13.test.ts runs it on Debian 13). */
export function liveStatusSuite(platform: Platform): void {
  t.test(`tsstor status on the live rig (${PLATFORMS[platform]})`, { skip: missing ?? false }, async (t) => {
    // the same expected files on every platform: what Pacemaker 2.1 and 3.0 print differently must not show
    const r = await startStatusRig((m) => t.comment(m), platform);
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

    await t.test("tsstor doctor on a node: the live CIB and this node's files, the same hazards", async (t) => {
      const d = await r.rig.node("n1").run(CLI, ["doctor"], { timeoutMs: 60_000 });
      t.equal(d.code, 1, `errors found: exit 1${d.stderr ? ` (${d.stderr.trim()})` : ""}`);
      for (const id of ["stonith-disabled", "two-node-no-fencing", "drbd-no-fencing"]) t.match(d.stdout, new RegExp(`\\b${id}\\b`), id);
    });

    await t.test("--graph: the live stack drawn per node, every label in the image", async (t) => {
      const svg = join(r.dir, "healthy.svg");
      const g = await r.status("n1", ["--graph", svg]);
      t.equal(g.code, 0, g.stderr);
      const checks = checkLabels(svg, RESOURCES, r.dir);
      t.same(checks.map((c) => c.label).sort(), ["iscsi-drbd", "iscsi-drbd", "iscsi-ip1", "iscsi-lun1", "iscsi-target"], "a box per running instance");
      for (const c of checks) t.ok(c.ink > 20 && c.inside, `${c.label} (${c.node}) drawn inside its box: ${c.ink} px`);
      const nodes = svgNodes(readFileSync(svg, "utf8"));
      const promoted = nodes.filter((n) => n.texts.includes("Promoted"));
      t.same(promoted.map((n) => n.title.replace(/#\d+$/, "")), ["iscsi-drbd@n1"], "the Promoted instance is on n1");
      t.equal(promoted[0]!.outlines, 2, "with a double border");
      t.ok(nodes.filter((n) => n.title.endsWith("@n2#0") || n.title.endsWith("@n2#1")).every((n) => n.texts.includes("Unpromoted")), "n2 holds only the Unpromoted instance");
      const src = readFileSync(svg, "utf8");
      t.match(src, />n1 \(online, DC\)<|>n1 \(online\)</, "a frame per node");
      t.match(src, />n2 \(online(, DC)?\)</);
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
      const { json } = await snapshot(t, r, "resync", "n1", 1); // degraded while it resyncs
      t.same(json.stacks[0].drbd[0].syncs, [{ target: "n2", source: "n1", volume: 0, done: 37.5, etaSeconds: null }]);
      const fromTarget = await r.status("n2");
      t.match(fromTarget.stdout, /n2 +Secondary +Inconsistent +Pacemaker: Unpromoted +this node/, "the target's own view");
      t.match(fromTarget.stdout, /resync n1 -> n2 +\[#########---------------\] +37\.50%/);
      r.sim.ctl("finish-sync");
      r.sim.ctl("sync-ms", "0");
    });

    await t.test("--watch in tmux: refreshed in place, the progress bar moves, ETA, Ctrl-C", async (t) => {
      // the tmux server runs inside n1 (all its namespaces), and so does tsstor in its pane
      const tmux = new Tmux(r.rig.node("n1").enter);
      t.teardown(() => tmux.kill());
      r.sim.ctl("sync-ms", "30000");
      r.sim.ctl("cut", "n1", "n2");
      r.sim.ctl("md", "n2", "r0", "0", "Inconsistent");
      r.sim.ctl("heal", "n1", "n2");
      const env = Object.entries(r.rig.opts.env!("n1")).map(([k, v]) => `${k}=${v}`);
      // a terminal as an operator has it (the test runner's environment may carry NO_COLOR)
      tmux.start("w", ["env", "-u", "NO_COLOR", ...env, CLI, "status", "--watch", "--interval", "1"]);
      const pct = (screen: string) => Number(/\] +(\d+\.\d\d)%/.exec(screen)?.[1] ?? NaN);
      const stamp = (screen: string) => /Every 1s: tsstor status +(\S+ \S+)/.exec(screen)?.[1];
      let a = "";
      for (let i = 0; i < 100 && !/resync n1 -> n2/.test(a); i++) {
        await sleep(200);
        a = tmux.capture("w");
      }
      t.match(a, /^Every 1s: tsstor status/, "the screen starts with the refresh header");
      t.match(a, /resync n1 -> n2 +\[[#-]{24}\]/, "a progress bar");
      await sleep(3000);
      const b = tmux.capture("w");
      t.not(stamp(b), stamp(a), `refreshed (${stamp(a)} -> ${stamp(b)})`);
      t.ok(pct(b) > pct(a), `progress moved: ${pct(a)}% -> ${pct(b)}%`);
      t.match(b, /resync n1 -> n2 +\[[#-]{24}\] +\d+\.\d\d% +ETA \d+:\d\d/, "an ETA once the rate is known");
      const bar = /\[([#-]{24})\]/.exec(b)![1]!;
      t.equal(bar.split("#").length - 1, Math.floor((pct(b) / 100) * 24), "the bar matches the percentage");
      t.equal(tmux.display("w", "#{history_size}"), "0", "redrawn in place: nothing scrolled off");
      t.equal(b.split("\n").filter((l) => l.startsWith("Every 1s")).length, 1, "one frame on the screen");
      t.match(tmux.capture("w", true), /\x1b\[[0-9;]*m/, "colours on a terminal");
      r.sim.ctl("finish-sync");
      let c = b;
      for (let i = 0; i < 50 && /resync n1 -> n2/.test(c); i++) {
        await sleep(200);
        c = tmux.capture("w");
      }
      t.notMatch(c, /resync/, "the progress line goes when the resync ends");
      t.match(c, /n2 +Secondary +UpToDate/);
      tmux.keys("w", "C-c");
      for (let i = 0; i < 50 && tmux.exitStatus("w") === undefined; i++) await sleep(100);
      t.equal(tmux.exitStatus("w"), 0, "Ctrl-C ends it with exit status 0");
      r.sim.ctl("sync-ms", "0");
      // not a terminal: frames one after another, no escapes
      const piped = await r.rig.node("n1").run("timeout", ["--preserve-status", "3.5", CLI, "status", "--watch", "--interval", "1"], { timeoutMs: 30_000 });
      t.equal(piped.code, 0, "SIGTERM ends it with status 0");
      t.ok(piped.stdout.split("\n").filter((l) => l.startsWith("Every 1s: tsstor status")).length >= 2, "two frames in 3.5 s");
      t.notMatch(piped.stdout, /\x1b/, "no escape sequences in a pipe");
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
      const svg = join(r.dir, "node-down.svg");
      t.equal((await r.status("n1", ["--graph", svg])).code, 1);
      const src = readFileSync(svg, "utf8");
      t.match(src, />n2 \(OFFLINE\)</);
      t.match(src, />nothing running</, "the dead node's frame is empty");
      for (const c of checkLabels(svg, RESOURCES, r.dir)) t.ok(c.ink > 20 && c.inside && c.node.endsWith("@n1#0"), `${c.label} on n1, drawn inside its box`);
    });
  });
}
