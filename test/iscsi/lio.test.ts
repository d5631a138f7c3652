// lio-t: the agents against LIO's configfs. Here: the emulation and the fake targetcli; in the
// kernel lab (TSSTOR_LIO_REAL=1): /sys/kernel/config and the real targetcli, same assertions.
import t from "tap";
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { agentPath, ocfEnv } from "../lib/harness.js";
import { defaultSerial } from "../../lib/iscsi/syntax.js";
import { LioRig, LIO_REAL } from "./rig.js";

const rig = new LioRig("lio");
t.teardown(() => rig.destroy());

const T = "iSCSITarget";
const L = "iSCSILogicalUnit";
let n = 0;
const iqn = () => `iqn.2026-01.org.tsstor.test:lio${process.pid}-${++n}`;
const I1 = "iqn.1993-08.org.debian:01:tsi-one";
const I2 = "iqn.1993-08.org.debian:01:tsi-two";
const I3 = "iqn.1993-08.org.debian:01:tsi-three";
const SECRET = "Pa55-w0rd!tsi";

const tpg = (q: string) => join(rig.target, "iscsi", q, "tpgt_1");
/** the kernel shows "T10 VPD Unit Serial Number: X"; an emulated file holds what was written */
const serial = (so: string) => rd(join(so, "wwn", "vpd_unit_serial")).replace(/^T10 VPD Unit Serial Number: /, "");
const rd = (p: string) => readFileSync(p, "utf8").replace(/\n$/, "");
const ls = (p: string) => (existsSync(p) ? readdirSync(p).sort() : []);
const mapped = (q: string, init: string) => ls(join(tpg(q), "acls", init)).filter((x) => /^lun_\d+$/.test(x));
const objects = (name: string) => ls(join(rig.target, "core")).filter((h) => existsSync(join(rig.target, "core", h, name)));
const tgt = (params: Record<string, string>, action: string, extra: { instance?: string; env?: Record<string, string>; meta?: Record<string, string | number> } = {}) =>
  rig.agent(T, action, { params: { implementation: "lio-t", ...params }, instance: extra.instance ?? "p_target", env: extra.env, meta: { timeout: 20000, ...extra.meta } });
const lu = (params: Record<string, string>, action: string, instance = "p_lun1", env?: Record<string, string>) =>
  rig.agent(L, action, { params: { implementation: "lio-t", ...params }, instance, env, meta: { timeout: 20000 } });
const recurring = { interval: 10000 };

/** targetcli processes started by `fn` */
function procs(fn: () => void): number {
  const before = rig.logLines();
  fn();
  return rig.calls(before).length;
}

t.test("target: demo mode with the default portal, really created; one targetcli per start", async (t) => {
  const q = iqn();
  const p = { iqn: q };
  t.equal(tgt(p, "monitor").code, 7, "probe: not running");
  let r: ReturnType<typeof tgt> | undefined;
  t.equal(procs(() => (r = tgt(p, "start"))), 1, "one targetcli process");
  t.equal(r!.code, 0, r!.stderr);
  t.same(ls(join(tpg(q), "np")), ["0.0.0.0:3260"], "the default portal exists (upstream never creates it)");
  t.equal(rd(join(tpg(q), "enable")), "1");
  t.equal(rd(join(tpg(q), "attrib", "generate_node_acls")), "1");
  t.equal(rd(join(tpg(q), "attrib", "demo_mode_write_protect")), "0");
  t.equal(rd(join(tpg(q), "attrib", "cache_dynamic_acls")), "1");
  t.equal(rd(join(tpg(q), "attrib", "authentication")), "0");
  t.equal(tgt(p, "monitor", { meta: recurring }).code, 0);
  t.equal(procs(() => t.equal(tgt(p, "start").code, 0, "double start")), 0, "a running target needs no targetcli");
  t.equal(procs(() => t.equal(tgt(p, "monitor", { meta: recurring }).code, 0)), 0, "monitor never runs targetcli");
  t.equal(procs(() => t.equal(tgt(p, "stop").code, 0)), 1);
  t.notOk(existsSync(join(rig.target, "iscsi", q)));
  t.equal(procs(() => t.equal(tgt(p, "stop").code, 0, "double stop")), 0);
  t.equal(tgt(p, "monitor").code, 7);
});

t.test("no saveconfig, operator's targetcli preferences untouched", async (t) => {
  const q = iqn();
  const saved = () => (existsSync(rig.saveFile) ? statSync(rig.saveFile).mtimeMs : 0);
  const before = saved();
  t.equal(tgt({ iqn: q }, "start").code, 0);
  t.equal(tgt({ iqn: q }, "stop").code, 0);
  t.equal(saved(), before, "no saveconfig.json written");
  t.notOk(existsSync(join(rig.home, ".targetcli")), "~/.targetcli not created or read");
  const log = readFileSync(join(rig.rscTmp, "tsstor-targetcli", "log.txt"), "utf8");
  t.match(log, /set global auto_save_on_exit=false/, "the private home pins auto_save_on_exit=false");
});

t.test("portals: IPv4 and IPv6 exactly as configured; drift named; start repairs", async (t) => {
  const q = iqn();
  const p = { iqn: q, portals: `${rig.addr4}:3260 [${rig.addr6}]:3261` };
  t.equal(tgt(p, "start").code, 0);
  t.same(ls(join(tpg(q), "np")), [`${rig.addr4}:3260`, `[${rig.addr6}]:3261`].sort(), "IPv6 is [addr]:port, not split on ':'");
  t.equal(rig.admin(`/iscsi/${q}/tpg1/portals`, "delete", rig.addr6, "3261").code, 0);
  const m = tgt(p, "monitor", { meta: recurring });
  t.equal(m.code, 1);
  t.match(m.reason, new RegExp(`portal \\[${rig.addr6}\\]:3261 is missing`));
  t.equal(procs(() => t.equal(tgt(p, "start").code, 0, "start repairs")), 1);
  t.same(ls(join(tpg(q), "np")), [`${rig.addr4}:3260`, `[${rig.addr6}]:3261`].sort());
  t.equal(tgt(p, "stop").code, 0);
});

t.test("ACLs and CHAP: per-initiator credentials, secret never in argv, logs, reasons or targetcli", async (t) => {
  const q = iqn();
  const p = { iqn: q, allowed_initiators: `${I1} ${I2}`, incoming_username: "alice", incoming_password: SECRET };
  const r = tgt(p, "start", { env: { HA_debug: "1" } });
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stderr, SECRET);
  t.same(ls(join(tpg(q), "acls")), [I1, I2].sort());
  t.equal(rd(join(tpg(q), "attrib", "generate_node_acls")), "0");
  t.equal(rd(join(tpg(q), "attrib", "authentication")), "1");
  for (const i of [I1, I2]) {
    t.equal(rd(join(tpg(q), "acls", i, "auth", "userid")), "alice");
    t.equal(rd(join(tpg(q), "acls", i, "auth", "password")), SECRET, "the secret went straight to configfs");
  }
  const home = join(rig.rscTmp, "tsstor-targetcli");
  for (const f of ls(home)) t.notMatch(readFileSync(join(home, f), "utf8"), SECRET, `targetcli's ${f} never saw it`);
  t.notMatch(existsSync(rig.log) ? readFileSync(rig.log, "utf8") : "", SECRET, "not in any argv");
  // a wrong password is drift, named without the secret
  t.equal(rig.admin(`/iscsi/${q}/tpg1/acls/${I2}`, "set", "auth", "password=somethingelse").code, 0);
  const m = tgt(p, "monitor", { meta: recurring, env: { HA_debug: "1" } });
  t.equal(m.code, 1);
  t.match(m.reason, new RegExp(`CHAP password of ACL ${I2} differs`));
  t.notMatch(m.stderr, SECRET);
  t.equal(tgt(p, "start").code, 0);
  t.equal(rd(join(tpg(q), "acls", I2, "auth", "password")), SECRET);
  t.equal(tgt(p, "stop").code, 0);
});

t.test("demo mode with CHAP: the TPG's own credentials", async (t) => {
  const q = iqn();
  const p = { iqn: q, incoming_username: "bob", incoming_password: SECRET };
  t.equal(tgt(p, "start").code, 0);
  t.equal(rd(join(tpg(q), "attrib", "generate_node_acls")), "1");
  t.equal(rd(join(tpg(q), "attrib", "authentication")), "1");
  t.equal(rd(join(tpg(q), "auth", "userid")), "bob");
  t.equal(rd(join(tpg(q), "auth", "password")), SECRET);
  t.equal(tgt(p, "monitor", { meta: recurring }).code, 0);
  t.equal(tgt(p, "stop").code, 0);
});

t.test("mutual CHAP, secrets from files: both directions per ACL; dropping mutual clears it", async (t) => {
  const q = iqn();
  const inFile = join(rig.dir, "lio-in.secret");
  const outFile = join(rig.dir, "lio-out.secret");
  writeFileSync(inFile, `${SECRET}-in\n`, { mode: 0o600 });
  writeFileSync(outFile, `${SECRET}-out\n`, { mode: 0o600 });
  const p = { iqn: q, allowed_initiators: I1, incoming_username: "alice", incoming_password_file: inFile, outgoing_username: "lio-side", outgoing_password_file: outFile };
  const r = tgt(p, "start", { env: { HA_debug: "1" } });
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stderr, SECRET);
  const auth = join(tpg(q), "acls", I1, "auth");
  t.equal(rd(join(auth, "userid")), "alice");
  t.equal(rd(join(auth, "password")), `${SECRET}-in`, "the file's first line, without its newline");
  t.equal(rd(join(auth, "userid_mutual")), "lio-side");
  t.equal(rd(join(auth, "password_mutual")), `${SECRET}-out`);
  t.notMatch(existsSync(rig.log) ? readFileSync(rig.log, "utf8") : "", SECRET, "not in any argv");
  t.equal(tgt(p, "monitor", { meta: recurring }).code, 0);
  writeFileSync(outFile, `${SECRET}-out2\n`);
  const m = tgt(p, "monitor", { meta: recurring });
  t.equal(m.code, 1, "a changed file is drift until reload");
  t.match(m.reason, new RegExp(`mutual CHAP password of ACL ${I1} differs`));
  t.notMatch(m.stderr + m.reason, SECRET);
  t.equal(tgt(p, "reload-agent").code, 0);
  t.equal(rd(join(auth, "password_mutual")), `${SECRET}-out2`);
  const p2 = { iqn: q, allowed_initiators: I1, incoming_username: "alice", incoming_password_file: inFile };
  t.equal(tgt(p2, "reload-agent").code, 0);
  // the kernel keeps the word NULL as the value and drops the credential's flag
  t.equal(rd(join(auth, "userid_mutual")), "NULL", "mutual CHAP dropped: the kernel's value is cleared");
  t.equal(rd(join(auth, "password_mutual")), "NULL");
  t.equal(rd(join(auth, "password")), `${SECRET}-in`, "incoming untouched");
  t.equal(tgt(p2, "stop").code, 0);
});

t.test("reload-agent: initiators and CHAP change in place (TPG never disabled, LUNs mapped for new ACLs)", async (t) => {
  const q = iqn();
  const p = { iqn: q, allowed_initiators: `${I1} ${I2}`, incoming_username: "alice", incoming_password: SECRET };
  t.equal(tgt(p, "start").code, 0);
  const f = rig.file("reload.img");
  t.equal(lu({ target_iqn: q, lun: "3", path: f, liot_bstype: "fileio" }, "start", "p_reload").code, 0);
  t.same(mapped(q, I1), ["lun_3"], "the LU maps into every target ACL");
  const inode = lstatSync(join(rig.target, "iscsi", q)).ino;
  const p2 = { ...p, allowed_initiators: `${I2} ${I3}`, incoming_password: `${SECRET}-2` };
  t.equal(tgt(p2, "monitor", { meta: recurring }).code, 1, "the old target differs from the new parameters");
  let r: ReturnType<typeof tgt> | undefined;
  t.equal(procs(() => (r = tgt(p2, "reload-agent", { env: { HA_debug: "1" } }))), 1);
  t.equal(r!.code, 0, r!.stderr);
  t.notMatch(r!.stderr, SECRET);
  t.equal(lstatSync(join(rig.target, "iscsi", q)).ino, inode, "same target, not recreated");
  t.equal(rd(join(tpg(q), "enable")), "1");
  t.same(ls(join(tpg(q), "acls")), [I2, I3].sort(), "I1 removed, I3 added");
  t.same(mapped(q, I3), ["lun_3"], "the new ACL sees the LU");
  t.equal(rd(join(tpg(q), "acls", I3, "auth", "password")), `${SECRET}-2`);
  t.equal(rd(join(tpg(q), "acls", I2, "auth", "password")), `${SECRET}-2`);
  t.equal(tgt(p2, "monitor", { meta: recurring }).code, 0);
  t.equal(lu({ target_iqn: q, lun: "3", path: f, liot_bstype: "fileio" }, "monitor", "p_reload").code, 0);
  t.equal(lu({ target_iqn: q, lun: "3", path: f, liot_bstype: "fileio" }, "stop", "p_reload").code, 0);
  t.equal(tgt(p2, "stop").code, 0);
});

// iSER needs RDMA (ib_isert) on a real kernel: the lab sets TSSTOR_LIO_ISER=1 where it has it
const ISER = !LIO_REAL || process.env.TSSTOR_LIO_ISER === "1";

t.test("additional_parameters and iser_portals go to configfs and are monitored", async (t) => {
  const q = iqn();
  const p: Record<string, string> = { iqn: q, portals: `${rig.addr4}:3260`, additional_parameters: "MaxRecvDataSegmentLength=65536 login_timeout=10 NoSuchKnob=1" };
  if (ISER) p.iser_portals = rig.addr4;
  const r = tgt(p, "start");
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /NoSuchKnob is neither an iSCSI parameter nor a TPG attribute here; ignored/);
  t.equal(rd(join(tpg(q), "param", "MaxRecvDataSegmentLength")), "65536");
  t.equal(rd(join(tpg(q), "attrib", "login_timeout")), "10");
  if (ISER) t.equal(rd(join(tpg(q), "np", `${rig.addr4}:3260`, "iser")), "1");
  t.equal(rig.admin(`/iscsi/${q}/tpg1`, "set", "parameter", "MaxRecvDataSegmentLength=8192").code, 0);
  const m = tgt(p, "monitor", { meta: recurring });
  t.equal(m.code, 1);
  t.match(m.reason, /MaxRecvDataSegmentLength is 8192, not 65536/);
  t.equal(tgt(p, "stop").code, 0);
});

t.test("target partial states: no portal, portal already there, TPG disabled, no TPG", async (t) => {
  const q = iqn();
  // an administrator's target (default preferences: default portal, TPG enabled)
  t.equal(rig.admin("/iscsi", "create", q).code, 0);
  t.same(ls(join(tpg(q), "np")), ["0.0.0.0:3260"]);
  let r = tgt({ iqn: q }, "start");
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stderr, /already exists/, "an existing matching portal is kept, not re-created");
  t.equal(rig.admin(`/iscsi/${q}/tpg1/portals`, "delete", "0.0.0.0", "3260").code, 0);
  r = tgt({ iqn: q }, "monitor");
  t.equal(r.code, 1, "target without portal: a probe reports the failure");
  t.match(r.reason, /portal 0\.0\.0\.0:3260 is missing/);
  t.equal(tgt({ iqn: q }, "start").code, 0);
  t.same(ls(join(tpg(q), "np")), ["0.0.0.0:3260"]);
  t.equal(rig.admin(`/iscsi/${q}/tpg1`, "disable").code, 0);
  r = tgt({ iqn: q }, "monitor", { meta: recurring });
  t.equal(r.code, 1);
  t.match(r.reason, /TPG 1 of .* is disabled/);
  t.equal(tgt({ iqn: q }, "start").code, 0);
  t.equal(rd(join(tpg(q), "enable")), "1");
  t.equal(rig.admin(`/iscsi/${q}`, "delete", "1").code, 0);
  t.equal(tgt({ iqn: q }, "monitor").code, 1, "target without TPG");
  t.equal(tgt({ iqn: q }, "start").code, 0);
  t.equal(tgt({ iqn: q }, "monitor", { meta: recurring }).code, 0);
  t.equal(tgt({ iqn: q }, "stop").code, 0);
});

t.test("logical unit (fileio): backstore, serial md5(resource), LUN; stop removes all", async (t) => {
  const q = iqn();
  t.equal(tgt({ iqn: q }, "start").code, 0);
  const f = rig.file("lu.img");
  const p = { target_iqn: q, lun: "1", path: f, liot_bstype: "fileio" };
  t.equal(lu(p, "monitor").code, 7);
  let r: ReturnType<typeof lu> | undefined;
  t.equal(procs(() => (r = lu(p, "start"))), 1, "one targetcli process");
  t.equal(r!.code, 0, r!.stderr);
  const hba = objects("p_lun1");
  t.equal(hba.length, 1);
  t.match(hba[0], /^fileio_\d+$/);
  const so = join(rig.target, "core", hba[0]!, "p_lun1");
  t.equal(rd(join(so, "udev_path")), f);
  t.equal(serial(so), "6e9272f1", "md5('p_lun1')[0:8], as upstream");
  const link = readdirSync(join(tpg(q), "lun", "lun_1")).find((x) => lstatSync(join(tpg(q), "lun", "lun_1", x)).isSymbolicLink());
  t.ok(link, "LUN 1 links to the backstore");
  t.equal(lu(p, "monitor", "p_lun1").code, 0);
  t.equal(procs(() => t.equal(lu(p, "start").code, 0)), 0, "double start: nothing to do");
  t.equal(lu(p, "stop").code, 0);
  t.same(objects("p_lun1"), [], "backstore gone");
  t.notOk(existsSync(join(tpg(q), "lun", "lun_1")));
  t.equal(lu(p, "stop").code, 0, "double stop");
  t.equal(lu(p, "monitor").code, 7);
  t.equal(tgt({ iqn: q }, "stop").code, 0);
});

t.test("logical unit (block, the default) with ids, block size and emulation flags", async (t) => {
  const q = iqn();
  t.equal(tgt({ iqn: q }, "start").code, 0);
  const dev = rig.loop("blk.img");
  const p = { target_iqn: q, lun: "2", path: dev, scsi_sn: "SN-tsi-0001", vendor_id: "TSSTOR", product_id: "tsi-disk", block_size: "4096", emulate_tpu: "1", emulate_caw: "0", additional_parameters: "is_nonrot=1" };
  let r: ReturnType<typeof lu> | undefined;
  t.equal(procs(() => (r = lu(p, "start", "p_blk"))), 1, "one targetcli: it waits while vendor/product ids are written before export");
  t.equal(r!.code, 0, r!.stderr);
  const so = join(rig.target, "core", objects("p_blk")[0]!, "p_blk");
  t.match(objects("p_blk")[0], /^iblock_\d+$/);
  t.equal(serial(so), "SN-tsi-0001");
  t.equal(rd(join(so, "wwn", "vendor_id")), "TSSTOR");
  t.equal(rd(join(so, "wwn", "product_id")), "tsi-disk");
  t.equal(rd(join(so, "attrib", "block_size")), "4096");
  t.equal(rd(join(so, "attrib", "emulate_tpu")), "1");
  t.equal(rd(join(so, "attrib", "emulate_caw")), "0");
  t.equal(rd(join(so, "attrib", "is_nonrot")), "1");
  t.equal(lu(p, "monitor", "p_blk").code, 0);
  t.equal(rig.admin(`/backstores/block/p_blk`, "set", "attribute", "emulate_tpu=0").code, 0);
  const m = lu(p, "monitor", "p_blk");
  t.equal(m.code, 1);
  t.match(m.reason, /emulate_tpu is 0, not 1/);
  t.equal(procs(() => t.equal(lu(p, "start", "p_blk").code, 0)), 0, "an attribute is repaired without targetcli");
  const p2 = { ...p, product_id: "tsi-disk2" };
  t.equal(lu(p2, "monitor", "p_blk").code, 1, "a changed product id is drift");
  let r2: ReturnType<typeof lu> | undefined;
  t.equal(procs(() => (r2 = lu(p2, "start", "p_blk"))), 1, "the correction (LUN dropped, id written, LUN back) is one targetcli process");
  t.equal(r2!.code, 0, r2!.stderr);
  t.equal(rd(join(so, "wwn", "product_id")), "tsi-disk2");
  t.equal(lu(p2, "monitor", "p_blk").code, 0);
  t.notMatch(r2!.stderr, /tsstor_barrier/, "the barrier's echo is not reported as a targetcli error");
  t.equal(lu(p2, "stop", "p_blk").code, 0);
  t.same(objects("p_blk"), []);
  t.equal(tgt({ iqn: q }, "stop").code, 0);
});

t.test("fileio write cache on and off; pscsi without a SCSI device fails with targetcli's reason", async (t) => {
  const q = iqn();
  t.equal(tgt({ iqn: q }, "start").code, 0);
  for (const [wc, want] of [["false", "0"], ["true", "1"]] as const) {
    const p = { target_iqn: q, lun: "7", path: rig.file(`wc-${wc}.img`), liot_bstype: "fileio", write_cache: wc };
    t.equal(lu(p, "start", `p_wc${wc}`).code, 0);
    t.equal(rd(join(rig.target, "core", objects(`p_wc${wc}`)[0]!, `p_wc${wc}`, "attrib", "emulate_write_cache")), want, `write_cache=${wc}`);
    t.equal(lu(p, "monitor", `p_wc${wc}`).code, 0);
    t.equal(lu(p, "stop", `p_wc${wc}`).code, 0);
  }
  const dev = rig.loop("pscsi.img");
  const r = lu({ target_iqn: q, lun: "8", path: dev, liot_bstype: "pscsi" }, "start", "p_pscsi");
  t.equal(r.code, 1);
  t.match(r.reason, /LUN 8 of .* is missing \(targetcli: .*SCSI/, "the reason carries targetcli's error");
  t.same(objects("p_pscsi"), [], "nothing left behind");
  t.equal(lu({ target_iqn: q, lun: "8", path: dev, liot_bstype: "pscsi" }, "stop", "p_pscsi").code, 0);
  t.equal(tgt({ iqn: q }, "stop").code, 0);
});

t.test("logical unit allowed_initiators: explicit mappings, ACLs it creates are its own; reload in place", async (t) => {
  const q = iqn();
  t.equal(tgt({ iqn: q, allowed_initiators: `${I1} ${I2}` }, "start").code, 0);
  const f = rig.file("acl.img");
  const p = { target_iqn: q, lun: "4", path: f, liot_bstype: "fileio", allowed_initiators: `${I1} ${I3}` };
  t.equal(lu(p, "start", "p_acl").code, 0);
  t.same(mapped(q, I1), ["lun_4"]);
  t.same(mapped(q, I2), [], "I2 is the target's but not allowed for this LU");
  t.same(mapped(q, I3), ["lun_4"], "the LU created an ACL for I3");
  const p2 = { ...p, allowed_initiators: I2 };
  t.equal(lu(p2, "monitor", "p_acl").code, 1);
  t.equal(lu(p2, "reload-agent", "p_acl").code, 0);
  t.same([mapped(q, I1), mapped(q, I2), mapped(q, I3)], [[], ["lun_4"], []], "mappings follow the new list");
  t.equal(lu(p2, "monitor", "p_acl").code, 0);
  t.equal(lu(p2, "stop", "p_acl").code, 0);
  t.same(ls(join(tpg(q), "acls")), [I1, I2].sort(), "the ACL the LU created (I3) is gone, the target's stay");
  t.equal(tgt({ iqn: q, allowed_initiators: `${I1} ${I2}` }, "monitor", { meta: recurring }).code, 0);
  t.equal(tgt({ iqn: q, allowed_initiators: `${I1} ${I2}` }, "stop").code, 0);
});

t.test("logical unit partial states: leftover backstore, ACL without mapping, path vanished, wrong path", async (t) => {
  const q = iqn();
  t.equal(tgt({ iqn: q, allowed_initiators: I1 }, "start").code, 0);
  const f = rig.file("left.img");
  const p = { target_iqn: q, lun: "5", path: f, liot_bstype: "fileio" };
  // leftover backstore (a failed stop, a crashed start): failure for a probe, reused by start
  t.equal(rig.admin("/backstores/fileio", "create", "name=p_left", `file_or_dev=${f}`).code, 0);
  let r = lu(p, "monitor", "p_left");
  t.equal(r.code, 1);
  t.match(r.reason, /backstore fileio\/p_left exists without LUN 5/);
  r = lu(p, "start", "p_left");
  t.equal(r.code, 0, r.stderr);
  t.equal(objects("p_left").length, 1, "reused, not duplicated");
  t.equal(serial(join(rig.target, "core", objects("p_left")[0]!, "p_left")), defaultSerial("p_left"), "its serial corrected");
  t.equal(lu(p, "monitor", "p_left").code, 0);
  // ACL present without mapping
  t.equal(rig.admin(`/iscsi/${q}/tpg1/acls/${I1}`, "delete", "5").code, 0);
  r = lu(p, "monitor", "p_left");
  t.equal(r.code, 1);
  t.match(r.reason, new RegExp(`LUN 5 is not mapped for ${I1}`));
  t.equal(lu(p, "start", "p_left").code, 0);
  t.same(mapped(q, I1), ["lun_5"]);
  t.equal(lu(p, "stop", "p_left").code, 0);

  // path vanished before stop (#1316): a symlink standing for the device
  const lnk = join(rig.dir, "vanishing");
  symlinkSync(f, lnk);
  const pv = { ...p, path: lnk };
  t.equal(lu(pv, "start", "p_gone").code, 0);
  unlinkSync(lnk);
  r = lu(pv, "monitor", "p_gone", undefined);
  t.equal(r.code, 1, "a vanished path is a failure, not 'stopped'");
  t.match(r.reason, /backing path .*vanishing is gone/);
  t.equal(lu(pv, "stop", "p_gone").code, 0);
  t.same(objects("p_gone"), [], "stop removed the backstore holding the vanished device");
  t.notOk(existsSync(join(tpg(q), "lun", "lun_5")));

  // a leftover backstore on another path is replaced
  const g = rig.file("other.img");
  t.equal(rig.admin("/backstores/fileio", "create", "name=p_wrong", `file_or_dev=${g}`).code, 0);
  t.equal(lu(p, "start", "p_wrong").code, 0);
  t.equal(rd(join(rig.target, "core", objects("p_wrong")[0]!, "p_wrong", "udev_path")), f);
  t.equal(lu(p, "stop", "p_wrong").code, 0);
  t.equal(tgt({ iqn: q, allowed_initiators: I1 }, "stop").code, 0);
});

t.test("conflicts are failures with a reason, not silent takeovers", async (t) => {
  const q = iqn();
  t.equal(tgt({ iqn: q }, "start").code, 0);
  const f = rig.file("c1.img");
  t.equal(lu({ target_iqn: q, lun: "6", path: f, liot_bstype: "fileio" }, "start", "p_c1").code, 0);
  const r = lu({ target_iqn: q, lun: "6", path: rig.file("c2.img"), liot_bstype: "fileio" }, "start", "p_c2");
  t.equal(r.code, 1);
  t.match(r.reason, /LUN 6 of .* exports fileio\/p_c1, another resource's backstore/);
  t.equal(lu({ target_iqn: q, lun: "6", path: f, liot_bstype: "fileio" }, "monitor", "p_c2").code, 7, "another resource's LUN is not ours");
  t.equal(lu({ target_iqn: q, lun: "6", path: f, liot_bstype: "fileio" }, "stop", "p_c2").code, 0, "and stop leaves it alone");
  t.equal(lu({ target_iqn: q, lun: "6", path: f, liot_bstype: "fileio" }, "monitor", "p_c1").code, 0);
  const noTarget = lu({ target_iqn: `${q}x`, lun: "1", path: f, liot_bstype: "fileio" }, "start", "p_c3");
  t.equal(noTarget.code, 1);
  t.match(noTarget.reason, /does not exist here \(the iSCSITarget resource starts first\)/);
  t.equal(lu({ target_iqn: q, lun: "6", path: f, liot_bstype: "fileio" }, "stop", "p_c1").code, 0);
  t.equal(tgt({ iqn: q }, "stop").code, 0);
});

t.test("a portal the kernel cannot listen on: start fails naming the target whose wildcard holds the port", async (t) => {
  const a = iqn();
  const b = iqn();
  t.equal(tgt({ iqn: a, portals: "0.0.0.0:3270" }, "start").code, 0);
  const r = tgt({ iqn: b, portals: "127.0.0.1:3270" }, "start");
  t.equal(r.code, 1, "generic: another node may take it");
  t.match(r.reason, `portal 127.0.0.1:3270 is missing (it cannot exist beside 0.0.0.0:3270 of ${a}: the kernel cannot listen on a wildcard address`);
  t.equal(tgt({ iqn: b, portals: "127.0.0.1:3270" }, "stop").code, 0, "stop clears the half-made target");
  t.equal(tgt({ iqn: b, portals: "[::1]:3271" }, "start").code, 0);
  t.equal(tgt({ iqn: b, portals: "0.0.0.0:3270" }, "start").code, 0, "the same wildcard is shared between targets (start moves b's portal)");
  if (!LIO_REAL) t.equal(rig.admin("/iscsi", "ls", a).code, 0, "(the fake: ls resolves a relative path from the node it runs on)");
  // its own portals clashing: a configuration error, caught before anything is created
  const own = tgt({ iqn: b, portals: "0.0.0.0:3272 127.0.0.1:3272" }, "validate-all");
  t.equal(own.code, 6);
  t.match(own.reason, "portals 0.0.0.0:3272 and 127.0.0.1:3272 cannot both exist");
  t.equal(tgt({ iqn: b, portals: "[::]:3272 [0::0]:3273 127.0.0.1:3273" }, "validate-all").code, 6, "[::] covers IPv4, any spelling");
  for (const q of [b, a]) t.equal(tgt({ iqn: q }, "stop").code, 0);
});

t.test("stopping the target first leaves the LU's backstore to the LU's stop", async (t) => {
  const q = iqn();
  t.equal(tgt({ iqn: q }, "start").code, 0);
  const p = { target_iqn: q, lun: "1", path: rig.file("order.img"), liot_bstype: "fileio" };
  t.equal(lu(p, "start", "p_order").code, 0);
  t.equal(tgt({ iqn: q }, "stop").code, 0);
  t.equal(lu(p, "monitor", "p_order").code, 1, "a backstore without its LUN");
  t.equal(lu(p, "stop", "p_order").code, 0);
  t.same(objects("p_order"), []);
});

t.test("two logical units starting at once on one target: the shared lock serializes them", async (t) => {
  const q = iqn();
  t.equal(tgt({ iqn: q }, "start").code, 0);
  const files = [rig.file("par1.img"), rig.file("par2.img"), rig.file("par3.img")];
  const runs = files.map(
    (f, i) =>
      new Promise<number>((resolve) => {
        const env = ocfEnv(L, { params: { implementation: "lio-t", target_iqn: q, lun: String(i + 10), path: f, liot_bstype: "fileio" }, instance: `p_par${i}`, env: rig.env(), meta: { timeout: 20000 } });
        const c = spawn(agentPath(L), ["start"], { env, stdio: "ignore" });
        c.on("exit", (code) => resolve(code ?? 128));
      }),
  );
  t.same(await Promise.all(runs), [0, 0, 0]);
  t.same(ls(join(tpg(q), "lun")), ["lun_10", "lun_11", "lun_12"]);
  for (let i = 0; i < 3; i++) t.equal(lu({ target_iqn: q, lun: String(i + 10), path: files[i]!, liot_bstype: "fileio" }, "stop", `p_par${i}`).code, 0);
  t.equal(tgt({ iqn: q }, "stop").code, 0);
});

t.test("no LIO here: probes 7, stops 0, start names the missing piece", { skip: LIO_REAL }, async (t) => {
  const env = { TSSTOR_CONFIGFS_ROOT: join(rig.dir, "no-configfs") };
  t.equal(tgt({ iqn: iqn() }, "monitor", { env }).code, 7);
  t.equal(tgt({ iqn: iqn() }, "stop", { env }).code, 0);
  t.equal(lu({ target_iqn: iqn(), lun: "1", path: "/dev/null" }, "monitor", "p_x", env).code, 7);
  t.equal(lu({ target_iqn: iqn(), lun: "1", path: "/dev/null" }, "stop", "p_x", env).code, 0);
  const s = tgt({ iqn: iqn() }, "start", { env });
  t.equal(s.code, 1);
  t.match(s.reason, /targetcli failed \(rc=255\): Cannot mount configfs/);
  const noCli = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
  const s2 = tgt({ iqn: iqn() }, "start", { env: noCli });
  t.equal(s2.code, 5);
  t.match(s2.reason, /targetcli not found/);
  t.equal(tgt({ iqn: iqn() }, "validate-all", { env: { ...noCli, OCF_CHECK_LEVEL: "10" } }).code, 5);
  t.equal(tgt({ iqn: iqn() }, "monitor", { env: noCli }).code, 7, "probe without targetcli");
  rmSync(join(rig.dir, "no-configfs"), { recursive: true, force: true });
});
