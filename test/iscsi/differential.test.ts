// Differential: ocf:heartbeat:iSCSITarget/iSCSILogicalUnit and ours, implementation=tgt, the same
// scenarios against the same real tgtd. Upstream is resource-agents 4.12 (this machine's) or, with
// TSSTOR_UPSTREAM=4.16, 4.16 run chrooted in the Debian 13 root (test/lib/upstream.ts). Same exit codes and the same tgtd state where upstream is
// right; where upstream is wrong the difference is asserted and named.
import t from "tap";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { agentPath, ocfEnv, runAgent, type AgentRun } from "../lib/harness.js";
import { upstream, type UpstreamAgent } from "../lib/upstream.js";
import { parseTargets, type TgtTarget } from "../../lib/iscsi/tgtadm.js";
import { LIO_REAL, LioRig, TgtRig, sleep as sleepMs } from "./rig.js";

const rig = new TgtRig("d");
t.teardown(() => rig.destroy());
const I1 = "iqn.1993-08.org.debian:01:tsi-diff";
const SECRET = "Diff-s3cret-pw";

type Who = "heartbeat" | "tsstor";
const side = (who: Who, agent: string): UpstreamAgent => (who === "heartbeat" ? upstream.agent(agent) : { bin: agentPath(agent), wrap: [], env: {} });
t.comment(upstream.describe("ocf:heartbeat:iSCSITarget and iSCSILogicalUnit"));
const run = (who: Who, agent: string, action: string, params: Record<string, string>, instance: string, meta: Record<string, number> = {}): AgentRun => {
  const a = side(who, agent);
  return runAgent(a.bin, action, { params: { implementation: "tgt", ...params }, instance, env: rig.env(a.env), wrap: a.wrap, meta: { timeout: 20000, ...meta } });
};

function target(iqn: string): TgtTarget | undefined {
  return parseTargets(rig.tgtadm(["--op", "show", "--mode", "target"]).stdout).find((x) => x.iqn === iqn);
}
/** what an initiator cares about, without tids (each side has its own) */
function view(iqn: string) {
  const x = target(iqn);
  if (!x) return undefined;
  return { acls: x.acls, accounts: x.accounts, luns: x.luns.filter((l) => l.lun > 0).map((l) => ({ lun: l.lun, path: l.path, sn: l.scsiSn, id: l.scsiId, type: l.type })) };
}
const file = (name: string) => {
  const p = join(rig.dir, name);
  writeFileSync(p, "");
  spawnSync("truncate", ["-s", "16M", p]);
  return p;
};

t.test("same lifecycle, same codes, same tgtd state (ACL + CHAP + LU with ids)", async (t) => {
  const states: Record<Who, unknown[]> = { heartbeat: [], tsstor: [] };
  const codes: Record<Who, number[]> = { heartbeat: [], tsstor: [] };
  const logins: Record<Who, { inq?: string[]; sn?: string }> = { heartbeat: {}, tsstor: {} };
  for (const [who, tid] of [["heartbeat", "11"], ["tsstor", "12"]] as const) {
    const iqn = `iqn.2026-01.org.tsstor.test:diff-${who}`;
    const tp = { iqn, tid, allowed_initiators: I1, incoming_username: `user-${who}`, incoming_password: SECRET };
    const lp = { target_iqn: iqn, lun: "1", path: file(`${who}.img`), scsi_sn: `sn-${who}`, scsi_id: `id-${who}`, vendor_id: "VEND", product_id: "PROD" };
    const c = codes[who];
    c.push(run(who, "iSCSITarget", "monitor", tp, "p_t").code);
    c.push(run(who, "iSCSITarget", "start", tp, "p_t").code);
    c.push(run(who, "iSCSITarget", "monitor", tp, "p_t", { interval: 10000 }).code);
    c.push(run(who, "iSCSITarget", "start", tp, "p_t").code);
    c.push(run(who, "iSCSILogicalUnit", "monitor", lp, "p_l").code);
    c.push(run(who, "iSCSILogicalUnit", "start", lp, "p_l").code);
    c.push(run(who, "iSCSILogicalUnit", "monitor", lp, "p_l", { interval: 10000 }).code);
    c.push(run(who, "iSCSILogicalUnit", "start", lp, "p_l").code);
    const v = view(iqn)!;
    const norm = (x: string) => x.split("/").pop()!.replace(who, "WHO");
    states[who].push({ ...v, accounts: v.accounts.map(norm), luns: v.luns.map((l) => ({ ...l, path: norm(l.path), sn: norm(l.sn), id: norm(l.id) })) });
    // what the allowed initiator sees (upstream binds names as addresses: asserted below)
    const url = rig.url(iqn, 1, { user: `user-${who}`, password: SECRET });
    logins[who] = {
      inq: /Vendor:(\S+)[\s\S]*Product:(\S+)/.exec(rig.inNs("iscsi-inq", ["-i", I1, url]).stdout)?.slice(1),
      sn: /\[\s*(\S+)\]/.exec(rig.inNs("iscsi-inq", ["-i", I1, "-e", "1", "-c", "128", url]).stdout)?.[1],
    };
    c.push(run(who, "iSCSILogicalUnit", "stop", lp, "p_l").code);
    c.push(run(who, "iSCSILogicalUnit", "stop", lp, "p_l").code);
    c.push(run(who, "iSCSILogicalUnit", "monitor", lp, "p_l").code);
    c.push(run(who, "iSCSITarget", "stop", tp, "p_t").code);
    c.push(run(who, "iSCSITarget", "stop", tp, "p_t").code);
    c.push(run(who, "iSCSITarget", "monitor", tp, "p_t").code);
    states[who].push(view(iqn) ?? "gone");
  }
  t.same(codes.tsstor, codes.heartbeat, `exit codes: ${codes.tsstor.join(" ")}`);
  t.same(codes.tsstor, [7, 0, 0, 0, 7, 0, 0, 0, 0, 0, 7, 0, 0, 7]);
  t.same(states.tsstor, states.heartbeat, "same target, ACL entries, account, LUN, serial, SCSI id, and all gone after stop");
  t.same(logins.tsstor, { inq: ["VEND", "PROD"], sn: "sn-tsstor" }, "ours: the allowed initiator logs in with CHAP and sees vendor, product, serial");
  t.same(logins.heartbeat, { inq: undefined, sn: undefined }, "upstream gap: allowed_initiators are bound with --initiator-address, so an initiator NAME never matches and cannot log in");
});

t.test("upstream gap: allowed_initiators empty binds nobody upstream, ALL here", async (t) => {
  for (const [who, tid] of [["heartbeat", "21"], ["tsstor", "22"]] as const) {
    const iqn = `iqn.2026-01.org.tsstor.test:open-${who}`;
    t.equal(run(who, "iSCSITarget", "start", { iqn, tid }, "p_o").code, 0);
    const acls = target(iqn)!.acls;
    const ls = rig.inNs("iscsi-ls", ["-s", `iscsi://${rig.addr4}`]).stdout;
    if (who === "heartbeat") {
      t.same(acls, [], "upstream: no ACL at all");
      t.notMatch(ls, iqn, "upstream: nobody can even discover it");
    } else {
      t.same(acls, ["ALL"]);
      t.match(ls, iqn, "ours: any initiator logs in, as the parameter's documentation promises");
    }
    t.equal(run(who, "iSCSITarget", "stop", { iqn, tid }, "p_o").code, 0);
  }
});

t.test("upstream gap: tid is required upstream, chosen here", async (t) => {
  const iqn = "iqn.2026-01.org.tsstor.test:notid";
  const hb = run("heartbeat", "iSCSITarget", "start", { iqn }, "p_n");
  t.equal(hb.code, 6);
  t.match(hb.reason, /Missing resource parameter "tid"/);
  t.equal(run("tsstor", "iSCSITarget", "start", { iqn }, "p_n").code, 0);
  t.ok(target(iqn), "created with a free tid");
  t.equal(run("tsstor", "iSCSITarget", "stop", { iqn }, "p_n").code, 0);
});

t.test("upstream gap: the CHAP secret in argv upstream, never here (strace of start)", async (t) => {
  for (const [who, tid] of [["heartbeat", "31"], ["tsstor", "32"]] as const) {
    const iqn = `iqn.2026-01.org.tsstor.test:chap-${who}`;
    const params = { implementation: "tgt", iqn, tid, incoming_username: `u-${who}`, incoming_password: SECRET };
    const trace = join(rig.dir, `${who}.strace`);
    const a = side(who, "iSCSITarget");
    const env = ocfEnv("iSCSITarget", { params, instance: "p_c", env: rig.env(a.env), meta: { timeout: 20000 } });
    const r = spawnSync("strace", ["-f", "-qq", "-e", "trace=execve", "-s", "4096", "-o", trace, ...a.wrap, a.bin, "start"], { env, encoding: "utf8" });
    t.equal(r.status, 0, r.stderr);
    const seen = readFileSync(trace, "utf8").includes(SECRET);
    if (who === "heartbeat") t.ok(seen, "upstream: tgtadm --password <secret> is visible in /proc/PID/cmdline");
    else t.notOk(seen, "ours: in no process's argv");
    t.equal(run(who, "iSCSITarget", "stop", params, "p_c").code, 0);
  }
});

t.test("upstream gaps in the LU monitor: the LUN number is not checked, a vanished path means 'stopped'", async (t) => {
  const res: Record<Who, { wrongLun: number; vanished: number; stop: number; left: boolean }> = {} as never;
  for (const [who, tid] of [["heartbeat", "41"], ["tsstor", "42"]] as const) {
    const iqn = `iqn.2026-01.org.tsstor.test:lu-${who}`;
    t.equal(run(who, "iSCSITarget", "start", { iqn, tid }, "p_t").code, 0);
    const img = file(`lu-${who}.img`);
    const lnk = join(rig.dir, `lu-${who}.link`);
    symlinkSync(img, lnk);
    const lp = { target_iqn: iqn, lun: "1", path: lnk };
    t.equal(run(who, "iSCSILogicalUnit", "start", lp, "p_l").code, 0);
    const wrongLun = run(who, "iSCSILogicalUnit", "monitor", { ...lp, lun: "5" }, "p_l").code;
    rmSync(lnk);
    const vanished = run(who, "iSCSILogicalUnit", "monitor", lp, "p_l", { interval: 10000 }).code;
    const stop = run(who, "iSCSILogicalUnit", "stop", lp, "p_l").code;
    const left = (target(iqn)?.luns.length ?? 0) > 1;
    res[who] = { wrongLun, vanished, stop, left };
    rig.tgtadm(["--op", "delete", "--mode", "logicalunit", "--tid", tid, "--lun", "1"]);
    t.equal(run(who, "iSCSITarget", "stop", { iqn, tid }, "p_t").code, 0);
  }
  t.same(res.heartbeat, { wrongLun: 0, vanished: 7, stop: 0, left: true }, "upstream: LUN 5 'running', vanished path 'stopped', stop leaves the LUN");
  t.same(res.tsstor, { wrongLun: 7, vanished: 1, stop: 0, left: false }, "ours: LUN 5 not running, vanished path a failure, stop removes the LUN");
});

// ---- lio-t: upstream against the configfs emulation ---------------------------------------------
// The upstream agent hard-codes /sys/kernel/config: it runs in a private mount namespace where the
// emulation is bind-mounted there (ours runs in the same namespace, for symmetry).
t.test("lio-t (emulation): upstream's gaps next to ours", { skip: LIO_REAL ? "emulation only" : false }, async (t) => {
  const lio = new LioRig("dl");
  const holder = spawn("unshare", ["-m", "--propagation", "private", "sh", "-c", `mount -t tmpfs tmpfs /sys/kernel && mkdir /sys/kernel/config && mount --bind ${lio.root} /sys/kernel/config && exec sleep 600`], { stdio: "ignore", detached: true });
  t.teardown(() => {
    try {
      process.kill(holder.pid!, "SIGKILL");
    } catch {
      /* gone */
    }
    lio.destroy();
  });
  // wait until the namespace shows the emulation (the holder mounted it)
  for (let i = 0; i < 100 && spawnSync("nsenter", ["-t", String(holder.pid), "-m", "--", "mountpoint", "-q", "/sys/kernel/config"]).status !== 0; i++) sleepMs(20);
  const home = (who: Who) => join(lio.dir, `home-${who}`);
  const go = (who: Who, agent: string, action: string, params: Record<string, string>, instance: string) => {
    spawnSync("mkdir", ["-p", home(who)]);
    const before = lio.logLines();
    const a = side(who, agent);
    const env = lio.env({ HOME: home(who), ...a.env });
    delete (env as Record<string, string | undefined>).TSSTOR_CONFIGFS_ROOT; // /sys/kernel/config in there
    const r = runAgent(a.bin, action, { params: { implementation: "lio-t", ...params }, instance, env, wrap: ["nsenter", "-t", String(holder.pid), "-m", "--", ...a.wrap], meta: { timeout: 20000 } });
    return { ...r, targetcli: lio.calls(before) };
  };
  const tpg = (iqn: string) => join(lio.target, "iscsi", iqn, "tpgt_1");
  for (const who of ["heartbeat", "tsstor"] as const) {
    const iqn = `iqn.2026-01.org.tsstor.test:lio-${who}`;
    const s = go(who, "iSCSITarget", "start", { iqn }, "p_t");
    t.equal(s.code, 0, `${who} start: ${s.stderr}`);
    const portals = readdirSync(join(tpg(iqn), "np"));
    const prefs = join(home(who), ".targetcli", "prefs.bin");
    if (who === "heartbeat") {
      t.same(portals, [], "upstream: the default portal 0.0.0.0:3260 is never created (#1026): nobody can connect");
      t.match(readFileSync(prefs, "utf8"), /"auto_add_default_portal":false/, "upstream: the operator's global targetcli preference was changed");
      t.equal(s.targetcli.length, 3, "upstream: 3 targetcli processes for a demo-mode target");
    } else {
      t.same(portals, ["0.0.0.0:3260"], "ours: the default portal exists");
      t.notOk(existsSync(prefs), "ours: ~/.targetcli untouched");
      t.equal(s.targetcli.length, 1, "ours: one targetcli process");
    }
    // CHAP with ACLs: where does the secret go?
    const acl = { iqn: `${iqn}-acl`, allowed_initiators: I1, incoming_username: "alice", incoming_password: SECRET };
    const a = go(who, "iSCSITarget", "start", acl, "p_a");
    t.equal(a.code, 0, `${who} ACL start: ${a.stderr}`);
    const argvs = a.targetcli.map((x) => x.join(" ")).join("\n");
    if (who === "heartbeat") t.match(argvs, SECRET, `upstream: the CHAP secret in targetcli's argv (${a.targetcli.length} processes)`);
    else t.notMatch(argvs, SECRET, "ours: never in an argv");
    t.equal(readFileSync(join(tpg(`${iqn}-acl`), "acls", I1, "auth", "password"), "utf8").trim(), SECRET, `${who}: the ACL has the secret`);
    // LU whose path vanishes before stop (#1316)
    const img = join(lio.dir, `${who}.img`);
    writeFileSync(img, "");
    spawnSync("truncate", ["-s", "16M", img]);
    const lp = { target_iqn: iqn, lun: "1", path: img, liot_bstype: "fileio" };
    t.equal(go(who, "iSCSILogicalUnit", "start", lp, `p_l${who}`).code, 0);
    rmSync(img);
    const m = go(who, "iSCSILogicalUnit", "monitor", lp, `p_l${who}`);
    const st = go(who, "iSCSILogicalUnit", "stop", lp, `p_l${who}`);
    t.equal(st.code, 0);
    const left = readdirSync(join(lio.target, "core")).filter((h) => existsSync(join(lio.target, "core", h, `p_l${who}`)));
    if (who === "heartbeat") {
      t.equal(m.code, 7, "upstream: a vanished path is 'not running'");
      t.equal(left.length, 1, "upstream: stop returns 0 and leaves the backstore (#1316)");
    } else {
      t.equal(m.code, 1, "ours: a failure, with a reason");
      t.same(left, [], "ours: stop removed it");
    }
    go(who, "iSCSITarget", "stop", acl, "p_a");
    go(who, "iSCSITarget", "stop", { iqn }, "p_t");
  }
});
