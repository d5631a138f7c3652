// tgt for real: a tgtd started by this suite in its own network namespace, configured by our
// agents, and libiscsi's userspace initiator (iscsi-ls, iscsi-inq, iscsi-readcapacity16) and
// qemu-io inside the namespace proving login, LUNs, serial and product, data, ACLs and CHAP.
import t from "tap";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, openSync, readSync, closeSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { agentPath, ocfEnv } from "../lib/harness.js";
import { defaultSerial } from "../../lib/iscsi/syntax.js";
import { TgtRig, sleep } from "./rig.js";

const rig = new TgtRig("t");
t.teardown(() => rig.destroy());

const T = "iSCSITarget";
const L = "iSCSILogicalUnit";
let n = 0;
const iqn = () => `iqn.2026-01.org.tsstor.test:tgt${process.pid}-${++n}`;
const I1 = "iqn.1993-08.org.debian:01:tsi-one";
const I2 = "iqn.1993-08.org.debian:01:tsi-two";
const SECRET = "Tgt-s3cret!pw";
const recurring = { interval: 10000, timeout: 20000 };

const tgt = (params: Record<string, string>, action: string, o: { instance?: string; env?: Record<string, string>; meta?: Record<string, string | number> } = {}) =>
  rig.agent(T, action, { params: { implementation: "tgt", ...params }, instance: o.instance ?? "p_target", env: o.env, meta: { timeout: 20000, ...o.meta } });
const lu = (params: Record<string, string>, action: string, instance = "p_lun1", env?: Record<string, string>) =>
  rig.agent(L, action, { params: { implementation: "tgt", ...params }, instance, env, meta: { timeout: 20000 } });

function file(name: string, size = 16 << 20): string {
  const p = join(rig.dir, name);
  writeFileSync(p, "");
  spawnSync("truncate", ["-s", String(size), p]);
  return p;
}

const ls = (who?: string, chap?: { user: string; password: string }) => rig.inNs("iscsi-ls", [...(who ? ["-i", who] : []), "-s", chap ? `iscsi://${chap.user}%${chap.password}@${rig.addr4}` : `iscsi://${rig.addr4}`]);

/** qemu-io on LUN `lun` as initiator `who` (libiscsi in userspace) */
function qemuIo(q: string, lun: number, cmds: string[], who = "iqn.2008-11.org.linux-kvm", chap?: { user: string; password: string }) {
  const opts = [`driver=raw`, `file.driver=iscsi`, `file.transport=tcp`, `file.portal=${rig.addr4}:3260`, `file.target=${q}`, `file.lun=${lun}`, `file.initiator-name=${who}`];
  const extra: string[] = [];
  if (chap) {
    opts.push(`file.user=${chap.user}`, "file.password-secret=chap0");
    extra.push("--object", `secret,id=chap0,data=${chap.password}`);
  }
  return rig.inNs("qemu-io", [...extra, "--image-opts", opts.join(","), ...cmds.flatMap((c) => ["-c", c])]);
}

t.test("target lifecycle: discovery and login with libiscsi; allowed_initiators empty binds ALL", async (t) => {
  const q = iqn();
  const p = { iqn: q };
  t.equal(tgt(p, "monitor").code, 7, "probe");
  const s = tgt(p, "start");
  t.equal(s.code, 0, s.stderr);
  t.equal(tgt(p, "monitor", { meta: recurring }).code, 0);
  t.match(rig.tgtadm(["--op", "show", "--mode", "target"]).stdout, new RegExp(`Target \\d+: ${q}[\\s\\S]*ACL information:\\n\\s+ALL`), "bound ALL (upstream binds nothing)");
  const l = ls("iqn.2026-01.org.example:anyone");
  t.equal(l.code, 0, l.out);
  t.match(l.stdout, new RegExp(`Target:${q} Portal:${rig.addr4.replace(/\./g, "\\.")}:3260,1`), "any initiator discovers and logs in");
  t.match(l.stdout, /Lun:0\s+Type:STORAGE_ARRAY_CONTROLLER/);
  t.equal(tgt(p, "start").code, 0, "double start");
  t.equal(tgt(p, "stop").code, 0);
  t.notMatch(rig.tgtadm(["--op", "show", "--mode", "target"]).stdout, q);
  t.equal(tgt(p, "stop").code, 0, "double stop");
  t.equal(tgt(p, "monitor").code, 7);
});

t.test("logical unit: LUN list, serial, vendor/product, block size, data written then read back", async (t) => {
  const q = iqn();
  t.equal(tgt({ iqn: q }, "start").code, 0);
  const f = file("data.img");
  const p = { target_iqn: q, lun: "1", path: f, vendor_id: "TSSTOR", product_id: "tsi-disk", block_size: "4096" };
  t.equal(lu(p, "monitor").code, 7);
  const s = lu(p, "start");
  t.equal(s.code, 0, s.stderr);
  t.equal(lu(p, "monitor", "p_lun1").code, 0);
  const l = ls();
  t.match(l.stdout, /Lun:1\s+Type:DIRECT_ACCESS \(Size:1[56]M\)/, "the LUN is listed");
  const url = rig.url(q, 1);
  const inq = rig.inNs("iscsi-inq", [url]);
  t.match(inq.stdout, /Vendor:TSSTOR\s*\n/);
  t.match(inq.stdout, /Product:tsi-disk\s*\n/);
  const sn = rig.inNs("iscsi-inq", ["-e", "1", "-c", "128", url]);
  t.match(sn.stdout, new RegExp(`Unit Serial Number:\\[\\s*${defaultSerial("p_lun1")}\\]`), "serial = md5(resource name)[0:8], as upstream");
  const cap = rig.inNs("iscsi-readcapacity16", [url]);
  t.match(cap.stdout, /LOGICAL BLOCK LENGTH IN BYTES:4096/);
  t.match(cap.stdout, /Total size:16777216/);
  const w = qemuIo(q, 1, ["write -P 0xa5 8192 4096", "read -P 0xa5 8192 4096"]);
  t.equal(w.code, 0, w.out);
  t.match(w.stdout, /wrote 4096\/4096 bytes at offset 8192[\s\S]*read 4096\/4096 bytes at offset 8192/);
  t.notMatch(w.out, /Pattern verification failed/);
  const fd = openSync(f, "r");
  const buf = Buffer.alloc(4096);
  readSync(fd, buf, 0, 4096, 8192);
  closeSync(fd);
  t.ok(buf.every((b) => b === 0xa5), "the bytes reached the backing file");
  t.equal(lu(p, "stop").code, 0);
  t.notMatch(ls().stdout, /Lun:1/);
  t.equal(lu(p, "monitor").code, 7);
  t.equal(lu(p, "stop").code, 0, "double stop");
  t.equal(tgt({ iqn: q }, "stop").code, 0);
});

t.test("ACLs: an allowed initiator logs in, a foreign one is denied; by address too", async (t) => {
  const q = iqn();
  const p = { iqn: q, allowed_initiators: I1 };
  t.equal(tgt(p, "start").code, 0);
  t.equal(lu({ target_iqn: q, lun: "1", path: file("acl.img") }, "start", "p_acl").code, 0);
  t.match(ls(I1).stdout, new RegExp(`Target:${q}`), "allowed initiator discovers it");
  t.notMatch(ls(I2).stdout, new RegExp(q), "a foreign initiator does not see it");
  const denied = qemuIo(q, 1, ["read 0 512"], I2);
  t.not(denied.code, 0);
  t.match(denied.out, /Failed to log in|Target not found/, "and cannot log in");
  const ok = qemuIo(q, 1, ["read 0 512"], I1);
  t.equal(ok.code, 0, ok.out);
  // by address: the namespace's own address is allowed, a foreign network is not
  const pa = { iqn: q, allowed_initiators: `${rig.addr4}` };
  t.equal(tgt(pa, "reload-agent").code, 0);
  t.equal(qemuIo(q, 1, ["read 0 512"], I2).code, 0, "any name from an allowed address");
  const pb = { iqn: q, allowed_initiators: "192.0.2.0/24" };
  t.equal(tgt(pb, "reload-agent").code, 0);
  t.not(qemuIo(q, 1, ["read 0 512"], I1).code, 0, "no name from a foreign network");
  t.equal(lu({ target_iqn: q, lun: "1", path: join(rig.dir, "acl.img") }, "stop", "p_acl").code, 0);
  t.equal(tgt(pb, "stop").code, 0);
});

t.test("CHAP: right secret logs in, wrong or none does not; the secret is in no argv, log or reason", async (t) => {
  const q = iqn();
  const p = { iqn: q, incoming_username: "alice", incoming_password: SECRET };
  const trace = join(rig.dir, "start.strace");
  const env = ocfEnv(T, { params: { implementation: "tgt", ...p }, instance: "p_chap", env: rig.env({ HA_debug: "1" }), meta: { timeout: 20000 } });
  const r = spawnSync("strace", ["-f", "-qq", "-e", "trace=execve", "-s", "4096", "-o", trace, agentPath(T), "start"], { env, encoding: "utf8" });
  t.equal(r.status, 0, r.stderr);
  const execs = readFileSync(trace, "utf8");
  t.match(execs, /tgtadm/, "tgtadm ran (traced)");
  t.notMatch(execs, SECRET, "no process was started with the secret in its argv");
  t.notMatch(r.stderr, SECRET, "nor in the agent's debug log");
  t.match(r.stderr, /tgtd socket: account new user=alice password=\*\*\*/);
  t.equal(lu({ target_iqn: q, lun: "1", path: file("chap.img") }, "start", "p_chapl").code, 0);
  const good = qemuIo(q, 1, ["read 0 512"], I1, { user: "alice", password: SECRET });
  t.equal(good.code, 0, good.out);
  const bad = qemuIo(q, 1, ["read 0 512"], I1, { user: "alice", password: "wrong-password" });
  t.not(bad.code, 0);
  t.match(bad.out, /Authentication failure/);
  t.match(qemuIo(q, 1, ["read 0 512"], I1).out, /Authentication failure/, "no credentials: refused");
  const inq = rig.inNs("iscsi-inq", [rig.url(q, 1, { user: "alice", password: SECRET })]);
  t.equal(inq.code, 0, "iscsi-inq with the secret in its URL");
  // new secret by reload: the old one stops working, the new one works
  const p2 = { ...p, incoming_password: `${SECRET}2` };
  const rl = tgt(p2, "reload-agent", { instance: "p_chap", env: { HA_debug: "1" } });
  t.equal(rl.code, 0, rl.stderr);
  t.notMatch(rl.stderr, SECRET);
  t.match(qemuIo(q, 1, ["read 0 512"], I1, { user: "alice", password: SECRET }).out, /Authentication failure/);
  t.equal(qemuIo(q, 1, ["read 0 512"], I1, { user: "alice", password: `${SECRET}2` }).code, 0);
  const bad2 = tgt({ iqn: q, incoming_username: "alice", incoming_password: "a,b" }, "validate-all");
  t.equal(bad2.code, 6);
  t.match(bad2.reason, /tgt cannot take a ','/);
  t.notMatch(bad2.stderr, /a,b/);
  t.equal(lu({ target_iqn: q, lun: "1", path: join(rig.dir, "chap.img") }, "stop", "p_chapl").code, 0);
  t.equal(tgt(p2, "stop", { instance: "p_chap" }).code, 0);
  t.notMatch(rig.tgtadm(["--op", "show", "--mode", "account"]).stdout, /alice/, "the account went with the target");
});

/** iscsi-inq as initiator `who`, credentials in libiscsi's environment variables (never in argv) */
function inq(url: string, who: string, env: Record<string, string>) {
  const r = spawnSync("nsenter", ["-t", String(rig.pid), "-n", "iscsi-inq", "-i", who, url], { encoding: "utf8", timeout: 60000, env: { ...process.env, ...env } });
  return { code: r.status ?? 128, out: (r.stdout ?? "") + (r.stderr ?? "") };
}

t.test("CHAP from secret files, mutual CHAP: the initiator must know the target's secret too", async (t) => {
  const q = iqn();
  const inFile = join(rig.dir, "chap-in.secret");
  const outFile = join(rig.dir, "chap-out.secret");
  writeFileSync(inFile, `${SECRET}-in\n`, { mode: 0o600 });
  writeFileSync(outFile, `${SECRET}-out\r\n`, { mode: 0o600 });
  const p = { iqn: q, allowed_initiators: I1, incoming_username: "carol", incoming_password_file: inFile, outgoing_username: "tgt-side", outgoing_password_file: outFile };
  const s = tgt(p, "start", { instance: "p_mut", env: { HA_debug: "1" } });
  t.equal(s.code, 0, s.stderr);
  t.notMatch(s.stderr, SECRET, "no secret in the debug log");
  t.equal(tgt(p, "monitor", { instance: "p_mut", meta: recurring }).code, 0);
  t.match(rig.tgtadm(["--op", "show", "--mode", "target"]).stdout, /Account information:\n\s+carol\n\s+tgt-side \(outgoing\)/, "incoming and outgoing accounts bound");
  t.equal(lu({ target_iqn: q, lun: "1", path: file("mut.img") }, "start", "p_mutl").code, 0);
  const url = rig.url(q, 1);
  const carol = { LIBISCSI_CHAP_USERNAME: "carol", LIBISCSI_CHAP_PASSWORD: `${SECRET}-in` };
  const knowsTarget = { LIBISCSI_CHAP_TARGET_USERNAME: "tgt-side", LIBISCSI_CHAP_TARGET_PASSWORD: `${SECRET}-out` };
  const ok = inq(url, I1, { ...carol, ...knowsTarget });
  t.equal(ok.code, 0, `mutual CHAP, both secrets right: ${ok.out}`);
  const fake = inq(url, I1, { ...carol, ...knowsTarget, LIBISCSI_CHAP_TARGET_PASSWORD: "not-the-target" });
  t.not(fake.code, 0, "the initiator refuses a target that answers with another secret");
  t.match(fake.out, /Invalid CHAP_R response from the target/);
  const wrongIn = inq(url, I1, { ...carol, LIBISCSI_CHAP_PASSWORD: "wrong-password" });
  t.not(wrongIn.code, 0, "wrong incoming secret: refused");
  t.match(wrongIn.out, /Authentication failure/);
  t.not(inq(url, I2, carol).code, 0, "an initiator not in allowed_initiators is refused even with the right secret");
  // the secret file changes: reload takes the new secret
  writeFileSync(inFile, `${SECRET}-in2\n`);
  t.equal(tgt(p, "reload-agent", { instance: "p_mut" }).code, 0);
  t.not(inq(url, I1, carol).code, 0, "the old incoming secret no longer works");
  t.equal(inq(url, I1, { ...carol, LIBISCSI_CHAP_PASSWORD: `${SECRET}-in2` }).code, 0, "the new one does");
  // unusable files: start/reload fail with 5 on this node and name the file, never its content
  chmodSync(inFile, 0o644);
  const open = tgt(p, "reload-agent", { instance: "p_mut" });
  t.equal(open.code, 5);
  t.match(open.reason, /chap-in\.secret is accessible to group or others \(mode 644\): chmod 600 it/);
  t.notMatch(open.stderr, SECRET);
  t.equal(tgt(p, "monitor", { instance: "p_mut", meta: recurring }).code, 0, "monitor keeps the running target: the secret is just not compared");
  chmodSync(inFile, 0o600);
  const missing = tgt({ ...p, outgoing_password_file: join(rig.dir, "nope.secret") }, "start", { instance: "p_mut" });
  t.equal(missing.code, 5);
  t.match(missing.reason, /outgoing_password_file: .*nope\.secret does not exist on this node/);
  writeFileSync(outFile, `${SECRET}-in2\n`);
  const same = tgt(p, "reload-agent", { instance: "p_mut" });
  t.equal(same.code, 6);
  t.match(same.reason, /must differ from the incoming one/);
  t.notMatch(same.stderr, SECRET);
  const v = [
    [{ iqn: q, incoming_username: "carol", incoming_password: "x1234567890", incoming_password_file: inFile }, /exclude each other/],
    [{ iqn: q, incoming_username: "carol", incoming_password_file: "relative.secret" }, /must be an absolute path/],
    [{ iqn: q, outgoing_username: "o", outgoing_password_file: outFile }, /needs incoming CHAP/],
    [{ iqn: q, incoming_username: "carol", incoming_password_file: inFile, outgoing_username: "o" }, /outgoing_password_file is not/],
  ] as const;
  for (const [params, re] of v) {
    const r = tgt(params as Record<string, string>, "validate-all");
    t.equal(r.code, 6, JSON.stringify(params));
    t.match(r.reason, re);
  }
  writeFileSync(outFile, `${SECRET}-out\n`);
  t.equal(lu({ target_iqn: q, lun: "1", path: join(rig.dir, "mut.img") }, "stop", "p_mutl").code, 0);
  t.equal(tgt(p, "stop", { instance: "p_mut" }).code, 0);
  t.notMatch(rig.tgtadm(["--op", "show", "--mode", "account"]).stdout, /carol|tgt-side/, "both accounts went with the target");
});

t.test("reload-agent: initiators change while another initiator's I/O goes on", async (t) => {
  const q = iqn();
  const f = file("reload.img");
  t.equal(tgt({ iqn: q, allowed_initiators: I1 }, "start").code, 0);
  t.equal(lu({ target_iqn: q, lun: "1", path: f }, "start", "p_rl").code, 0);
  // I1 holds a session: write, wait (the reload happens), read back on the same session
  const opts = ["driver=raw", "file.driver=iscsi", "file.transport=tcp", `file.portal=${rig.addr4}:3260`, `file.target=${q}`, "file.lun=1", `file.initiator-name=${I1}`].join(",");
  const io = spawn("nsenter", ["-t", String(rig.pid), "-n", "qemu-io", "--image-opts", opts, "-c", "write -P 0x5a 0 65536", "-c", "sleep 2500", "-c", "read -P 0x5a 0 65536", "-c", "write -P 0x6b 65536 65536", "-c", "read -P 0x6b 65536 65536"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  io.stdout.on("data", (d) => (out += d));
  io.stderr.on("data", (d) => (out += d));
  const done = new Promise<number>((r) => io.on("exit", (c) => r(c ?? 128)));
  let sid = "";
  for (let i = 0; i < 40 && !sid; i++) {
    sleep(50);
    sid = /I_T nexus: (\d+)/.exec(rig.tgtadm(["--op", "show", "--mode", "target"]).stdout)?.[1] ?? "";
  }
  t.ok(sid, "I1 has a session");
  const r = tgt({ iqn: q, allowed_initiators: `${I1} ${I2}` }, "reload-agent");
  t.equal(r.code, 0, r.stderr);
  t.match(ls(I2).stdout, new RegExp(q), "I2 is let in at once");
  t.equal(await done, 0, out);
  t.notMatch(out, /Pattern verification failed|error/i, "I1's I/O went on across the reload");
  t.match(out, /read 65536\/65536 bytes at offset 0/);
  t.equal(lu({ target_iqn: q, lun: "1", path: f }, "stop", "p_rl").code, 0);
  t.equal(tgt({ iqn: q, allowed_initiators: `${I1} ${I2}` }, "stop").code, 0);
});

t.test("stop closes live sessions first and removes the target", async (t) => {
  const q = iqn();
  t.equal(tgt({ iqn: q }, "start").code, 0);
  t.equal(lu({ target_iqn: q, lun: "1", path: file("busy.img") }, "start", "p_busy").code, 0);
  const opts = ["driver=raw", "file.driver=iscsi", "file.transport=tcp", `file.portal=${rig.addr4}:3260`, `file.target=${q}`, "file.lun=1"].join(",");
  const io = spawn("nsenter", ["-t", String(rig.pid), "-n", "qemu-io", "--image-opts", opts, "-c", "sleep 4000"], { stdio: "ignore" });
  const gone = new Promise<void>((r) => io.on("exit", () => r()));
  for (let i = 0; i < 40 && !/I_T nexus: \d+/.test(rig.tgtadm(["--op", "show", "--mode", "target"]).stdout); i++) sleep(50);
  t.match(rig.tgtadm(["--op", "show", "--mode", "target"]).stdout, /I_T nexus: \d+/, "a session is open");
  t.equal(lu({ target_iqn: q, lun: "1", path: join(rig.dir, "busy.img") }, "stop", "p_busy").code, 0);
  const s = tgt({ iqn: q }, "stop");
  t.equal(s.code, 0, s.stderr);
  t.notMatch(rig.tgtadm(["--op", "show", "--mode", "target"]).stdout, q);
  io.kill("SIGKILL");
  await gone;
});

t.test("tid: given, existing, or the lowest free; a taken tid is a clear failure", async (t) => {
  const a = iqn();
  const b = iqn();
  t.equal(tgt({ iqn: a, tid: "7" }, "start", { instance: "pa" }).code, 0);
  t.match(rig.tgtadm(["--op", "show", "--mode", "target"]).stdout, new RegExp(`Target 7: ${a}`));
  const r = tgt({ iqn: b, tid: "7" }, "start", { instance: "pb" });
  t.equal(r.code, 1);
  t.match(r.reason, new RegExp(`tid 7 is taken by target ${a}`));
  t.equal(tgt({ iqn: b }, "start", { instance: "pb" }).code, 0, "no tid: the lowest free one");
  t.equal(tgt({ iqn: a, tid: "7" }, "stop", { instance: "pa" }).code, 0);
  t.equal(tgt({ iqn: b }, "stop", { instance: "pb" }).code, 0);
});

t.test("portals: an IPv6 portal is added to tgtd and reachable; drift is named", async (t) => {
  const q = iqn();
  const p = { iqn: q, portals: `${rig.addr4}:3260 [${rig.addr6}]:3260` };
  const s = tgt(p, "start");
  t.equal(s.code, 0, s.stderr);
  t.match(rig.tgtadm(["--mode", "portal", "--op", "show"]).stdout, new RegExp(`Portal: \\[${rig.addr6}\\]:3260`));
  const l6 = rig.inNs("iscsi-ls", ["-s", `iscsi://[${rig.addr6}]`]);
  t.match(l6.stdout, new RegExp(`Target:${q}`), "login over IPv6");
  t.equal(rig.tgtadm(["--mode", "portal", "--op", "delete", "--param", `portal=[${rig.addr6}]:3260`]).code, 0);
  const m = tgt(p, "monitor", { meta: recurring });
  t.equal(m.code, 1);
  t.match(m.reason, new RegExp(`tgtd does not listen on \\[${rig.addr6}\\]:3260`));
  t.equal(tgt(p, "start").code, 0);
  t.equal(tgt(p, "monitor", { meta: recurring }).code, 0);
  t.equal(tgt(p, "stop").code, 0);
});

t.test("drift and partial states: unbound ACL, serial changed, path vanished, LUN taken", async (t) => {
  const q = iqn();
  const p = { iqn: q, allowed_initiators: I1 };
  t.equal(tgt(p, "start").code, 0);
  const show = () => rig.tgtadm(["--op", "show", "--mode", "target"]).stdout;
  const tid = new RegExp(`Target (\\d+): ${q}`).exec(show())![1]!;
  rig.tgtadm(["--op", "unbind", "--mode", "target", "--tid", tid, "--initiator-name", I1]);
  rig.tgtadm(["--op", "bind", "--mode", "target", "--tid", tid, "--initiator-name", I2]);
  const m = tgt(p, "monitor", { meta: recurring });
  t.equal(m.code, 1);
  t.match(m.reason, new RegExp(`initiator ${I1} is not bound; initiator ${I2} is bound but not allowed`));
  t.equal(tgt(p, "start").code, 0);
  t.equal(tgt(p, "monitor", { meta: recurring }).code, 0);

  const f = file("drift.img");
  const lp = { target_iqn: q, lun: "2", path: f, scsi_sn: "tsi-sn-1" };
  t.equal(lu(lp, "start", "p_drift").code, 0);
  rig.tgtadm(["--op", "update", "--mode", "logicalunit", "--tid", tid, "--lun", "2", "--params", "scsi_sn=other"]);
  const ml = lu(lp, "monitor", "p_drift");
  t.equal(ml.code, 1);
  t.match(ml.reason, /serial is other, not tsi-sn-1/);
  t.equal(lu(lp, "start", "p_drift").code, 0);
  t.equal(lu(lp, "monitor", "p_drift").code, 0);
  const taken = lu({ target_iqn: q, lun: "2", path: file("other.img") }, "start", "p_other");
  t.equal(taken.code, 1);
  t.match(taken.reason, /LUN 2 of .* is backed by .*drift\.img, another resource's/);

  // path vanished: tgtd keeps the file open, the monitor notices the path is gone
  const lnk = join(rig.dir, "vanishing");
  symlinkSync(f, lnk);
  const vp = { target_iqn: q, lun: "3", path: lnk };
  t.equal(lu(vp, "start", "p_van").code, 0);
  rmSync(lnk);
  const mv = lu(vp, "monitor", "p_van");
  t.equal(mv.code, 1);
  t.match(mv.reason, /backing path .*vanishing is gone/);
  t.equal(lu(vp, "stop", "p_van").code, 0);
  t.notMatch(show(), /LUN: 3/, "stop removed the LUN anyway");
  t.equal(lu(lp, "stop", "p_drift").code, 0);
  t.equal(tgt(p, "stop").code, 0);
});

t.test("tgt options: aio with direct (dropped: aio is always O_DIRECT, as upstream), write cache off", async (t) => {
  const q = iqn();
  t.equal(tgt({ iqn: q }, "start").code, 0);
  const p = { target_iqn: q, lun: "1", path: file("aio.img"), tgt_bstype: "aio", tgt_bsoflags: "direct", write_cache: "false" };
  const r = lu(p, "start", "p_aio");
  t.equal(r.code, 0, r.stderr);
  t.match(rig.tgtadm(["--op", "show", "--mode", "target"]).stdout, /LUN: 1[\s\S]*Backing store type: aio/);
  t.equal(lu(p, "monitor", "p_aio").code, 0);
  t.equal(qemuIo(q, 1, ["write -P 0x11 0 4096", "read -P 0x11 0 4096"]).code, 0, "I/O through aio");
  t.equal(lu(p, "stop", "p_aio").code, 0);
  t.equal(tgt({ iqn: q }, "stop").code, 0);
});

t.test("bad input: clear reasons, right codes", async (t) => {
  const q = iqn();
  const v = (params: Record<string, string>) => rig.agent(L, "validate-all", { params: { implementation: "tgt", ...params } });
  let r = v({ target_iqn: q, lun: "0", path: "/x" });
  t.equal(r.code, 6);
  t.match(r.reason, /tgt reserves LUN 0/);
  r = tgt({ iqn: q, implementation: "iet" }, "validate-all");
  t.equal(r.code, 6);
  t.match(r.reason, /implementation iet is not supported/);
  r = tgt({ iqn: "not-an-iqn" }, "start");
  t.equal(r.code, 6);
  t.match(r.reason, /parameter iqn must be an iSCSI name/);
  t.equal(tgt({ iqn: "not-an-iqn" }, "stop").code, 0, "stop with invalid parameters: nothing could have started");
});

t.test("tgtd not running: probe 7, stop 0, start names it", async (t) => {
  const q = iqn();
  const env = { TGT_IPC_SOCKET: join(rig.dir, "no-tgtd") };
  t.equal(tgt({ iqn: q }, "monitor", { env }).code, 7);
  t.equal(tgt({ iqn: q }, "stop", { env }).code, 0);
  t.equal(lu({ target_iqn: q, lun: "1", path: "/dev/null" }, "monitor", "p_x", env).code, 7);
  t.equal(lu({ target_iqn: q, lun: "1", path: "/dev/null" }, "stop", "p_x", env).code, 0);
  const s = tgt({ iqn: q }, "start", { env });
  t.equal(s.code, 1);
  t.match(s.reason, /tgtd is not running/);
});
