// ocf:tsstor:iscsi against the fake iscsiadm and the emulated sysfs (test/iscsi/initiator-world.ts):
// conformance, the life cycle, two portals of one target (one session each, told apart by
// address), failed paths and try_recovery, what stop refuses to log out from, discovery, CHAP.
// The real kernel's behaviour is the lab's (lab/suites/iscsi.sh).
import t from "tap";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { agentPath, conformance, runAgent, runAgentAsync, type RunOpts } from "../lib/harness.js";
import { InitiatorWorld, IQN } from "./initiator-world.js";

const bin = agentPath("iscsi");
const P1 = "127.0.0.1:3260";
const P2 = "127.0.0.10:3260"; // upstream's text match of "127.0.0.1" also takes this one's session

function ra(w: InitiatorWorld, action: string, params: Record<string, string>, o: RunOpts = {}) {
  return runAgent(bin, action, { params: { target: IQN, ...params }, env: w.env(), meta: { timeout: 8000, ...(o.meta ?? {}) }, ...o, ...(o.env ? { env: { ...w.env(), ...o.env } } : {}) });
}

{
  const w = new InitiatorWorld("conf");
  t.teardown(() => w.destroy());
  conformance(t, {
    agent: "iscsi",
    valid: { portal: "127.0.0.1", target: IQN },
    env: w.env(),
    invalid: [
      { params: { target: IQN }, names: "parameter portal is required" },
      { params: { portal: "127.0.0.1" }, names: "parameter target is required" },
      { params: { portal: "127.0.0.1", target: "array-1" }, names: "parameter target must be an iSCSI name" },
      { params: { portal: "san.example.com", target: IQN }, names: "parameter portal must be an IP address" },
      { params: { portal: "127.0.0.1:70000", target: IQN }, names: "parameter portal" },
      { params: { portal: "fd00::1:3260", target: IQN }, names: "parameter portal" },
      { params: { portal: "$(id)", target: IQN }, names: "parameter portal" },
      { params: { portal: "127.0.0.1\nx", target: IQN }, names: "parameter portal must be IPv4" },
      { params: { portal: "127.0.0.1", target: `${IQN};reboot` }, names: "parameter target" },
      { params: { portal: "127.0.0.1", target: IQN, discovery_type: "slp" }, names: "parameter discovery_type must be one of" },
      { params: { portal: "127.0.0.1", target: IQN, iscsiadm: "iscsiadm -d8" }, names: "parameter iscsiadm" },
      { params: { portal: "127.0.0.1", target: IQN, udev: "maybe" }, names: "parameter udev must be a boolean" },
      { params: { portal: "127.0.0.1", target: IQN, chap_username: "u" }, names: "chap_username is set but chap_password_file is not" },
      { params: { portal: "127.0.0.1", target: IQN, chap_password_file: "/etc/x" }, names: "chap_password_file is set but chap_username is not" },
      { params: { portal: "127.0.0.1", target: IQN, chap_username: "u", chap_password_file: "secret" }, names: "parameter chap_password_file must be an absolute path" },
      { params: { portal: "127.0.0.1", target: IQN, chap_username: "with space", chap_password_file: "/etc/x" }, names: "parameter chap_username" },
      { params: { portal: "127.0.0.1", target: IQN, chap_username_in: "t", chap_password_in_file: "/etc/x" }, names: "mutual CHAP \\(chap_username_in\\) needs CHAP" },
    ],
  });
}

t.test("life cycle: discovery once, login, by-path link, monitor from sysfs, logout", async (t) => {
  const w = new InitiatorWorld("life");
  t.teardown(() => w.destroy());
  const pr = { portal: "127.0.0.1" };
  t.equal(ra(w, "monitor", pr).code, 7, "probe before start: 7");
  const s = ra(w, "start", pr);
  t.equal(s.code, 0, s.stderr);
  t.same(w.sessions().map((x) => [x.portal, x.state]), [[P1, "LOGGED_IN"]]);
  t.ok(existsSync(join(w.dev, `disk/by-path/ip-${P1}-iscsi-${IQN}-lun-1`)), "udev's by-path link is there");
  t.match(readFileSync(w.record(P1), "utf8"), /^node\.startup = manual$/m, "the record is manual: the cluster logs in, not the boot service");
  const calls = w.calls();
  t.same(calls.filter((c) => c[1] === "discovery").length, 1, "one discovery");
  t.ok(calls.some((c) => c.join(" ") === `-m node -T ${IQN} -p ${P1} --login`), "login to exactly this portal");
  const before = w.calls().length;
  t.equal(ra(w, "monitor", pr, { meta: { interval: 120000 } }).code, 0);
  t.equal(ra(w, "monitor", pr).code, 0, "probe: 0");
  t.equal(w.calls().length, before, "monitor runs no iscsiadm");
  t.equal(ra(w, "start", pr).code, 0, "start again: 0");
  t.equal(w.calls().length, before, "and no login");
  const st = ra(w, "stop", pr);
  t.equal(st.code, 0, st.stderr);
  t.same(w.sessions(), [], "logged out");
  t.equal(ra(w, "monitor", pr).code, 7);
  t.equal(ra(w, "stop", pr).code, 0, "stop again: 0");
  t.equal(ra(w, "start", pr).code, 0, "start after stop");
  t.equal(w.calls().filter((c) => c[1] === "discovery").length, 1, "the record is reused: no second discovery");
  t.equal(ra(w, "stop", pr).code, 0);
});

t.test("a static record (iscsiadm -m node -o new, no TPGT) is used as it is: no discovery", async (t) => {
  // an array behind NAT answers SendTargets with its own address: operators add the record by
  // hand, and open-iscsi keeps it as one file NODES/TARGET/ADDR,PORT (seen in the lab)
  const w = new InitiatorWorld("static");
  t.teardown(() => w.destroy());
  const rec = join(w.db, "nodes", IQN, P1.replace(":", ","));
  mkdirSync(dirname(rec), { recursive: true });
  writeFileSync(rec, `# BEGIN RECORD 2.1.8\nnode.name = ${IQN}\nnode.tpgt = -1\nnode.startup = automatic\nnode.conn[0].address = 127.0.0.1\nnode.conn[0].port = 3260\n# END RECORD\n`, { mode: 0o600 });
  const s = ra(w, "start", { portal: P1 });
  t.equal(s.code, 0, s.stderr);
  t.equal(w.calls().filter((c) => c[1] === "discovery").length, 0, "no discovery");
  t.same(w.sessions().map((x) => [x.portal, x.state]), [[P1, "LOGGED_IN"]]);
  t.match(readFileSync(rec, "utf8"), /^node\.startup = manual$/m, "the record made manual");
  t.equal(ra(w, "stop", { portal: P1 }).code, 0);
});

t.test("two portals of one target: one session each, stop takes only its own", async (t) => {
  const w = new InitiatorWorld("paths", [{ iqn: IQN, tpgt: 1, portals: [P1, P2], luns: [1, 2] }]);
  t.teardown(() => w.destroy());
  t.equal(ra(w, "start", { portal: "127.0.0.1" }).code, 0);
  t.equal(ra(w, "monitor", { portal: "127.0.0.10" }).code, 7, "the second path is not taken for the first");
  t.equal(ra(w, "start", { portal: "127.0.0.10" }).code, 0);
  t.same(w.sessions().map((s) => s.portal).sort(), [P1, P2].sort());
  t.equal(w.disks(w.sessionOf(P2)).length, 2, "both LUNs through the second path");
  const st = ra(w, "stop", { portal: "127.0.0.1" });
  t.equal(st.code, 0, st.stderr);
  t.same(w.sessions().map((s) => s.portal), [P2], "127.0.0.1's session only; 127.0.0.10's stays");
  t.equal(ra(w, "monitor", { portal: "127.0.0.10" }).code, 0);
  t.equal(ra(w, "monitor", { portal: "127.0.0.1:3260" }).code, 7);
  t.equal(ra(w, "stop", { portal: "127.0.0.10" }).code, 0);
});

t.test("a failed path: monitor fails with the state; try_recovery waits for the kernel's recovery", async (t) => {
  const w = new InitiatorWorld("failed");
  t.teardown(() => w.destroy());
  const pr = { portal: "127.0.0.1" };
  t.equal(ra(w, "start", pr).code, 0);
  const sid = w.sessionOf(P1);
  // what the kernel showed once a cut path's recovery_tmo had passed (recorded: iscsiadm/16)
  w.setState(sid, "FREE");
  for (const d of w.disks(sid)) w.setDiskState(d, "transport-offline");
  const m = ra(w, "monitor", pr, { meta: { interval: 120000 } });
  t.equal(m.code, 1);
  t.match(m.reason, /session \d+ .*FREE, connection failed.*not logged in/);
  const slow = ra(w, "monitor", { ...pr, try_recovery: "true" }, { meta: { interval: 120000, timeout: 2500 } });
  t.equal(slow.code, 1, "no recovery within the timeout: 1");
  t.ok(slow.ms > 1500, `waited for recovery (${Math.round(slow.ms)} ms)`);
  const probe = ra(w, "monitor", { ...pr, try_recovery: "true" }, { meta: { timeout: 20000 } });
  t.equal(probe.code, 1, "a probe never waits");
  t.ok(probe.ms < 5000);
  const p = runAgentAsync(bin, "monitor", { params: { target: IQN, ...pr, try_recovery: "true" }, env: w.env(), meta: { interval: 120000, timeout: 10000 } });
  setTimeout(() => w.setState(sid, "LOGGED_IN"), 700);
  const r = await p;
  t.equal(r.code, 0, `recovered while monitor waited: ${r.stderr}`);
  t.match(r.stderr, /waiting for the kernel's recovery/);
});

t.test("stop refuses to log out under a mount, an active LV, or the last live path of a used multipath map", async (t) => {
  const w = new InitiatorWorld("users", [{ iqn: IQN, tpgt: 1, portals: [P1, P2], luns: [1] }]);
  t.teardown(() => w.destroy());
  t.equal(ra(w, "start", { portal: "127.0.0.1" }).code, 0);
  const [sd1] = w.disks(w.sessionOf(P1));
  w.mount(sd1!, "/srv/data");
  let r = ra(w, "stop", { portal: "127.0.0.1" });
  t.equal(r.code, 1);
  t.match(r.reason, new RegExp(`${sd1} is mounted on /srv/data`));
  t.equal(w.sessions().length, 1, "still logged in");
  t.notOk(w.calls().some((c) => c.includes("--logout")), "no logout tried");
  w.unmountAll();

  w.holder(0, "vg--san-vm101", "LVM-aaaabbbbccccddddeeeeffffgggghhhh11112222333344445555666677778888", [sd1!]);
  r = ra(w, "stop", { portal: "127.0.0.1" });
  t.equal(r.code, 1);
  t.match(r.reason, /holds the active LVM volume vg-san\/vm101 \(dm-0\)/);
  w.removeHolders();

  t.equal(ra(w, "start", { portal: "127.0.0.10" }).code, 0);
  const [sd2] = w.disks(w.sessionOf(P2));
  const map = w.holder(1, "mpatha", "mpath-36001405aaaabbbbccccdddd", [sd1!, sd2!]);
  r = ra(w, "stop", { portal: "127.0.0.1" });
  t.equal(r.code, 0, `an unused map is no user: ${r.reason}`);
  t.equal(ra(w, "start", { portal: "127.0.0.1" }).code, 0);
  w.removeHolders();
  const [sd1b] = w.disks(w.sessionOf(P1));
  w.holder(1, "mpatha", "mpath-36001405aaaabbbbccccdddd", [sd1b!, sd2!]);
  w.mount(map, "/srv/gfs2", "gfs2");
  w.setDiskState(sd2!, "transport-offline");
  r = ra(w, "stop", { portal: "127.0.0.1" });
  t.equal(r.code, 1, "the other path is offline: this is the last live one");
  t.match(r.reason, new RegExp(`${sd1b} is the last live path of multipath map mpatha \\(dm-1 is mounted on /srv/gfs2\\)`));
  w.setDiskState(sd2!, "running");
  r = ra(w, "stop", { portal: "127.0.0.1" });
  t.equal(r.code, 0, `the map keeps its other live path: ${r.reason}`);
  r = ra(w, "stop", { portal: "127.0.0.10" });
  t.equal(r.code, 1, "now 127.0.0.10 is the last path of the mounted map");
  t.match(r.reason, /last live path of multipath map mpatha/);
  w.unmountAll();
  t.equal(ra(w, "stop", { portal: "127.0.0.10" }).code, 0);
});

t.test("discovery and login failures: clear reasons and the right codes", async (t) => {
  const w = new InitiatorWorld("disc", [
    { iqn: IQN, tpgt: 1, portals: [P1, "127.0.0.2:3260"], luns: [1] },
    { iqn: `${IQN}-other`, tpgt: 1, portals: ["127.0.0.3:3260"], luns: [1] },
  ]);
  t.teardown(() => w.destroy());
  let r = ra(w, "start", { portal: "127.0.0.3" });
  t.equal(r.code, 6, "not offered at this portal: a configuration error");
  t.match(r.reason, /iqn\.2026-01\.org\.tsstor\.test:array is offered at 127\.0\.0\.1:3260,1, 127\.0\.0\.2:3260,1, not at 127\.0\.0\.3:3260: set portal to one of those/);
  r = ra(w, "start", { portal: "127.0.0.9" });
  t.equal(r.code, 1);
  t.match(r.reason, /discovery \(sendtargets\) at 127\.0\.0\.9:3260 failed: cannot make connection to 127\.0\.0\.9: Connection refused; .*Could not perform SendTargets discovery: iSCSI PDU timed out \(exit 11\)/);
  w.setDown("127.0.0.2:3260");
  t.equal(ra(w, "start", { portal: "127.0.0.1" }).code, 0, "path 1 up");
  r = ra(w, "start", { portal: "127.0.0.2" });
  t.equal(r.code, 1, "path 2 down: its record exists (discovered through path 1), the login times out");
  t.match(r.reason, /login to .* at 127\.0\.0\.2:3260 failed: Could not login to .*initiator reported error \(8 - connection timed out\) \(exit 8\)/);
  t.notMatch(r.reason, /Could not log into all portals/);
  w.setDown("127.0.0.2:3260", false);
  t.equal(ra(w, "stop", { portal: "127.0.0.1" }).code, 0);
  w.setIscsid(false);
  r = ra(w, "start", { portal: "127.0.0.1" });
  t.equal(r.code, 5, "iscsid not running: not installed/set up on this node");
  t.match(r.reason, /iscsid is not running/);
  r = ra(w, "start", { portal: "127.0.0.1", iscsiadm: "/nonexistent/iscsiadm" });
  t.equal(r.code, 5);
  t.match(r.reason, /\/nonexistent\/iscsiadm not found: install open-iscsi/);
  t.equal(ra(w, "monitor", { portal: "127.0.0.1", iscsiadm: "/nonexistent/iscsiadm" }).code, 7, "monitor needs no iscsiadm");
  t.equal(ra(w, "stop", { portal: "127.0.0.1", iscsiadm: "/nonexistent/iscsiadm" }).code, 0, "nor does a stop with nothing to do");
});

t.test("start waits for the LUNs inside its timeout and names what it waited for", async (t) => {
  const w = new InitiatorWorld("nolun", [{ iqn: IQN, tpgt: 1, portals: [P1], luns: [] }]);
  t.teardown(() => w.destroy());
  const r = ra(w, "start", { portal: "127.0.0.1" }, { meta: { timeout: 2500 } });
  t.equal(r.code, 1);
  t.match(r.reason, /logged in, but the start timeout ran out waiting for a LUN of session \d+/);
  t.ok(r.ms < 2500, `within the timeout (${Math.round(r.ms)} ms)`);
  const m = ra(w, "monitor", { portal: "127.0.0.1" });
  t.equal(m.code, 1, "logged in without a LUN: failed");
  t.match(m.reason, /has no LUN/);
});

t.test("CHAP and mutual CHAP from root-only files, into the node record, never in argv or output", async (t) => {
  const SECRET = "Chap-Secret-4242";
  const TSECRET = "Target-Secret-77";
  const w = new InitiatorWorld("chap", [{ iqn: IQN, tpgt: 1, portals: [P1], luns: [1], chap: { username: "node1", password: SECRET, usernameIn: "array", passwordIn: TSECRET } }]);
  t.teardown(() => w.destroy());
  const f = join(w.dir, "chap.secret");
  const ft = join(w.dir, "chap-in.secret");
  writeFileSync(f, `${SECRET}\n`, { mode: 0o600 });
  writeFileSync(ft, `${TSECRET}\n`, { mode: 0o600 });
  let r = ra(w, "start", { portal: "127.0.0.1" });
  t.equal(r.code, 1);
  t.match(r.reason, /authentication failed .*the target may require CHAP/);
  const pr = { portal: "127.0.0.1", chap_username: "node1", chap_password_file: f, chap_username_in: "array", chap_password_in_file: ft };
  chmodSync(f, 0o644);
  r = ra(w, "start", pr);
  t.equal(r.code, 6);
  t.match(r.reason, /chap_password_file: .* is accessible to group or others \(mode 644\)/);
  chmodSync(f, 0o600);
  r = ra(w, "start", pr);
  t.equal(r.code, 0, r.stderr);
  const rec = readFileSync(w.record(P1), "utf8");
  t.match(rec, /^node\.session\.auth\.authmethod = CHAP$/m);
  t.match(rec, new RegExp(`^node\\.session\\.auth\\.password = ${SECRET}$`, "m"));
  t.match(rec, new RegExp(`^node\\.session\\.auth\\.password_in = ${TSECRET}$`, "m"));
  t.notMatch(JSON.stringify(w.calls()), new RegExp(`${SECRET}|${TSECRET}`), "no secret in any argv");
  t.notMatch(r.stderr + r.stdout, new RegExp(`${SECRET}|${TSECRET}`), "nor in the agent's output");
  t.equal(ra(w, "stop", pr).code, 0);
  writeFileSync(f, "Wrong-Secret-000\n", { mode: 0o600 });
  r = ra(w, "start", pr);
  t.equal(r.code, 1, "a wrong secret: login refused");
  writeFileSync(f, `${SECRET}\n`, { mode: 0o600 });
  writeFileSync(ft, "Wrong-Target-11\n", { mode: 0o600 });
  const m = ra(w, "start", pr);
  t.equal(m.code, 1, "the target fails the mutual check: refused");
  t.match(m.reason, /the target failed the mutual CHAP check .*\(19 - encountered non-retryable iSCSI login failure\)/);
  writeFileSync(f, "Wrong-Secret-000\n", { mode: 0o600 });
  t.match(r.reason, /authentication failed \(check chap_username and the secret file\)/);
  t.notMatch(r.stderr, /Wrong-Secret/);
  t.same(w.sessions(), []);
});

t.test("multipath=true: start waits for every LUN's multipath map, and names the LUN without one", async (t) => {
  const w = new InitiatorWorld("mpath", [{ iqn: IQN, tpgt: 1, portals: [P1], luns: [1, 2] }]);
  t.teardown(() => w.destroy());
  const pr = { target: IQN, portal: "127.0.0.1", multipath: "true" };
  const r = ra(w, "start", pr, { meta: { timeout: 2500 } });
  t.equal(r.code, 1);
  t.match(r.reason, /waiting for the multipath map of LUN 1 \(sd[a-z] is in none: is multipathd running/);
  t.equal(ra(w, "stop", pr).code, 0);
  const p = runAgentAsync(bin, "start", { params: pr, env: w.env(), meta: { timeout: 10000 } });
  // multipathd makes the maps a moment after the login: one map per LUN
  for (let i = 0; i < 100 && !(w.sessions().length && w.disks(w.sessions()[0]!.sid).length === 2); i++) await new Promise((res) => setTimeout(res, 50));
  const [a, b] = w.disks(w.sessions()[0]!.sid);
  w.holder(0, "mpatha", "mpath-36001405aaaa", [a!]);
  await new Promise((res) => setTimeout(res, 300));
  w.holder(1, "mpathb", "mpath-36001405bbbb", [b!]);
  const s = await p;
  t.equal(s.code, 0, s.stderr);
  t.equal(ra(w, "stop", pr).code, 0, "the unused maps do not hold the logout");
});
