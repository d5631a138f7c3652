import t from "tap";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Budget } from "../../lib/ocf/budget.js";
import { acquireLock, holderAlive, withLock } from "../../lib/system/lock.js";
import { readState, writeAtomic } from "../../lib/system/state-file.js";
import { procStartTime } from "../../lib/system/proc.js";
import { OcfError } from "../../lib/ocf/codes.js";

const dir = mkdtempSync(join(tmpdir(), "tsstor-lock-"));
t.teardown(() => spawnSync("rm", ["-rf", dir]));

t.test("acquire, release, reacquire", async (t) => {
  const h = acquireLock({ dir, name: "a", budget: new Budget(5000) });
  t.match(readFileSync(h.path, "utf8"), new RegExp(`^${process.pid} \\d+`));
  h.release();
  t.notOk(existsSync(h.path));
  t.equal(withLock({ dir, name: "a", budget: new Budget(5000) }, () => 42), 42);
});

t.test("a held lock times out within the budget with a reason naming the holder", async (t) => {
  const h = acquireLock({ dir, name: "b", budget: new Budget(5000) });
  const t0 = Date.now();
  let waitedFor = "";
  let err: unknown;
  try {
    acquireLock({ dir, name: "b", budget: new Budget(0, undefined, 300), onWait: (x) => (waitedFor = x) });
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof OcfError && err.code === 1 && /held by pid \d+/.test(err.message), String(err));
  t.ok(Date.now() - t0 < 2000);
  t.match(waitedFor, String(process.pid));
  h.release();
});

t.test("a dead holder's lock is stale and taken over; a reused pid is not the holder", async (t) => {
  const child = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
  const deadPid = Number(child.stdout.trim());
  writeFileSync(join(dir, "c.lock"), `${deadPid} 12345\n`);
  t.notOk(holderAlive(`${deadPid} 12345`));
  t.notOk(holderAlive(`${process.pid} 1`), "same pid, other start time: not alive");
  t.ok(holderAlive(`${process.pid} ${procStartTime(process.pid)}`));
  const h = acquireLock({ dir, name: "c", budget: new Budget(2000) });
  t.match(readFileSync(h.path, "utf8"), String(process.pid));
  h.release();
});

t.test("a lock released by its holder is taken by the waiter", async (t) => {
  // A live process (a sleeping child) holds it for 400 ms; once it exits (a zombie, as we do not
  // reap it while blocked) the lock is free.
  const sleeper = spawn("sleep", ["0.4"]);
  await new Promise((r) => setTimeout(r, 50));
  writeFileSync(join(dir, "d.lock"), `${sleeper.pid} ${procStartTime(sleeper.pid!)}\n`);
  const t0 = Date.now();
  const h = acquireLock({ dir, name: "d", budget: new Budget(5000), pollMs: 20 });
  const waited = Date.now() - t0;
  t.ok(waited >= 200, `waited ${waited} ms for the holder to die`);
  h.release();
});

t.test("atomic state files", async (t) => {
  const f = join(dir, "state");
  writeAtomic(f, "one\n");
  t.equal(readState(f), "one\n");
  writeAtomic(f, "two\n");
  t.equal(readState(f), "two\n");
  t.equal(readState(join(dir, "nope")), undefined);
});
