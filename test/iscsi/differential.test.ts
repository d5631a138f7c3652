// Differential: ocf:heartbeat:iSCSITarget/iSCSILogicalUnit and ours, implementation=tgt, the same
// scenarios against the same real tgtd. Same exit codes and the same tgtd state where upstream is
// right; where upstream is wrong the difference is asserted and named.
import t from "tap";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { agentPath, ocfEnv, runAgent, type AgentRun } from "../lib/harness.js";
import { parseTargets, type TgtTarget } from "../../lib/tgtadm.js";
import { TgtRig } from "./rig.js";

const rig = new TgtRig("d");
t.teardown(() => rig.destroy());
const HB = "/usr/lib/ocf/resource.d/heartbeat";
const I1 = "iqn.1993-08.org.debian:01:tsi-diff";
const SECRET = "Diff-s3cret-pw";

type Who = "heartbeat" | "tsstor";
const bin = (who: Who, agent: string) => (who === "heartbeat" ? `${HB}/${agent}` : agentPath(agent));
const run = (who: Who, agent: string, action: string, params: Record<string, string>, instance: string, meta: Record<string, number> = {}): AgentRun =>
  runAgent(bin(who, agent), action, { params: { implementation: "tgt", ...params }, instance, env: rig.env(), meta: { timeout: 20000, ...meta } });

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
    const env = ocfEnv("iSCSITarget", { params, instance: "p_c", env: rig.env(), meta: { timeout: 20000 } });
    const r = spawnSync("strace", ["-f", "-qq", "-e", "trace=execve", "-s", "4096", "-o", trace, bin(who, "iSCSITarget"), "start"], { env, encoding: "utf8" });
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
