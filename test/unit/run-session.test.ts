// Runner.session under Bun (the compiled agents' runtime): one process fed in parts, with the
// agent waiting in between; exit codes read from the zombie; the budget ends a silent child.
import t from "tap";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { REPO } from "../lib/xml.js";

const BUN = join(REPO, "node_modules", "@oven", "bun-linux-x64-baseline", "bin", "bun");
const r = spawnSync(BUN, [join(REPO, "test", "fixtures", "session-probe.ts")], { encoding: "utf8", timeout: 30000 });
t.equal(r.status, 0, r.stderr);
const o = JSON.parse(r.stdout) as Record<string, any>;

t.test("parts are fed in order and the second waits for the first", async (t) => {
  t.equal(o.ready, true);
  t.equal(o.beforeSecond, "got:a\n", "the second part was not sent yet");
  t.equal(o.first.stdout, "got:a\ngot:b\n");
  t.equal(o.first.stderr, "Command not found mark\n");
  t.equal(o.first.code, 5, "exit status read from /proc while the child is a zombie");
  t.equal(o.first.timedOut, false);
});

t.test("a child that ends early, one that hangs, one that does not exist", async (t) => {
  t.equal(o.earlyReady, false);
  t.equal(o.early.code, 3);
  t.equal(o.hungReady, false);
  t.equal(o.hung.timedOut, true);
  t.equal(o.hung.code, 124);
  t.ok(o.hung.waited < 5000, `killed at the budget (${o.hung.waited} ms)`);
  t.equal(o.missing, true);
  t.equal(o.missingResult.missing, true);
  t.equal(o.history, 4, "every session is in the runner's history");
});
