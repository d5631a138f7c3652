// Runner.which: tool lookup on the children's PATH, without a fork.
import t from "tap";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Budget } from "../../lib/ocf/budget.js";
import { Logger } from "../../lib/ocf/log.js";
import { Runner } from "../../lib/system/run.js";

t.test("which searches the PATH the runner gives children", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tsstor-which-"));
  writeFileSync(join(dir, "mytool"), "#!/bin/sh\n");
  chmodSync(join(dir, "mytool"), 0o755);
  writeFileSync(join(dir, "notexec"), "");
  const mk = (PATH: string) => new Runner(new Budget(10000), new Logger("T", "i", false, () => {}), { PATH });
  t.equal(mk(`/nonexistent:${dir}`).which("mytool"), join(dir, "mytool"));
  t.equal(mk(`${dir}`).which("notexec"), undefined, "not executable");
  t.equal(mk("/usr/bin:/bin").which("mytool"), undefined);
  t.equal(mk("/usr/bin:/bin").which("sh"), "/usr/bin/sh");
  t.equal(mk("").which(join(dir, "mytool")), join(dir, "mytool"), "a path is checked as is");
  t.equal(mk("").which(dir), undefined, "a directory is not a tool");
});
