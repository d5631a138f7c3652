// lib/system/proc.ts: the one /proc/PID/stat parser and the pid-reuse-safe signal.
import t from "tap";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { identify, idText, isZombie, parseId, parseStat, procComm, procStartTime, procStat, signalSame, stillRunning } from "../../lib/system/proc.js";

// a zombie's line, comm with a space and a ')' (the kernel does not escape either)
const ZOMBIE =
  "4242 (a b) c) Z 17 4242 4242 0 -1 4227916 10 0 0 0 0 0 0 0 20 0 1 0 987654 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 256";

t.test("parseStat splits after the last ')' and reads the fields by number", async (t) => {
  const s = parseStat(ZOMBIE)!;
  t.same(s, { comm: "a b) c", state: "Z", ppid: 17, flags: 4227916, start: "987654", exitCode: 256 });
  t.ok(isZombie(s));
  t.equal(parseStat("garbage"), undefined);
});

t.test("a zombie or a gone process has no start time and no name; a fake /proc root is read", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "tsstor-proc-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, "4242"));
  writeFileSync(join(root, "4242", "stat"), ZOMBIE);
  t.equal(procStat(4242, root)?.comm, "a b) c");
  t.equal(procStartTime(4242, root), undefined);
  t.equal(procComm(4242, root), undefined);
  t.equal(procStat(4243, root), undefined);
});

t.test("this process: its stat, its parent, its name", async (t) => {
  const self = procStat("self")!;
  t.equal(self.ppid, process.ppid);
  t.equal(procStartTime(process.pid), self.start);
  t.ok(procComm(process.pid));
});

t.test("idText/parseId round-trip; a bare pid parses with no start time", async (t) => {
  t.same(parseId(idText({ pid: 12, start: "345" })), { pid: 12, start: "345" });
  t.same(parseId("12\n"), { pid: 12, start: "" });
  t.equal(parseId("x 1"), undefined);
  t.equal(parseId("0 1"), undefined);
});

t.test("signalSame signals the process seen, never a pid whose start time changed", async (t) => {
  const child = spawn("sleep", ["30"]);
  await new Promise((r) => setTimeout(r, 50));
  const id = identify(child.pid!)!;
  t.ok(stillRunning(id));
  t.notOk(signalSame({ pid: id.pid, start: `${Number(id.start) + 1}` }, "SIGTERM"), "another start time: not sent");
  t.notOk(stillRunning({ pid: id.pid, start: "1" }));
  const exited = new Promise((r) => child.on("exit", r));
  t.ok(signalSame(id, "SIGTERM"));
  await exited;
  t.notOk(stillRunning(id));
  t.notOk(signalSame(id, "SIGTERM"), "gone: not sent");
});
