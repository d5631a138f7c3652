// Parsers of the cluster LVM adapters on real samples (test/recordings/lvm2-2.03.16-testmode/).
import t from "tap";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, statSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { activeLvs, dmName, splitDmName, type DmDevice } from "../../lib/lvm/dm.js";
import { parseDlmLs, parseLockctlInfo, vgLockspaces } from "../../lib/lvm/lockd.js";
import { lvNameError, parseReport, transientLockError, vgNameError, lvmError } from "../../lib/lvm/commands.js";
import { LvmConfig, parseLvmConf, setLvmConf } from "../../lib/lvm/conf.js";

const REC = join(import.meta.dirname, "..", "recordings", "lvm2-2.03.16-testmode");

t.test("lvmlockctl --info: global block, VG blocks, LV locks, REM: (recorded 2.03.16)", async (t) => {
  const text = readFileSync(join(REC, "lockctl-info.txt"), "utf8");
  // the block printed after lvchange -asy lv1 and -aey my-lv
  const sample = `VG vg_uuid= lock_type= 
LS  lvm_global
LK VG un ver 0
LK GL un ver 1

VG vg1 lock_type=dlm FGyjd0-Aes0-0TPx-1GYy-QExo-gn3y-361hc0
LS dlm lvm_vg1
LK VG un ver 0
LK LV sh iY00Ac-Nktn-0nGj-b8yp-YB7H-6c1N-nb96D2
LK LV ex hOFG1M-47Hg-bYeL-kDTY-M21Y-mQYY-2AtQy7
`;
  t.ok(text.includes(sample), "sample is verbatim in the recording");
  const ls = parseLockctlInfo(sample);
  t.equal(ls.length, 2);
  t.same(ls[0], { vg: "", lockType: "", vgUuid: "", name: "lvm_global", removing: false, lvLocks: [] });
  t.same(ls[1], {
    vg: "vg1", lockType: "dlm", vgUuid: "FGyjd0-Aes0-0TPx-1GYy-QExo-gn3y-361hc0", name: "lvm_vg1", removing: false,
    lvLocks: [{ mode: "sh", uuid: "iY00Ac-Nktn-0nGj-b8yp-YB7H-6c1N-nb96D2" }, { mode: "ex", uuid: "hOFG1M-47Hg-bYeL-kDTY-M21Y-mQYY-2AtQy7" }],
  });
  t.same(vgLockspaces(ls).map((l) => l.vg), ["vg1"]);
  const rem = parseLockctlInfo("VG vg1 lock_type=dlm FGyjd0-Aes0-0TPx-1GYy-QExo-gn3y-361hc0\nLS dlm REM:lvm_vg1\n\nVG vg_uuid= lock_type= \nLS  REM:lvm_global\n");
  t.same(rem.map((l) => [l.vg, l.name, l.removing]), [["vg1", "lvm_vg1", true], ["", "lvm_global", true]]);
  t.same(vgLockspaces(rem), [], "removing lockspaces do not count");
  t.same(parseLockctlInfo(""), [], "no lockspaces: empty output");
});

t.test("vgs/lvs JSON reports (recorded 2.03.16, stderr interleaving excluded)", async (t) => {
  const vg = `  {
      "report": [
          {
              "vg": [
                  {"vg_name":"vg1", "vg_lock_type":"dlm", "vg_lock_args":"1.0.0:test", "vg_systemid":"", "vg_tags":"", "vg_attr":"wz--ns", "lv_count":"2", "vg_clustered":"", "vg_shared":"shared"}
              ]
          }
      ]
  }
`;
  t.same(parseReport(vg, "vg")?.[0]?.vg_attr, "wz--ns");
  t.same(parseReport(`  {\n      "report": [\n          {\n              "lv": [\n              ]\n          }\n      ]\n  }\n`, "lv"), []);
  t.equal(parseReport("garbage", "vg"), undefined);
});

t.test("names: VG/LV syntax and reserved LV names; dm name mangling", async (t) => {
  for (const ok of ["vg1", "my-vg", "a.b+c_d", "X"]) t.equal(vgNameError(ok), undefined, ok);
  for (const bad of ["-vg", "vg 1", "vg/1", ".", "..", "v$g", "x".repeat(128), "vg\n1"]) t.ok(vgNameError(bad), JSON.stringify(bad));
  t.ok(lvNameError("snapshot1"));
  t.ok(lvNameError("lv_rimage_0"));
  t.ok(lvNameError("pvmove0"));
  t.equal(lvNameError("data-lv"), undefined);
  t.equal(dmName("my-vg", "my-lv"), "my--vg-my--lv");
  t.same(splitDmName("my--vg-my--lv"), { vg: "my-vg", lv: "my-lv", layer: "" });
  t.same(splitDmName("vg-lv-real"), { vg: "vg", lv: "lv", layer: "real" });
  t.equal(splitDmName("nodash"), undefined);
  const d = (name: string): DmDevice => ({ kname: "dm-0", name, uuid: "LVM-x", suspended: false, ...splitDmName(name)! });
  const devs = [d("vg1-lv1"), d("vg1-lvmlock"), d("vg1-lv2-real"), d("vg10-lv1"), d("vg1-r_rimage_0")];
  t.same(activeLvs(devs, "vg1").map((x) => x.lv), ["lv1"], "sanlock lease LV, layers and sub-LVs do not count");
  t.same(activeLvs(devs, "vg1", "lv1").map((x) => x.name), ["vg1-lv1"]);
  t.same(activeLvs(devs, "vg1", "lv2").map((x) => x.name), []);
});

t.test("dlm_tool ls", async (t) => {
  const out = "dlm lockspaces\nname          lvm_global\nid            0x1a2b3c00\nflags         0x00000000 \nchange        member 1 joined 1 remove 0 failed 0 seq 1,1\nmembers       1 \n\nname          lvm_vg1\nid            0x1a2b3c01\n";
  t.same(parseDlmLs(out), ["lvm_global", "lvm_vg1"]);
  t.same(parseDlmLs(""), []);
});

t.test("transient lock errors are retried, a lock held elsewhere is not", async (t) => {
  t.ok(transientLockError("  VG vgshared lock skipped: lock start in progress\n  Cannot access VG vgshared due to failed lock.\n"));
  t.ok(transientLockError("  Global lock failed: lockspace is starting\n"));
  t.notOk(transientLockError("  LV locked by other host: vg1/lv1\n"));
  t.notOk(transientLockError("  Cannot access VG vg1 due to failed lock.\n"));
  const r = { argv: ["vgchange", "--lockstop", "vg1"], code: 5, stdout: "", stderr: "  WARNING: lvmlockd process is not running.\n  VG vg1 stop failed: LVs must first be deactivated\n", timedOut: false, missing: false, ms: 1 };
  t.equal(lvmError(r), "vgchange failed (rc=5): VG vg1 stop failed: LVs must first be deactivated");
});

t.test("lvm.conf: sections, arrays over lines, comments, strings, last wins, lvmlocal over lvm.conf", async (t) => {
  const text = `# comment
config {
	checks = 1
}
global {
	# use_lvmlockd = 0
	use_lvmlockd = 0   # off
	locking_type = 1
	system_id_source = "lvmlocal" # quoted "#" not a comment: "a#b"
	lvmlockctl_kill_command = "/usr/bin/a\\"b"
}
activation {
	volume_list = [ "vg0",
	  "@pacemaker" ]
}
global { use_lvmlockd = 1 }
`;
  const r = parseLvmConf(text, "lvm.conf");
  t.same(r.errors, []);
  const get = (p: string) => r.settings.filter((s) => s.path === p).map((s) => [s.value, s.line]);
  t.same(get("global/use_lvmlockd"), [[0, 7], [1, 16]]);
  t.same(get("activation/volume_list"), [[["vg0", "@pacemaker"], 13]]);
  t.same(get("global/lvmlockctl_kill_command"), [['/usr/bin/a"b', 10]]);
  t.same(get("global/system_id_source"), [["lvmlocal", 9]]);
  t.ok(parseLvmConf("global {\n x = \n", "f").errors.length, "errors are reported");
  t.match(parseLvmConf("global {\n", "f").errors.join(), /not closed/);
  // any whitespace separates tokens (a word loop stopping at \s must never see an empty word)
  for (const ws of ["\uFEFF", "\f", "\v", "\u00A0"]) {
    t.same(parseLvmConf(`${ws}global {\n${ws}use_lvmlockd = 1\n}\n`, "f").settings.map((x) => [x.path, x.value]), [["global/use_lvmlockd", 1]], JSON.stringify(ws));
  }

  const dir = mkdtempSync(join(tmpdir(), "tsstor-lvmconf-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "lvm.conf"), text);
  writeFileSync(join(dir, "lvmlocal.conf"), "local {\n\thost_id = 7\n}\nglobal {\n\tuse_lvmlockd = 0\n}\n");
  const c = new LvmConfig(dir);
  t.equal(c.int("global/use_lvmlockd"), 0, "lvmlocal.conf wins");
  t.equal(c.get("global/use_lvmlockd")?.file, join(dir, "lvmlocal.conf"));
  t.equal(c.int("local/host_id"), 7);
  t.equal(c.get("nope/x"), undefined);
  t.same(new LvmConfig(join(dir, "missing")).files, []);
});

t.test("setLvmConf: rewrite in place, add to the section, add the section; keeps mode and comments", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tsstor-lvmconf-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, "lvm.conf");
  writeFileSync(f, "global {\n\t# use_lvmlockd = 0\n\tuse_lvmlockd = 0 # was off\n}\n");
  chmodSync(f, 0o640);
  t.match(setLvmConf(f, "global", "use_lvmlockd", 1), /line 3: global\/use_lvmlockd 0 -> 1/);
  t.equal(readFileSync(f, "utf8"), "global {\n\t# use_lvmlockd = 0\n\tuse_lvmlockd = 1 # was off\n}\n");
  t.equal(statSync(f).mode & 0o777, 0o640, "mode kept");
  t.equal(setLvmConf(f, "global", "use_lvmlockd", 1), undefined, "no change when already set");
  const g = join(dir, "lvmlocal.conf");
  writeFileSync(g, "# local settings\nlocal {\n}\n");
  t.match(setLvmConf(g, "local", "host_id", 3), /added local\/host_id = 3/);
  t.equal(new LvmConfig(dir).int("local/host_id"), 3);
  const h = join(dir, "other.conf");
  t.match(setLvmConf(h, "local", "host_id", 5), /added section local/);
  t.equal(readFileSync(h, "utf8"), "local {\n\thost_id = 5\n}\n");
});
