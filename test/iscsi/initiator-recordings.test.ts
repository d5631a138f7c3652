// The emulated kernel side of the fake iscsiadm (sysfs sessions, connections, SCSI disks and
// udev's by-path links) held to what the lab recorded on the real kernel: the recorded dump
// commands (test/recordings/iscsiadm/14-17) run against the emulation, after the same logins,
// a cut path and its recovery. (The iscsiadm messages themselves: test/recordings/replay.test.ts.)
import t from "tap";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { BUILD } from "../lib/harness.js";
import { recording, compareWithRecording } from "../lib/recordings.js";
import { InitiatorWorld } from "./initiator-world.js";
import { nodeRecordFiles, parseInitiatorPortal, setRecordKeys, type InitiatorPortal } from "../../lib/iscsi/initiator.js";

const ARRAY = "iqn.2003-01.org.tsstor.lab:array";
const w = new InitiatorWorld("rec", [
  { iqn: ARRAY, tpgt: 1, portals: ["127.0.0.1:3260", "127.0.0.10:3260"], luns: [1, 2] },
  { iqn: `${ARRAY}-chap`, tpgt: 1, portals: ["127.0.0.1:3261"], luns: [1] },
]);
t.teardown(() => w.destroy());

const adm = (...args: string[]) => spawnSync(join(BUILD, "test/fakes/iscsiadm"), args, { env: w.env(), encoding: "utf8" });
const dump = (name: string) => {
  const rec = recording("iscsiadm", name);
  const argv = rec.argv.map((a) => a.replaceAll("/sys/", `${w.sys}/`).replaceAll("/dev/", `${w.dev}/`));
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
  return { rec, got: { stdout: r.stdout.replaceAll(`${w.sys}/`, "/sys/"), stderr: r.stderr, code: r.status ?? -1 } };
};

t.equal(adm("-m", "discovery", "-t", "sendtargets", "-p", "127.0.0.1:3260", "-o", "new").status, 0);
// the lab set replacement_timeout = 10 in iscsid.conf before discovery (lab/guest/san.sh)
for (const p of ["127.0.0.1:3260", "127.0.0.10:3260"]) {
  setRecordKeys(nodeRecordFiles(w.db, ARRAY, parseInitiatorPortal(p) as InitiatorPortal), { "node.session.timeo.replacement_timeout": "10" });
  t.equal(adm("-m", "node", "-T", ARRAY, "-p", p, "--login").status, 0, `login ${p}`);
}

t.test("a logged-in session: the sysfs files the agent reads (14)", async (t) => {
  const { rec, got } = dump("14-sysfs-session");
  t.same(compareWithRecording(rec, got, {}), []);
});

t.test("udev's by-path links (15)", async (t) => {
  const { rec, got } = dump("15-by-path");
  t.same(compareWithRecording(rec, got, {}), []);
});

t.test("a cut path after recovery_tmo (16), and back (17)", async (t) => {
  const sid = w.sessionOf("127.0.0.10:3260");
  w.setState(sid, "FREE");
  for (const d of w.disks(sid)) w.setDiskState(d, "transport-offline");
  const cut = dump("16-sysfs-session-cut");
  // the kernel answers ENOTCONN for the current address while the connection is down; the
  // agent reads persistent_address/port, which stay readable
  t.same(compareWithRecording(cut.rec, cut.got, { mask: [["connection/(address|port) = .*", "connection/$1 = (not connected)"]] }), []);
  w.setState(sid, "LOGGED_IN");
  for (const d of w.disks(sid)) w.setDiskState(d, "running");
  const back = dump("17-sysfs-session-restored");
  t.same(compareWithRecording(back.rec, back.got, {}), []);
});

t.test("-m session -r SID -P 1, logged in (34) and on a cut path (35), as upstream's monitor reads it", async (t) => {
  const sid = w.sessionOf("127.0.0.1:3260");
  const mask: [string, string][] = [["SID: \\d+", "SID: N"], ["Iface Initiatorname: .*", "Iface Initiatorname: X"]];
  const rec34 = recording("iscsiadm", "34-session-print");
  const up = adm("-m", "session", "-r", String(sid), "-P", "1");
  t.same(compareWithRecording(rec34, { stdout: up.stdout, stderr: up.stderr, code: up.status ?? -1 }, { mask }), []);
  w.setState(sid, "FREE");
  const rec35 = recording("iscsiadm", "35-session-print-cut");
  const cut = adm("-m", "session", "-r", String(sid), "-P", "1");
  t.same(compareWithRecording(rec35, { stdout: cut.stdout, stderr: cut.stderr, code: cut.status ?? -1 }, { mask }), []);
  w.setState(sid, "LOGGED_IN");
});
