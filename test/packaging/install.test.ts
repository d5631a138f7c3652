// packaging/install.sh into a staging root: layout, modes, links, and a clean uninstall.
import t from "tap";
import { existsSync, lstatSync, readFileSync, readlinkSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { scratchDir } from "../lib/harness.js";
import { sh } from "../lib/install.js";

const dest = scratchDir("destdir");

t.test("install with DESTDIR and OCF_ROOT, then uninstall", async (t) => {
  const agents = sh("build/tsstor-agents", ["--list"]).stdout.split("\n").filter(Boolean);
  const r = sh("bash", ["packaging/install.sh"], { DESTDIR: dest, OCF_ROOT: "/opt/ocf" });
  t.equal(r.code, 0, r.out);
  const bin = join(dest, "usr/lib/tsstor/tsstor");
  t.ok(existsSync(bin));
  t.ok(lstatSync(bin).isFile(), "one executable, a file");
  t.equal(statSync(bin).mode & 0o777, 0o755);
  t.equal(readlinkSync(join(dest, "usr/lib/tsstor/tsstor-agents")), "tsstor", "tsstor-agents: a link to it");
  t.equal(readlinkSync(join(dest, "usr/sbin/tsstor")), "/usr/lib/tsstor/tsstor", "the command: a link to it");
  const files = readdirSync(join(dest, "usr/lib/tsstor"));
  t.same(files.sort(), ["tsstor", "tsstor-agents"], "nothing else in the library directory");
  const ra = join(dest, "opt/ocf/resource.d/tsstor");
  t.same(readdirSync(ra).sort(), [...agents].sort(), "one front per agent");
  for (const a of agents) {
    const f = join(ra, a);
    t.ok(lstatSync(f).isFile() && (statSync(f).mode & 0o777) === 0o755, `${a}: an executable file`);
    const text = readFileSync(f, "utf8");
    t.ok(text.startsWith("#!/bin/sh\n"), `${a}: a POSIX sh front`);
    t.match(text, new RegExp(`^  exec /usr/lib/tsstor/tsstor-agents ${a} "\\$@"$`, "m"), `${a}: execs the final path, not DESTDIR`);
  }
  const u = sh("bash", ["packaging/install.sh", "--uninstall"], { DESTDIR: dest, OCF_ROOT: "/opt/ocf" });
  t.equal(u.code, 0, u.out);
  t.notOk(existsSync(bin));
  t.notOk(existsSync(join(dest, "usr/lib/tsstor")));
  t.notOk(existsSync(join(dest, "usr/sbin/tsstor")));
  t.notOk(existsSync(ra));
});
