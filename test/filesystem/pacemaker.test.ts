// Filesystem through Pacemaker's own tools: crm_resource metadata and --validate (good and bad),
// pcs -f creating the published setups (a GFS2 clone, ext4 on DRBD with a depth-20 monitor), the agent
// run from a CIB with crm_resource --force-*, and ocf-tester on a real loop-device ext4.
import t from "tap";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { installAgents, RA_DIR, sh } from "../lib/install.js";
import { checkRng } from "../lib/xml.js";
import { PATH, Scratch, isMounted } from "./lib.js";

installAgents(["Filesystem"]);
const s = new Scratch(t, "pcmk");
const dev = s.loop("pcmk", "ext4");
const cib = s.path("cib.xml");
const env = { HA_RSCTMP: s.mkdir("rsctmp"), PATH };

t.test("crm_resource --show-metadata", async (t) => {
  const r = sh("crm_resource", ["--show-metadata", "ocf:tsstor:Filesystem"]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /<version>1\.1<\/version>/);
  const rng = checkRng(r.stdout);
  t.ok(rng.ok || /failed to load external entity/.test(rng.out), `valid OCF 1.1 (when the schema is at hand): ${rng.out}`);
  for (const p of ["device", "directory", "fstype", "options", "statusfile_prefix", "run_fsck", "fast_stop", "force_clones", "force_unmount", "term_signals", "kill_signals", "signal_delay"]) {
    t.match(r.stdout, new RegExp(`<parameter name="${p}"`), `has upstream's parameter ${p}`);
  }
});

t.test("crm_resource --validate: good and bad (no cluster, no clone meta)", async (t) => {
  const base = ["--validate", "--class", "ocf", "--provider", "tsstor", "--agent", "Filesystem"];
  const o = (kv: Record<string, string>) => Object.entries(kv).flatMap(([k, v]) => ["--option", `${k}=${v}`]);
  const good = { device: dev, directory: s.path("v"), fstype: "ext4" };
  const ok = sh("crm_resource", [...base, ...o(good)]);
  t.equal(ok.code, 0, ok.out);
  t.match(ok.out, /returned 0 \(ok\)/);
  const ok10 = sh("crm_resource", ["--validate=10", ...base.slice(1), ...o(good)]);
  t.equal(ok10.code, 0, `level 10 on a real device: ${ok10.out}`);
  const gfs = sh("crm_resource", [...base, ...o({ device: "/dev/vg_gfs/lv_gfs", directory: "/mnt/gfs", fstype: "gfs2" })]);
  t.equal(gfs.code, 0, "a GFS2 clone's parameters validate without clone meta at level 0");

  const cases: Array<[Record<string, string>, number, RegExp, string?]> = [
    [{ device: dev, directory: "/mnt/x" }, 6, /parameter fstype is required/],
    [{ ...good, directory: "relative/dir" }, 6, /parameter directory must be an absolute path/],
    [{ ...good, term_signals: "TERM NOPE" }, 6, /parameter term_signals names unknown signals: NOPE/],
    [{ device: "/dev/vg_gfs/lv_gfs", directory: "/mnt/gfs", fstype: "gfs2", fast_stop: "yes" }, 6, /fast_stop is refused for gfs2/],
    [{ ...good, device: "/dev/tsf-no-such-device" }, 5, /couldn't find device \/dev\/tsf-no-such-device on this node/, "10"],
  ];
  for (const [kv, code, reason, level] of cases) {
    const r = sh("crm_resource", [level ? `--validate=${level}` : "--validate", ...base.slice(1), ...o(kv), "--output-as=xml"]);
    t.equal(r.code, code, JSON.stringify(kv));
    const m = /<agent-status code="(\d+)"[^>]*reason="([^"]*)"/.exec(r.stdout);
    t.equal(Number(m?.[1]), code);
    t.match(m?.[2] ?? "", reason);
  }
});

t.test("pcs -f: a GFS2 clone on a SAN LUN and ext4 on DRBD with a depth-20 monitor", async (t) => {
  t.equal(sh("bash", ["-c", `cibadmin --empty > ${cib}`]).code, 0);
  const gfs = sh("pcs", [
    "-f", cib, "resource", "create", "gfs", "ocf:tsstor:Filesystem",
    "device=/dev/vg_gfs/lv_gfs", "directory=/mnt/gfs", "fstype=gfs2", "options=noatime",
    "op", "monitor", "interval=10s", "on-fail=fence", "clone", "interleave=true",
  ]);
  t.equal(gfs.code, 0, gfs.stderr);
  const fs = sh("pcs", [
    "-f", cib, "resource", "create", "data", "ocf:tsstor:Filesystem",
    `device=${dev}`, `directory=${s.path("pcs-data")}`, "fstype=ext4", "options=noatime",
    "op", "monitor", "interval=20s", "timeout=40s", "monitor", "interval=61s", "OCF_CHECK_LEVEL=20",
  ]);
  t.equal(fs.code, 0, fs.stderr);
  const xml = readFileSync(cib, "utf8");
  t.match(xml, /<clone id="gfs-clone">\s*<primitive id="gfs" class="ocf" type="Filesystem" provider="tsstor">/);
  t.match(xml, /<nvpair id="gfs-clone-meta_attributes-interleave" name="interleave" value="true"\/>/);
  t.match(xml, /name="OCF_CHECK_LEVEL" value="20"/, "the deep monitor carries its depth");
  t.match(xml, /<op name="monitor" interval="10s" on-fail="fence" id="gfs-monitor-interval-10s"\/>/);

  const unknown = sh("pcs", ["-f", cib, "resource", "create", "x", "ocf:tsstor:Filesystem", `device=${dev}`, "directory=/mnt/x", "fstype=ext4", "bogus=1"]);
  t.not(unknown.code, 0);
  t.match(unknown.stderr, /invalid resource option 'bogus'/);
  const missing = sh("pcs", ["-f", cib, "resource", "create", "y", "ocf:tsstor:Filesystem", `device=${dev}`, "directory=/mnt/y"]);
  t.not(missing.code, 0);
  t.match(missing.stderr, /fstype/);
  t.match(sh("pcs", ["resource", "describe", "ocf:tsstor:Filesystem"]).stdout, /force_clones/);

  // crm_resource runs the agent with the CIB's parameters, for real.
  const e = { CIB_file: cib, ...env };
  t.match(sh("crm_resource", ["-r", "data", "--force-check"], e).out, /returned 7 \(not running\)/);
  const st = sh("crm_resource", ["-r", "data", "--force-start"], e);
  t.equal(st.code, 0, st.out);
  t.ok(isMounted(s.path("pcs-data")));
  t.match(sh("crm_resource", ["-r", "data", "--force-check"], e).out, /returned 0 \(ok\)/);
  t.equal(sh("crm_resource", ["-r", "data", "--force-stop"], e).code, 0);
  t.notOk(isMounted(s.path("pcs-data")));
});

t.test("ocf-tester passes on a loop-device ext4", async (t) => {
  const r = sh("ocf-tester", ["-n", "fs1", "-o", `device=${dev}`, "-o", `directory=${s.path("tester")}`, "-o", "fstype=ext4", join(RA_DIR, "Filesystem")], env);
  t.equal(r.code, 0, r.out);
  t.match(r.out, /passed all tests/);
  t.notOk(isMounted(s.path("tester")), "left unmounted");
});
