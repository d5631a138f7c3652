// The recordings loader and the shape comparison the drift checks rely on.
import t from "tap";
import { compareWithRecording, shape, splitCmd, type Recording } from "../lib/recordings.js";

t.test("splitCmd undoes bash printf %q", async (t) => {
  t.same(splitCmd("targetcli /iscsi create iqn.2003-01.org.x:t1"), ["targetcli", "/iscsi", "create", "iqn.2003-01.org.x:t1"]);
  t.same(splitCmd("lvs --separator \\| -o a,b"), ["lvs", "--separator", "|", "-o", "a,b"]);
  t.same(splitCmd("dmsetup info -c -S vg_name=vg0\\ \\&\\&\\ lv_name=lv0"), ["dmsetup", "info", "-c", "-S", "vg_name=vg0 && lv_name=lv0"]);
  t.same(splitCmd("sh -c $'a\\nb' ''"), ["sh", "-c", "a\nb", ""]);
});

t.test("shape keeps the format and drops the values", async (t) => {
  t.equal(shape("  lv0 vg0 -wi-a----- 64.00m"), shape("  lv1 vg0 -wi-a----- 128.00m"));
  t.equal(shape("_cstate=Connected\n_disk=UpToDate 12"), "_cstate=Connected\n_disk=UpToDate 9");
  t.not(shape("_cstate=Connected"), shape("_cstate=WFConnection"));
  t.equal(shape("uuid ZZ3Xq1-aB2c-1234-abcd-Ef01-gh23-IJ45kl"), "uuid U");
  // a device-mapper UUID is the VG and LV UUIDs without dashes: a new VG in every lab run
  t.equal(
    shape("vg0-lv0 253 0 L--w 0 1 0 LVM-9g47Y2CiwyzPjtQly53LMNe0fJFIq5bjXv4XwHMWfhFqXTBc1QeWmthRXrxyvKRR"),
    shape("vg0-lv0 253 0 L--w 0 1 0 LVM-JTgJRMXjDeVJ004lAnTtEm5q6zXhZZVfnKqDSwdgjSm4l17s4zjxkWs6ZSfN1zsy"),
  );
  t.equal(shape('{"report":[{"lv":[{"lv_name":"a","lv_size":"1g"}]}]}'), shape('{"report":[{"lv":[{"lv_name":"b","lv_size":"2g"},{"lv_name":"c","lv_size":"3g"}]}]}'));
  t.not(shape('{"report":[{"lv":[{"lv_name":"a"}]}]}'), shape('{"report":[{"lv":[{"name":"a"}]}]}'));
});

t.test("compareWithRecording: exact stdout, shaped stderr, exit code", async (t) => {
  const rec: Recording = { tool: "x", case: "c", cmd: "x", argv: ["x"], stdout: "a 1\n", stderr: "err 12\n", code: 1, stdin: undefined, note: undefined };
  t.same(compareWithRecording(rec, { stdout: "a 1\n", stderr: "err 99\n", code: 1 }), []);
  t.equal(compareWithRecording(rec, { stdout: "a 2\n", code: 1 })[0]?.field, "stdout");
  t.same(compareWithRecording(rec, { stdout: "a 2\n", code: 1 }, { stdout: "shape" }), []);
  t.equal(compareWithRecording(rec, { stdout: "a 1\n", code: 0 })[0]?.field, "code");
  t.same(compareWithRecording(rec, { stdout: "a /dev/loop3\n" }, { mask: [["/dev/loop\\d+", "1"]] }), []);
});

t.test("shape: a list of numbers is one value", async (t) => {
  t.equal(shape("members       1 2 "), shape("members       1 "));
  t.equal(shape("seq 1,1"), "seq 9,9");
});
