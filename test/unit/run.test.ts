import t from "tap";
import { Budget } from "../../lib/ocf/budget.js";
import { Logger } from "../../lib/ocf/log.js";
import { Runner, describeFailure, sleepMs } from "../../lib/system/run.js";
import { OcfError } from "../../lib/ocf/codes.js";

function mk(budgetMs = 10000) {
  const lines: string[] = [];
  const log = new Logger("T", "inst", true, (l) => lines.push(l));
  log.addSecret("s3cr3t");
  return { lines, log, run: new Runner(new Budget(0, undefined, budgetMs), log) };
}

t.test("argv goes to the program as is: no shell", async (t) => {
  const { run } = mk();
  const r = run.run("printf", ["%s|", "a b", "$(id)", ";rm -rf /", "`x`", "-n"]);
  t.equal(r.code, 0);
  t.equal(r.stdout, "a b|$(id)|;rm -rf /|`x`|-n|");
});

t.test("stdin carries input; debug log masks secrets and shows rc and duration", async (t) => {
  const { run, lines } = mk();
  const r = run.run("cat", [], { input: "s3cr3t" });
  t.equal(r.stdout, "s3cr3t");
  run.run("echo", ["user", "s3cr3t-suffix"]);
  const all = lines.join("");
  t.notMatch(all, /s3cr3t/);
  t.match(all, /exec echo user \*\*\*-suffix -> rc=0 \(\d+\.\d ms\)/);
  t.match(all, /T\(inst\)\[\d+\]: DEBUG: exec cat -> rc=0/);
});

t.test("missing program, failing program, LC_ALL=C", async (t) => {
  const { run } = mk();
  const m = run.run("no-such-program-xyz", []);
  t.ok(m.missing);
  t.equal(m.code, 127);
  t.equal(describeFailure(m), "no-such-program-xyz not found");
  const f = run.run("sh", ["-c", "echo oops >&2; exit 3"]);
  t.equal(f.code, 3);
  t.equal(describeFailure(f), "sh failed (rc=3): oops");
  t.equal(run.run("sh", ["-c", "echo $LC_ALL"]).stdout.trim(), "C");
  t.throws(() => run.must("false", []), OcfError);
  t.throws(() => run.run("echo", ["a\0b"]), OcfError);
});

t.test("timeout comes from the budget; exhausted budget runs nothing", async (t) => {
  const { run } = mk(300);
  const t0 = Date.now();
  const r = run.run("sleep", ["5"]);
  t.ok(r.timedOut);
  t.ok(Date.now() - t0 < 2000);
  sleepMs(350);
  t.throws(() => run.run("true", []), /time budget exhausted before running true/);
  t.equal(run.history.length, 1);
});

t.test("per-call cap below the budget", async (t) => {
  const { run } = mk(10000);
  const t0 = Date.now();
  t.ok(run.run("sleep", ["5"], { timeoutMs: 200 }).timedOut);
  t.ok(Date.now() - t0 < 2000);
});

t.test("which: finds programs on the children's PATH without forking", async (t) => {
  const { Runner } = await import("../../lib/system/run.js");
  const { Budget } = await import("../../lib/ocf/budget.js");
  const { Logger } = await import("../../lib/ocf/log.js");
  const r = new Runner(new Budget(5000), new Logger("t", "t", false, () => {}), { PATH: "/nonexistent:/bin" });
  t.equal(r.which("sh"), "/bin/sh");
  t.equal(r.which("no-such-program-xyz"), undefined);
  t.equal(r.which("/bin/sh"), "/bin/sh");
  t.equal(new Runner(new Budget(5000), new Logger("t", "t", false, () => {}), {}).which("sh"), "/usr/bin/sh", "default PATH when unset");
});
