// `tsstor doctor` as a command: human and JSON output, exit codes (0 / 1 on errors / 2 when it
// cannot run), the live path through cibadmin -Q, --list covering every hazard id the checks can
// emit, help text and shell completion.
import t from "tap";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CATALOGUE } from "../../cli/hazards/index.js";
import { scratchDir } from "../lib/harness.js";
import { REPO } from "../lib/xml.js";
import { CLI, STONITH, HOWTO_DRBD_ISCSI, buildCib, doctor, ids, nodeRoot } from "./lib.js";

const tmp = scratchDir("doctor-cli");
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
const seed = buildCib(join(tmp, "seed.xml"), [["property", "set", "stonith-enabled=false"], ...HOWTO_DRBD_ISCSI.slice(0, 2)]);
const root = nodeRoot(join(tmp, "root"));
const cli = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(CLI, args, { encoding: "utf8", env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

t.test("human output: severity, id, subject, why, fix; summary line; exit 1 on errors", async (t) => {
  const r = cli(["doctor", "-f", seed, "--root", root]);
  t.equal(r.code, 1);
  t.match(r.stdout, /^tsstor doctor: CIB from .*seed\.xml\n  corosync  .*\/etc\/corosync\/corosync\.conf\n/);
  t.match(r.stdout, /\nERROR \[stonith-disabled\] cluster\n  fencing is disabled \(stonith-enabled=false\)\n  why: Pacemaker cannot/);
  t.match(r.stdout, /\n  fix:\n    pcs stonith list/);
  t.match(r.stdout, /\nINFO \[migrate-to-tsstor\] resource p_DRBD\n/);
  t.match(r.stdout, /\n2 error\(s\), 0 warning\(s\), 1 info\. Exit status 1\.\n$/);
  for (const l of r.stdout.split("\n").filter((x) => x.startsWith("  ") && !x.startsWith("    "))) t.ok(l.length <= 100, `wrapped: ${l.slice(0, 40)}...`);
});

t.test("--json: the same findings, errors first, summary and exitCode", async (t) => {
  const d = doctor(["-f", seed, "--root", root]);
  t.equal(d.code, 1);
  t.same(d.report.summary, { error: 2, warning: 0, info: 1 });
  t.equal(d.report.exitCode, 1);
  t.same(d.report.findings.map((f) => f.severity), ["error", "error", "info"]);
  for (const f of d.report.findings) t.same(Object.keys(f).sort(), ["fix", "id", "message", "reason", "severity", "subject"]);
  const fenced = buildCib(join(tmp, "fenced.xml"), [...HOWTO_DRBD_ISCSI.slice(0, 2), ...STONITH]);
  const ok = doctor(["-f", fenced, "--root", root]);
  t.equal(ok.code, 0, "only info: exit 0");
  t.same(ids(ok.report), ["migrate-to-tsstor"]);
});

t.test("exit 2 when the doctor cannot run: unreadable CIB, missing files given explicitly", async (t) => {
  const nope = cli(["doctor", "-f", join(tmp, "nope.xml")]);
  t.equal(nope.code, 2);
  t.match(nope.stderr, /^tsstor doctor: cannot read the CIB file .*nope\.xml/);
  writeFileSync(join(tmp, "bad.xml"), "<cib><configuration>");
  const bad = cli(["doctor", "-f", join(tmp, "bad.xml")]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /bad\.xml: not XML: .*\(line 1\)/);
  for (const opt of ["--corosync-conf", "--drbd-conf", "--lvm-conf", "--multipath-conf", "--systemd-dir", "--proc-drbd"]) {
    const r = cli(["doctor", "-f", seed, "--root", root, opt, join(tmp, "absent")]);
    t.equal(r.code, 2, opt);
    t.match(r.stderr, new RegExp(`${opt} .*absent: no such file`));
  }
  const bogus = cli(["doctor", "-f", seed, "--bogus"]);
  t.equal(bogus.code, 2, "unknown option");
  t.equal(bogus.stdout, "", "and nothing ran");
});

t.test("every path has an option: the explicit files win over --root", async (t) => {
  const other = nodeRoot(join(tmp, "other"), {
    write: { "etc/corosync/corosync.conf": "totem {\n\tversion: 2\n\tcluster_name: other\n}\nquorum {\n\tprovider: corosync_votequorum\n}\n" },
  });
  const d = doctor(["-f", seed, "--root", root, "--corosync-conf", join(other, "etc/corosync/corosync.conf")]);
  t.same(ids(d.report, "error"), ["stonith-disabled"], "not two_node any more: the other corosync.conf was read");
  t.match(d.report.sources.corosync, /other\/etc\/corosync\/corosync\.conf$/);
  const e = doctor(["-f", seed, "--root", root, "--drbd-conf", join(other, "etc/drbd.conf"), "--lvm-conf", join(other, "etc/lvm/lvm.conf"), "--multipath-conf", join(other, "etc/multipath.conf"), "--systemd-dir", join(other, "etc/systemd/system"), "--proc-drbd", join(other, "proc/drbd")]);
  for (const k of ["drbd", "lvm", "multipath", "systemd"]) t.match(e.report.sources[k], /\/other\//, k);
});

t.test("live: the CIB comes from cibadmin -Q; a failing cibadmin is exit 2 with a hint", async (t) => {
  const bin = join(tmp, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "cibadmin"), `#!/bin/sh\n[ "$*" = "-Q" ] || exit 64\n[ -n "$FAKE_CIB" ] && exec cat "$FAKE_CIB"\necho "Could not connect to the CIB: Transport endpoint is not connected" >&2\nexit 102\n`);
  chmodSync(join(bin, "cibadmin"), 0o755);
  const env = { PATH: `${bin}:${process.env.PATH}` };
  const d = doctor(["--root", root], { ...env, FAKE_CIB: seed });
  t.equal(d.code, 1);
  t.equal(d.report.sources.cib, "cibadmin -Q");
  t.same(ids(d.report, "error"), ["stonith-disabled", "two-node-no-fencing"]);
  const down = cli(["doctor", "--root", root], env);
  t.equal(down.code, 2);
  t.match(down.stderr, /cibadmin -Q failed \(Could not connect to the CIB.*\): run on a cluster node, or give a CIB file with -f FILE/);
});

t.test("--list names every hazard id the checks can emit", async (t) => {
  const r = cli(["doctor", "--list"]);
  t.equal(r.code, 0);
  const listed = r.stdout.trim().split("\n").map((l) => l.split(/\s+/)[0]!);
  t.same(listed, CATALOGUE.map((c) => c.id));
  // ids written in the sources: id: "..." in cli/hazards and cli/doctor.ts
  const files = [...readdirSync(join(REPO, "cli/hazards")).map((f) => join(REPO, "cli/hazards", f)), join(REPO, "cli/doctor.ts")];
  const emitted = new Set(files.flatMap((f) => [...readFileSync(f, "utf8").matchAll(/\bid: "([a-z0-9-]+)"/g)].map((m) => m[1]!)));
  for (const id of emitted) t.ok(listed.includes(id), `${id} is listed`);
  t.ok(emitted.size >= 30, `${emitted.size} ids found in the sources`);
});

t.test("help documents severities and exit codes; bash completion knows doctor", async (t) => {
  const h = cli(["doctor", "--help"]);
  t.equal(h.code, 0);
  const flat = h.stdout.replace(/\s+/g, " ");
  t.match(flat, /Exit status: 0 no errors \(warnings and info allowed\), 1 at least one error, 2 the doctor could not run/);
  t.match(flat, /Severities: error = split brain/);
  for (const o of ["--cib", "-f", "--json", "--root", "--corosync-conf", "--drbd-conf", "--lvm-conf", "--multipath-conf", "--multipath-conf-dir", "--systemd-dir", "--proc-drbd", "--migrate-script", "--list"]) t.match(h.stdout, o);
  const top = cli(["--help"]);
  t.match(top.stdout, /tsstor doctor\s+check the cluster/);
  const c = cli(["--get-yargs-completions", "tsstor", "do"]);
  t.match(c.stdout, /^doctor/m);
  const o = cli(["--get-yargs-completions", "tsstor", "doctor", "--multi"]);
  t.match(o.stdout, /--multipath-conf/);
});

t.test("tsstor(8) documents doctor: synopsis, help, hazard list, exit status", async (t) => {
  const out = join(tmp, "tsstor.8");
  const g = spawnSync(join(REPO, "node_modules/@oven/bun-linux-x64-baseline/bin/bun"), [join(REPO, "scripts/gen-cli-man.ts"), CLI, out], { encoding: "utf8" });
  t.equal(g.status, 0, g.stderr);
  const page = readFileSync(out, "utf8");
  t.match(page, /\\fBtsstor doctor\\fR \[\\fB\\-f\\fR \\fIFILE\\fR\]/);
  t.match(page, /\.SS\ntsstor doctor\n\.nf\n/, "the doctor's --help");
  t.match(page, /\.SH DOCTOR HAZARDS\n\.nf\nstonith\\-disabled +error/);
  t.match(page, /tsstor doctor: 0 no error finding/);
  const man = spawnSync("man", ["-l", out], { encoding: "utf8", env: { ...process.env, MANWIDTH: "100", MAN_KEEP_FORMATTING: "0" } });
  if (man.error) t.comment("man not installed: rendering not checked");
  else {
    t.equal(man.status, 0, man.stderr);
    t.match(man.stdout, /lio-restore-enabled\s+error\s+LIO restore service enabled at boot/);
  }
});
