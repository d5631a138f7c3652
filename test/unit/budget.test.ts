import t from "tap";
import { Budget, marginFor } from "../../lib/budget.js";

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
