// Debian 13's LVM (2.03.31) reports a JSON report command's errors in the report's command log on
// stdout, with stderr empty; Debian 12's (2.03.16) printed them on stderr. The outputs below are
// Debian 13's, recorded in the kernel lab (lab/run.sh --platform debian13, 2026-12-07; the
// committed recordings in test/recordings/lvm/ are Debian 12's, which the fakes replay).
import t from "tap";
import { Lvm, lvmError, reportLogErrors } from "../../lib/lvm/commands.js";
import type { Runner, RunResult } from "../../lib/system/run.js";

const VGS_MISSING_DEB13 = "  {\n      \"report\": [\n          {\n              \"vg\": [\n              ]\n          }\n      ]\n      ,\n      \"log\": [\n          {\"log_seq_num\":\"1\", \"log_type\":\"error\", \"log_context\":\"processing\", \"log_object_type\":\"vg\", \"log_object_name\":\"nosuchvg\", \"log_object_id\":\"\", \"log_object_group\":\"\", \"log_object_group_id\":\"\", \"log_message\":\"Volume group \\\"nosuchvg\\\" not found\", \"log_errno\":\"-1\", \"log_ret_code\":\"0\"},\n          {\"log_seq_num\":\"2\", \"log_type\":\"error\", \"log_context\":\"processing\", \"log_object_type\":\"vg\", \"log_object_name\":\"nosuchvg\", \"log_object_id\":\"\", \"log_object_group\":\"\", \"log_object_group_id\":\"\", \"log_message\":\"Cannot process volume group nosuchvg\", \"log_errno\":\"-1\", \"log_ret_code\":\"0\"},\n          {\"log_seq_num\":\"3\", \"log_type\":\"status\", \"log_context\":\"processing\", \"log_object_type\":\"vg\", \"log_object_name\":\"nosuchvg\", \"log_object_id\":\"\", \"log_object_group\":\"\", \"log_object_group_id\":\"\", \"log_message\":\"failure\", \"log_errno\":\"-1\", \"log_ret_code\":\"5\"}\n      ]\n  }\n";
const LVS_MISSING_DEB13 = "  {\n      \"report\": [\n          {\n              \"lv\": [\n              ]\n          }\n      ]\n      ,\n      \"log\": [\n          {\"log_seq_num\":\"1\", \"log_type\":\"error\", \"log_context\":\"processing\", \"log_object_type\":\"vg\", \"log_object_name\":\"nosuchvg\", \"log_object_id\":\"\", \"log_object_group\":\"\", \"log_object_group_id\":\"\", \"log_message\":\"Volume group \\\"nosuchvg\\\" not found\", \"log_errno\":\"-1\", \"log_ret_code\":\"0\"},\n          {\"log_seq_num\":\"2\", \"log_type\":\"error\", \"log_context\":\"processing\", \"log_object_type\":\"vg\", \"log_object_name\":\"nosuchvg\", \"log_object_id\":\"\", \"log_object_group\":\"\", \"log_object_group_id\":\"\", \"log_message\":\"Cannot process volume group nosuchvg\", \"log_errno\":\"-1\", \"log_ret_code\":\"0\"},\n          {\"log_seq_num\":\"3\", \"log_type\":\"status\", \"log_context\":\"processing\", \"log_object_type\":\"vg\", \"log_object_name\":\"nosuchvg\", \"log_object_id\":\"\", \"log_object_group\":\"\", \"log_object_group_id\":\"\", \"log_message\":\"failure\", \"log_errno\":\"-1\", \"log_ret_code\":\"5\"}\n      ]\n  }\n";

const result = (argv: string[], stdout: string, stderr = ""): RunResult => ({ argv, code: 5, stdout, stderr, timedOut: false, missing: false, ms: 1 });
const runner = (stdout: string, stderr = "") => ({ run: (cmd: string, args: string[]) => result([cmd, ...args], stdout, stderr) }) as unknown as Runner;

t.test("a missing VG is not found on both LVM versions", async (t) => {
  const deb13 = new Lvm(runner(VGS_MISSING_DEB13)).vg("nosuchvg");
  t.equal(deb13.notFound, true, "Debian 13: from the report's log");
  t.equal(deb13.value, undefined);
  const deb12 = new Lvm(runner('  {\n      "report": [\n          {\n              "vg": [\n              ]\n          }\n      ]\n  }\n', '  Volume group "nosuchvg" not found\n  Cannot process volume group nosuchvg\n')).vg("nosuchvg");
  t.equal(deb12.notFound, true, "Debian 12: from stderr");
  t.equal(new Lvm(runner(LVS_MISSING_DEB13)).lvs("nosuchvg").notFound, true, "lvs, Debian 13");
});

t.test("the exit reason names LVM's error on Debian 13 too", async (t) => {
  t.same(reportLogErrors(VGS_MISSING_DEB13), ['Volume group "nosuchvg" not found', "Cannot process volume group nosuchvg"]);
  t.equal(lvmError(result(["vgs"], VGS_MISSING_DEB13)), 'vgs failed (rc=5): Volume group "nosuchvg" not found; Cannot process volume group nosuchvg');
  t.same(reportLogErrors("not json"), []);
  t.same(reportLogErrors('{"report": [{"vg": []}]}'), []);
});
