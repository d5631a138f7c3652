// ocf:tsstor:drbd black box on the DRBD simulator: conformance, the promotable lifecycle on two
// simulated nodes, scores through crm_attribute (written once, deleted on stop), refusals (17,
// held open), clone/notify checks, notify handling, stop without a readable configuration,
// DRBD 8.4, the module not loaded, degraded reporting, processes per monitor.
import t from "tap";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { agentPath, conformance, runAgent, type RunOpts } from "../lib/harness.js";
import { makeSim, type Sim, type SimOpts } from "./sim.js";
import { parseEvents2 } from "../../lib/drbd/state.js";

const bin = agentPath("drbd");
const CLONE = { clone_max: 2, clone_node_max: 1, promoted_max: 1, promoted_node_max: 1, notify: "true" };

function agentOn(sim: Sim, params: Record<string, string> = {}) {
  const base = { drbd_resource: "r0", drbdconf: sim.conf, ...params };
  return (node: string, action: string, o: RunOpts & { clone?: boolean } = {}) =>
    runAgent(bin, action, {
      instance: "p_drbd",
      ...o,
      params: { ...base, ...o.params },
      meta: { ...(o.clone === false ? {} : CLONE), on_node: node, timeout: 20000, ...o.meta },
      env: sim.env(node, o.env as Record<string, string>),
    });
}

const state = (sim: Sim, node: string) => parseEvents2(sim.tool(node, "drbdsetup", ["events2", "--now", "r0"]).stdout, "r0");
const monitorMeta = (promoted = false) => ({ interval: promoted ? 10000 : 20000 });

function started(o: SimOpts = {}, params: Record<string, string> = {}) {
  const sim = makeSim(o);
  const run = agentOn(sim, params);
  return { sim, run };
}

{
  const sim = makeSim({ prefix: "drbdconf" });
  conformance(t, {
    agent: "drbd",
    valid: { drbd_resource: "r0", drbdconf: sim.conf },
    env: sim.env("alpha"),
    invalid: [
      { params: {}, names: "parameter drbd_resource is required" },
      { params: { drbd_resource: "r0;reboot" }, names: "parameter drbd_resource must only contain" },
      { params: { drbd_resource: "$(touch /tmp/x)" }, names: "parameter drbd_resource must only contain" },
      { params: { drbd_resource: "-r0" }, names: "parameter drbd_resource must not start with" },
      { params: { drbd_resource: "r0", drbdconf: "/etc/drbd conf" }, names: "parameter drbdconf must only contain" },
      { params: { drbd_resource: "r0", adjust_master_score: "0 10 1000" }, names: "parameter adjust_master_score needs four" },
      { params: { drbd_resource: "r0", adjust_master_score: "0 1000 10 10000" }, names: "adjust_master_score values must be non-decreasing" },
      { params: { drbd_resource: "r0", wfc_timeout: "soon" }, names: "parameter wfc_timeout must be an integer" },
      { params: { drbd_resource: "r0", remove_master_score_if_peer_primary: "perhaps" }, names: "remove_master_score_if_peer_primary must be true, false or unexpected" },
      { params: { drbd_resource: "r0", require_drbd_module_version_ge: "9.0" }, names: "require_drbd_module_version_ge must be a version x.y.z" },
      { params: { drbd_resource: "r0", stop_outdates_secondary: "sometimes" }, names: "parameter stop_outdates_secondary must be a boolean" },
    ],
  });
}

t.test("promotable lifecycle on two nodes: scores, promote, demote, stop demotes first", async (t) => {
  const { sim, run } = started();
  for (const n of ["alpha", "beta"]) t.equal(run(n, "monitor", { clone: false }).code, 7, `probe on ${n}: 7`);
  t.same(sim.crmCalls("alpha"), [], "a probe that found nothing does not touch scores");
  const a = run("alpha", "start", { params: { wfc_timeout: "1" } });
  t.equal(a.code, 0, a.stderr);
  t.equal(sim.score("alpha"), 1000, "UpToDate, peer unknown: 1000");
  t.ok(existsSync(sim.dev(10)), "device node exists after start");
  t.equal(run("beta", "start").code, 0);
  t.equal(sim.score("beta"), 10000, "UpToDate, peer known: 10000");
  t.equal(run("alpha", "monitor", { meta: monitorMeta() }).code, 0);
  t.equal(sim.score("alpha"), 10000);
  t.equal(run("alpha", "start").code, 0, "double start");
  const p = run("alpha", "promote");
  t.equal(p.code, 0, p.stderr);
  t.equal(run("alpha", "monitor", { meta: monitorMeta(true) }).code, 8);
  t.equal(run("beta", "monitor", { meta: monitorMeta() }).code, 0);
  t.equal(run("alpha", "promote").code, 0, "promote of a Primary: 0");
  t.equal(run("alpha", "demote").code, 0);
  t.equal(run("alpha", "monitor", { meta: monitorMeta() }).code, 0);
  t.equal(run("alpha", "demote").code, 0, "double demote");
  t.equal(run("alpha", "promote").code, 0);
  const s = run("alpha", "stop");
  t.equal(s.code, 0, s.stderr);
  t.match(s.stderr, /still Primary, demoting/, "stop of a Primary demotes first");
  t.equal(state(sim, "alpha").configured, false);
  t.equal(sim.score("alpha"), undefined, "score deleted on stop");
  t.match(sim.crmCalls("alpha").at(-1)!, /^--promotion -D -N alpha$/);
  t.equal(run("alpha", "stop").code, 0, "double stop");
  t.equal(run("alpha", "monitor", { meta: monitorMeta() }).code, 7);
  t.equal(run("beta", "monitor", { meta: monitorMeta() }).code, 0);
  t.equal(sim.score("beta"), 1000, "the survivor sees its peer gone");
  t.equal(run("beta", "stop").code, 0);
  t.notOk(existsSync(sim.dev(10)), "device node gone with the last node");
});

t.test("a probe where the resource is not configured (or no configuration at all) is 7, not 5", async (t) => {
  const { run } = started();
  t.equal(run("alpha", "monitor", { clone: false, params: { drbd_resource: "r9" } }).code, 7, "resource not in this node's configuration");
  t.equal(run("alpha", "monitor", { clone: false, params: { drbdconf: "/nonexistent/drbd.conf" } }).code, 7, "configuration file missing");
  t.equal(run("gamma", "monitor", { clone: false }).code, 7, "a node the configuration does not name");
  t.equal(run("alpha", "stop", { params: { drbd_resource: "r9" } }).code, 0, "and stop succeeds there");
});

t.test("an unchanged score is not re-written; a monitor runs one drbdsetup and nothing else", async (t) => {
  const { sim, run } = started();
  const log = join(sim.dir, "fake.log");
  t.equal(run("alpha", "start", { params: { wfc_timeout: "1" } }).code, 0);
  t.equal(run("beta", "start").code, 0);
  run("alpha", "monitor", { meta: monitorMeta() });
  const before = sim.crmCalls("alpha").length;
  for (let i = 0; i < 3; i++) t.equal(run("alpha", "monitor", { meta: monitorMeta(), env: { TSSTOR_FAKE_LOG: log } }).code, 0);
  t.equal(sim.crmCalls("alpha").length, before, "no crm_attribute for an unchanged score");
  const calls = readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { tool: string; argv: string[] });
  t.same(calls.map((c) => `${c.tool} ${c.argv.join(" ")}`), Array(3).fill("drbdsetup events2 --now r0"), "one drbdsetup call per monitor");
  sim.ctl("cut", "alpha", "beta");
  run("alpha", "monitor", { meta: monitorMeta() });
  t.equal(sim.score("alpha"), 1000, "a changed state re-writes it");
  t.equal(sim.crmCalls("alpha").length, before + 1);
});

t.test("never promoted without UpToDate data: 17 fails at once, with a reason", async (t) => {
  const { sim, run } = started();
  t.equal(run("alpha", "start", { params: { wfc_timeout: "1" } }).code, 0);
  sim.ctl("md", "alpha", "r0", "0", "Outdated", "1");
  run("alpha", "monitor", { meta: monitorMeta() });
  // Outdated from now on: meta data changed under a running resource, as `drbdadm outdate` does.
  t.equal(state(sim, "alpha").volumes[0]!.disk, "Outdated");
  t.equal(sim.score("alpha"), undefined, "Outdated without a peer: no score");
  const p = run("alpha", "promote", { meta: { timeout: 8000 } });
  t.equal(p.code, 1);
  t.match(p.reason, /Refusing to be promoted to Primary without access to UpToDate data \(r0: State change failed: \(-2\) Need access to UpToDate data\)/);
  t.equal((p.stderr.match(/exec drbdadm .* primary r0/g) ?? []).length <= 1, true);
  t.ok(p.ms < 8000, `inside the timeout (anti-thrash delay bounded by it): ${p.ms.toFixed(0)} ms`);
  t.equal(state(sim, "alpha").role, "Secondary");
  t.equal(run("alpha", "stop").code, 0);
});

t.test("start whose device node never appears (no udev): fails inside the timeout, naming the device", async (t) => {
  const { sim, run } = started();
  const s = run("alpha", "start", { params: { wfc_timeout: "1" }, meta: { timeout: 3000 }, env: { TSSTOR_DRBD_SIM_NO_DEVNODES: "1" } });
  t.equal(s.code, 1);
  t.match(s.reason, /^start did not complete in time \(expected device nodes did not appear: \S+\)$/);
  t.ok(s.ms < 3000, `inside the timeout: ${s.ms.toFixed(0)} ms`);
  t.equal(run("alpha", "stop").code, 0, "and stop cleans up");
  t.equal(state(sim, "alpha").configured, false);
});

t.test("demote and stop of a Primary held open: retried until the timeout, then fail with the reason", async (t) => {
  const { sim, run } = started();
  t.equal(run("alpha", "start", { params: { wfc_timeout: "1" } }).code, 0);
  t.equal(run("alpha", "promote").code, 0);
  sim.ctl("hold-open", "alpha", "r0", "on");
  const d = run("alpha", "demote", { meta: { timeout: 6000 } });
  t.equal(d.code, 1);
  t.match(d.reason, /demote failed: r0: State change failed: \(-12\) Device is held open by someone/);
  t.ok(d.ms < 6000, `inside the timeout: ${d.ms.toFixed(0)} ms`);
  const s = run("alpha", "stop", { meta: { timeout: 6000 } });
  t.equal(s.code, 1, "a stop that cannot stop fails (Pacemaker escalates)");
  t.match(s.reason, /stop failed: secondary: .*held open/);
  sim.ctl("hold-open", "alpha", "r0", "off");
  t.equal(run("alpha", "stop").code, 0);
});

t.test("configuration: start 5 when missing; stop still works without it (drbdsetup down)", async (t) => {
  const { sim, run } = started();
  const st = run("alpha", "start", { params: { drbdconf: "/nonexistent/drbd.conf" } });
  t.equal(st.code, 5);
  t.match(st.reason, /configuration file \/nonexistent\/drbd.conf does not exist or is not readable/);
  const other = run("alpha", "start", { params: { drbd_resource: "r9" } });
  t.equal(other.code, 5);
  t.match(other.reason, /DRBD resource r9 not found in configuration file .*'r9' not defined in your config/);
  t.equal(run("alpha", "start", { params: { wfc_timeout: "1" } }).code, 0);
  t.equal(run("alpha", "promote").code, 0);
  const moved = `${sim.conf}.moved`;
  writeFileSync(moved, readFileSync(sim.conf));
  rmSync(sim.conf);
  t.equal(run("alpha", "monitor", { meta: monitorMeta(true) }).code, 8, "monitor needs no configuration");
  const s = run("alpha", "stop");
  t.equal(s.code, 0, s.stderr);
  t.match(s.stderr, /stopping with drbdsetup directly/);
  t.equal(state(sim, "alpha").configured, false);
});

t.test("clone and notify checks at start and validate-all level 10, never at level 0", async (t) => {
  const { run } = started();
  const bad: Array<[Record<string, string | number>, RegExp]> = [
    [{ clone_node_max: 2 }, /expected clone-node-max = 1, but found 2/],
    [{ promoted_node_max: 2 }, /expected promoted-node-max = 1, but found 2/],
    [{ promoted_max: 3 }, /expected promoted-max <= 2, but found 3/],
    [{ notify: "false" }, /notify must be enabled on the clone \(notify=true\), or set ignore_missing_notifications=true/],
    [{ promoted_max: 2 }, /promoted-max > 1, but DRBD resource r0 does not allow-two-primaries/],
  ];
  for (const [meta, re] of bad) {
    const r = run("alpha", "start", { meta });
    t.equal(r.code, 6, JSON.stringify(meta));
    t.match(r.reason, re);
  }
  t.equal(run("alpha", "validate-all", { clone: false }).code, 0, "level 0 without any clone meta (pcs resource create)");
  const v10 = run("alpha", "validate-all", { clone: false, env: { OCF_CHECK_LEVEL: "10" } });
  t.equal(v10.code, 6, "level 10 without notify");
  t.equal(run("alpha", "validate-all", { clone: false, params: { ignore_missing_notifications: "true" }, env: { OCF_CHECK_LEVEL: "10" } }).code, 0);
  t.equal(run("alpha", "validate-all", { env: { OCF_CHECK_LEVEL: "10" } }).code, 0, "level 10 with clone meta");
  const v = run("alpha", "validate-all", { params: { require_drbd_module_version_ge: "9.9.0" }, env: { OCF_CHECK_LEVEL: "10" } });
  t.equal(v.code, 5);
  t.match(v.reason, /required DRBD kernel module version >= 9.9.0, but found 9.2.12/);
  t.equal(run("alpha", "validate-all", { params: { drbd_resource: "r9" }, env: { OCF_CHECK_LEVEL: "10" } }).code, 5);
  t.equal(run("alpha", "start", { params: { require_drbd_module_version_lt: "9.0.0" } }).code, 5, "start refuses a DRBD 9 module when 8.4 is required");
  const ok = run("alpha", "start", { clone: false, params: { ignore_missing_notifications: "true", wfc_timeout: "0" } });
  t.equal(ok.code, 0, "outside a clone with ignore_missing_notifications (ocf-tester)");
  t.notMatch(ok.stderr, /wait-connect/, "wfc_timeout=0 does not wait");
  run("alpha", "stop");
});

t.test("notify: start adjusts the network side, post refreshes the score, lists with a single space", async (t) => {
  const { sim, run } = started();
  t.equal(run("alpha", "start", { params: { wfc_timeout: "1" } }).code, 0);
  t.equal(run("beta", "start").code, 0);
  sim.tool("beta", "drbdadm", ["-c", sim.conf, "disconnect", "r0"]);
  t.equal(state(sim, "beta").connections[0]!.connection, "StandAlone");
  const empty = { notify_start_uname: " ", notify_promote_uname: " ", notify_stop_uname: " ", notify_demote_uname: " ", notify_active_uname: "alpha beta" };
  const pre = run("beta", "notify", { meta: { ...empty, notify_type: "pre", notify_operation: "start", notify_start_uname: "alpha" } });
  t.equal(pre.code, 0);
  t.equal(state(sim, "beta").connections[0]!.connection, "Connected", "pre-start adjust reconnected");
  sim.ctl("cut", "alpha", "beta");
  const post = run("beta", "notify", { meta: { ...empty, notify_type: "post", notify_operation: "demote" } });
  t.equal(post.code, 0);
  t.equal(sim.score("beta"), 1000, "post notification refreshed the score");
  sim.ctl("heal", "alpha", "beta");
  run("beta", "stop");
  const idle = run("beta", "notify", { meta: { ...empty, notify_type: "pre", notify_operation: "start" } });
  t.equal(idle.code, 0);
  t.equal(state(sim, "beta").configured, false, "adjust never brings up a stopped resource");
  t.equal(run("beta", "notify", { params: { drbdconf: "/nonexistent" }, meta: { ...empty, notify_type: "post", notify_operation: "start" } }).code, 0, "notify always 0");
});

t.test("stop_outdates_secondary: promoted/unpromoted and legacy master/slave notify names", async (t) => {
  for (const [key, val] of [
    ["notify_promoted_uname", "alpha"],
    ["notify_master_uname", "alpha "],
  ] as const) {
    const { sim, run } = started({}, { stop_outdates_secondary: "true" });
    t.equal(run("alpha", "start", { params: { wfc_timeout: "1" } }).code, 0);
    t.equal(run("beta", "start").code, 0);
    t.equal(run("alpha", "promote").code, 0);
    sim.ctl("cut", "alpha", "beta");
    const s = run("beta", "stop", { meta: { [key]: val, notify_stop_uname: "beta", [key.replace(/promoted|master/, (m) => (m === "master" ? "slave" : "unpromoted"))]: "beta" } });
    t.equal(s.code, 0, s.stderr);
    t.match(s.stderr, /outdating r0: according to the notify data, alpha is still Primary/, key);
    const md = JSON.parse(sim.ctl("dump")).nodes.beta.md.r0["0"];
    t.equal(md.disk, "Outdated", `${key}: beta's meta data now says Outdated`);
  }
  const { sim, run } = started({}, { stop_outdates_secondary: "true" });
  run("alpha", "start", { params: { wfc_timeout: "1" } });
  run("beta", "start");
  const s = run("beta", "stop", { meta: { notify_promoted_uname: " ", notify_stop_uname: "beta" } });
  t.equal(s.code, 0);
  t.equal(JSON.parse(sim.ctl("dump")).nodes.beta.md.r0["0"].disk, "UpToDate", "an empty list (single space) outdates nothing");
});

t.test("DRBD 8.4: lifecycle through sh-status", async (t) => {
  const { sim, run } = started({ kernel: "8.4.11" });
  const log = join(sim.dir, "fake.log");
  t.equal(run("alpha", "start", { params: { wfc_timeout: "1" }, env: { TSSTOR_FAKE_LOG: log } }).code, 0);
  t.equal(run("beta", "start").code, 0);
  t.equal(run("alpha", "promote").code, 0);
  t.equal(run("alpha", "monitor", { meta: monitorMeta(true), env: { TSSTOR_FAKE_LOG: log } }).code, 8);
  t.equal(sim.score("alpha"), 10000);
  const calls = readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { tool: string; argv: string[] });
  const cmds = calls.map((c) => `${c.tool} ${c.argv.join(" ")}`);
  t.ok(cmds.includes("drbdsetup sh-status r0"));
  t.notOk(cmds.some((c) => c.includes("events2")), "no events2 on 8.4");
  t.ok(cmds.some((c) => c.endsWith(" attach r0")), "8.4 attaches with drbdadm attach");
  t.ok(cmds.some((c) => /^drbdsetup wait-connect \S+drbd10 --wfc-timeout=1/.test(c)), "8.4 waits per device");
  // 8.4 adjusts towards the peer named in the notify data (drbdadm --peer)
  t.equal(run("alpha", "notify", { meta: { notify_type: "pre", notify_operation: "start", notify_start_uname: "beta ", notify_promoted_uname: " " }, env: { TSSTOR_FAKE_LOG: log } }).code, 0);
  t.ok(readFileSync(log, "utf8").includes(JSON.stringify(["-c", sim.conf, "--peer", "beta", "-v", "adjust", "r0"])), "drbdadm --peer beta -v adjust r0");
  t.equal(run("alpha", "stop").code, 0);
  t.equal(run("beta", "monitor", { meta: monitorMeta() }).code, 0);
  t.equal(sim.score("beta"), 1000);
  t.equal(run("beta", "stop").code, 0);
});

t.test("module not loaded: monitor 7, start loads it (modprobe)", async (t) => {
  const { sim, run } = started({ unloaded: true });
  t.equal(run("alpha", "monitor", { clone: false }).code, 7);
  t.equal(run("alpha", "monitor", { meta: monitorMeta() }).code, 7, "recurring monitor");
  t.equal(sim.score("alpha"), undefined);
  t.equal(run("alpha", "stop").code, 0);
  const s = run("alpha", "start", { params: { wfc_timeout: "1" } });
  t.equal(s.code, 0, s.stderr);
  t.match(s.stderr, /drbd module 9.2.12 loaded/);
  run("alpha", "stop");
});

t.test("report_degraded: 190/191 while the peer is gone, off by default", async (t) => {
  const { sim, run } = started({}, { report_degraded: "true" });
  t.equal(run("alpha", "start", { params: { wfc_timeout: "1" } }).code, 0);
  t.equal(run("beta", "start").code, 0);
  t.equal(run("alpha", "monitor", { meta: monitorMeta() }).code, 0);
  t.equal(run("alpha", "promote").code, 0);
  sim.ctl("cut", "alpha", "beta");
  const m = run("alpha", "monitor", { meta: monitorMeta(true) });
  t.equal(m.code, 191);
  t.match(m.stderr, /degraded: peer beta Connecting/);
  t.equal(run("beta", "monitor", { meta: monitorMeta() }).code, 190);
  t.equal(run("beta", "monitor", { meta: monitorMeta(), params: { report_degraded: "false" } }).code, 0);
});

t.test("remove_master_score_if_peer_primary=true: no score while connected to a healthy Primary", async (t) => {
  const { sim, run } = started({}, { remove_master_score_if_peer_primary: "true" });
  run("alpha", "start", { params: { wfc_timeout: "1" } });
  run("beta", "start");
  run("alpha", "promote");
  run("beta", "monitor", { meta: monitorMeta() });
  t.equal(sim.score("beta"), undefined);
  t.equal(sim.score("alpha"), 10000);
});
