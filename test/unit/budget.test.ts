import t from "tap";
import { Budget, marginFor, retryLoop } from "../../lib/ocf/budget.js";
import { fail, OCF, OcfError } from "../../lib/ocf/codes.js";

t.test("margin is 10% bounded to 0.5..2 s", async (t) => {
  t.equal(marginFor(20000), 2000);
  t.equal(marginFor(100000), 2000);
  t.equal(marginFor(5000), 500);
  t.equal(marginFor(1000), 500);
});

t.test("budget arithmetic with a fake clock", async (t) => {
  let now = 1000;
  const b = new Budget(20000, () => now);
  t.equal(b.usableMs, 18000);
  t.equal(b.remainingMs(), 18000);
  now += 5000;
  t.equal(b.elapsedMs(), 5000);
  t.equal(b.remainingMs(), 13000);
  t.equal(b.slice(1000), 1000);
  t.equal(b.slice(), 13000);
  const half = b.fraction(0.5);
  t.equal(half.remainingMs(), 6500);
  now += 7000;
  t.equal(half.remainingMs(), 0);
  t.ok(half.expired());
  t.equal(b.remainingMs(), 6000);
  now += 100000;
  t.equal(b.remainingMs(), 0, "never negative");
  t.ok(b.expired());
});

t.test("fromMeta prefers CRM_meta_timeout, else the declared seconds", async (t) => {
  t.equal(Budget.fromMeta(5000, 20).totalMs, 5000);
  t.equal(Budget.fromMeta(undefined, 20).totalMs, 20000);
  t.equal(Budget.fromMeta(0, 30).totalMs, 30000);
});

t.test("fromMeta counts the process's own start-up against the timeout", async (t) => {
  const b = Budget.fromMeta(5000, 20);
  t.ok(b.elapsedMs() >= performance.now() - 1, "elapsed since the process started");
  t.ok(Math.abs(b.elapsedMs() - performance.now()) < 50);
});

t.test("retryLoop: a step cut short by the deadline reports the loop's last real failure", async (t) => {
  let now = 0;
  const b = new Budget(10000, () => now, 5000);
  let last = "";
  const late = () => fail.generic(`stop failed: ${last || "timed out"}`);
  const reason = (f: () => unknown) => {
    try {
      retryLoop(b, f, late);
      return "returned";
    } catch (e) {
      return e instanceof OcfError ? `${e.code} ${e.message}` : String(e);
    }
  };
  // the last attempt started just inside the budget; its command was refused after it
  t.equal(
    reason(() => {
      last = "secondary: held open";
      now = 5001;
      throw fail.generic("time budget exhausted before running drbdadm");
    }),
    "1 stop failed: secondary: held open",
  );
  now = 0;
  t.equal(reason(() => { throw fail.generic("cannot read the DRBD state"); }), "1 cannot read the DRBD state", "inside the budget: the error itself");
  now = 6000;
  t.equal(reason(() => { throw fail.configured("bad"); }), `${OCF.ERR_CONFIGURED} bad`, "other codes pass unchanged");
  t.equal(reason(() => { throw new Error("boom"); }), "1 stop failed: secondary: held open", "a plain error after the deadline too");
  t.equal(retryLoop(b, () => 42, late), 42);
});
