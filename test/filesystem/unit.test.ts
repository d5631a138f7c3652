// Parsers and pure helpers of the Filesystem agent's adapters, on real samples.
import t from "tap";
import { readFileSync } from "node:fs";
import {
  isAtOrUnder,
  mountArgv,
  mountsAt,
  mountsBelow,
  normalizePath,
  owningMount,
  parseDeviceSpec,
  parseMountinfo,
  unescapeOctal,
  kernelFilesystems,
} from "../../lib/fs/mounts.js";
import { describeUsers, fdinfoMntId, parseMaps } from "../../lib/fs/holders.js";
import { parseSignal, parseSignalList, signalListError } from "../../lib/system/signals.js";

// proc(5)'s example plus lines recorded on this host (loop ext4, a bind mount, escaped spaces).
const MOUNTINFO = `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
42 27 7:0 / /tmp/tsf-try/m rw,relatime - ext4 /dev/loop0 rw
43 42 7:1 / /tmp/tsf-try/m/sub rw,relatime shared:5 - xfs /dev/loop1 rw,attr2,inode64,logbufs=8,logbsize=32k,noquota
44 27 7:0 /data /srv/bind ro,relatime - ext4 /dev/loop0 rw
45 27 0:52 / /mnt/with\\040space rw,nosuid - tmpfs none rw,size=1024k
46 27 0:53 / /mnt/nfs rw,relatime - nfs4 srv:/export rw,vers=4.2
47 42 7:2 / /tmp/tsf-try/m/sub/deeper rw - ext4 /dev/loop2 rw
48 42 7:3 / /tmp/tsf-try/m rw - ext4 /dev/loop3 rw
`;

t.test("mountinfo: fields, optional fields, octal escapes", async (t) => {
  const ms = parseMountinfo(MOUNTINFO);
  t.equal(ms.length, 9);
  t.match(ms[0], { id: 36, parent: 35, major: 98, minor: 0, root: "/mnt1", mountPoint: "/mnt2", fstype: "ext3", source: "/dev/root" });
  t.same(ms[0]!.options, ["rw", "noatime"]);
  t.same(ms[0]!.superOptions, ["rw", "errors=continue"]);
  t.equal(ms[3]!.fstype, "xfs", "optional field shared:5 skipped");
  t.equal(ms[4]!.root, "/data", "bind mount of a subdirectory keeps its root");
  t.equal(ms[5]!.mountPoint, "/mnt/with space");
  t.equal(ms[6]!.source, "srv:/export");
  t.equal(unescapeOctal("a\\011b\\012c\\134d"), "a\tb\nc\\d");
  // this host's own table parses and has /
  const own = parseMountinfo(readFileSync("/proc/self/mountinfo", "utf8"));
  t.ok(own.some((m) => m.mountPoint === "/"));
  t.ok(own.every((m) => Number.isInteger(m.id) && m.fstype !== ""));
});

t.test("mount table queries: at, below (deepest first), owning mount", async (t) => {
  const ms = parseMountinfo(MOUNTINFO);
  t.same(mountsAt(ms, "/tmp/tsf-try/m").map((m) => m.id), [42, 48], "stacked mounts, bottom first");
  t.same(mountsBelow(ms, "/tmp/tsf-try/m").map((m) => m.mountPoint), ["/tmp/tsf-try/m/sub/deeper", "/tmp/tsf-try/m/sub"]);
  t.same(mountsBelow(ms, "/tmp/tsf-try/m/su").length, 0, "a sibling with a common prefix is not below");
  t.equal(owningMount(ms, "/tmp/tsf-try/m/sub/file")?.id, 43);
  t.equal(owningMount(ms, "/tmp/tsf-try/m/subx")?.id, 48, "top of the stack");
  t.equal(owningMount(ms, "/tmp/tsf-try/mx")?.id, 27);
  t.ok(isAtOrUnder("/a/b", "/a") && isAtOrUnder("/a", "/a") && !isAtOrUnder("/ab", "/a") && isAtOrUnder("/x", "/"));
});

t.test("paths normalise lexically (no filesystem access)", async (t) => {
  t.equal(normalizePath("/mnt/fs/"), "/mnt/fs");
  t.equal(normalizePath("/mnt//fs///"), "/mnt/fs");
  t.equal(normalizePath("/mnt/./a/../fs"), "/mnt/fs");
  t.equal(normalizePath("///"), "/");
  t.equal(normalizePath("/.."), "/");
});

t.test("device specs: paths, -U/-L in every spelling, UUID=/LABEL=", async (t) => {
  t.same(parseDeviceSpec("/dev/drbd0"), { kind: "path", path: "/dev/drbd0" });
  t.same(parseDeviceSpec("srv:/export"), { kind: "path", path: "srv:/export" });
  for (const s of ["-U 1234-ab", "-U1234-ab", "--uuid=1234-ab", "--uuid 1234-ab", "UUID=1234-ab", 'UUID="1234-ab"']) {
    t.same(parseDeviceSpec(s), { kind: "uuid", value: "1234-ab" }, s);
  }
  for (const s of ["-L data", "-Ldata", "--label=data", "--label data", "LABEL=data"]) t.same(parseDeviceSpec(s), { kind: "label", value: "data" }, s);
  t.same(parseDeviceSpec("-L my label"), { kind: "label", value: "my label" }, "a label with a space");
});

t.test("mount argv: no shell, -- before positionals, no -t for none", async (t) => {
  t.same(mountArgv({ fstype: "ext4", options: "noatime,ro", device: "/dev/loop0", dir: "/mnt/x" }), ["-t", "ext4", "-o", "noatime,ro", "--", "/dev/loop0", "/mnt/x"]);
  t.same(mountArgv({ fstype: "none", options: "bind", device: "/srv/a", dir: "/mnt/b" }), ["-o", "bind", "--", "/srv/a", "/mnt/b"]);
  t.same(mountArgv({ fstype: "xfs", options: "", device: "-oops", dir: "/m" }), ["-t", "xfs", "--", "-oops", "/m"], "a device starting with - stays positional");
});

t.test("/proc/PID/maps and fdinfo", async (t) => {
  const maps = `55d0c0a00000-55d0c0a02000 r--p 00000000 fe:00 1311 /usr/bin/sleep
7f3a00000000-7f3a00001000 r--s 00000000 07:00 12 /tmp/tsf/m/data.bin
7f3a00001000-7f3a00002000 r--s 00001000 07:00 12 /tmp/tsf/m/data.bin
7f3a00002000-7f3a00003000 rw-s 00000000 07:00 13 /tmp/tsf/m/gone (deleted)
7f3a00003000-7f3a00004000 rw-p 00000000 00:00 0 [heap]
7f3a00004000-7f3a00005000 r--p 00000000 07:00 14 /tmp/tsf/m/with\\040space
`;
  t.same(parseMaps(maps), [
    { dev: "fe:00", path: "/usr/bin/sleep" },
    { dev: "07:00", path: "/tmp/tsf/m/data.bin" },
    { dev: "07:00", path: "/tmp/tsf/m/gone" },
    { dev: "07:00", path: "/tmp/tsf/m/with space" },
  ]);
  t.equal(fdinfoMntId("pos:\t0\nflags:\t0100000\nmnt_id:\t42\nino:\t12\n"), 42);
  t.equal(fdinfoMntId(readFileSync("/proc/self/fdinfo/0", "utf8")) !== undefined, true, "this kernel's fdinfo has mnt_id");
});

t.test("users are described for logs and exit reasons", async (t) => {
  const u = (pid: number, comm: string, state: string, ...what: string[]) => ({ pid, comm, state, start: "1", uses: what.map((w) => ({ what: w, path: "/m/x" })) });
  t.equal(describeUsers([u(12, "sleep", "S", "cwd"), u(34, "dd", "D", "fd 3", "fd 4", "mmap")]), "12 (sleep: cwd), 34 (dd: open file, mmap; in uninterruptible I/O, unkillable)");
  t.equal(describeUsers(Array.from({ length: 12 }, (_, i) => u(i + 100, "x", "S", "cwd")), 2), "100 (x: cwd), 101 (x: cwd) and 10 more");
});

t.test("signal lists as upstream takes them", async (t) => {
  t.same(parseSignal("TERM"), { name: "SIGTERM", number: 15 });
  t.same(parseSignal("sigkill"), { name: "SIGKILL", number: 9 });
  t.same(parseSignal("1"), { name: "SIGHUP", number: 1 });
  t.equal(parseSignal("BOGUS"), undefined);
  t.equal(parseSignal("999"), undefined);
  t.same(parseSignalList(" HUP  TERM ")!.map((s) => s.number), [1, 15]);
  t.equal(parseSignalList("TERM BOGUS"), undefined);
  t.match(signalListError("TERM BOGUS $(id)"), /unknown signals: BOGUS \$\(id\)/);
  t.match(signalListError("  "), /at least one/);
});

t.test("/proc/filesystems", async (t) => {
  const s = kernelFilesystems("nodev\tsysfs\nnodev\ttmpfs\n\text4\n\txfs\n");
  t.ok(s.has("ext4") && s.has("tmpfs") && s.has("xfs") && !s.has("nodev"));
});
