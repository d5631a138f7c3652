// iSCSITarget / iSCSILogicalUnit: ours vs ocf:heartbeat, side by side in one run.
//
// tgt: a real tgtd in network namespace tsibench (its control socket in bench/tmp), both agents
//   driving it with implementation=tgt.
// lio-t: the configfs emulation and the fake targetcli (this kernel has no LIO). The upstream
//   agent hard-codes /sys/kernel/config, so both sides run inside a private mount namespace where
//   the emulation is bind-mounted there (`nsenter` into it costs both sides the same).
// targetcli processes per action are counted from the fake's argv log.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, TMP, compare, ocfEnv, once, save, type Cmd, type Row } from "./lib.js";
import { defaultSerial } from "../lib/iscsi/syntax.js";

const OURS = (a: string) => join(ROOT, "build/agents", a);
const UP = (a: string) => `/usr/lib/ocf/resource.d/heartbeat/${a}`;
const NS = "tsibench";
const DIR = join(TMP, "iscsi");
const SOCK = join(DIR, "tgtd");
const RSC = join(DIR, "rsc");
const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const run = (cmd: string, args: string[], env: Record<string, string> = {}) => spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env } });
const tgtadm = (...a: string[]) => run("tgtadm", ["--lld", "iscsi", ...a], { TGT_IPC_SOCKET: SOCK });

rmSync(DIR, { recursive: true, force: true });
mkdirSync(RSC, { recursive: true });
run("ip", ["netns", "del", NS]);
run("ip", ["netns", "add", NS]);
run("ip", ["-n", NS, "link", "set", "lo", "up"]);
run("ip", ["-n", NS, "addr", "add", "10.231.99.1/32", "dev", "lo"]);
const tgtd = spawn("ip", ["netns", "exec", NS, "tgtd", "-f", "--iscsi", "portal=10.231.99.1:3260"], { env: { ...process.env, TGT_IPC_SOCKET: SOCK }, stdio: "ignore", detached: true });
tgtd.unref();
for (let i = 0; i < 100 && !existsSync(`${SOCK}.0`); i++) sleep(50);
sleep(200);

// the lio-t side: emulation root, fake targetcli, a mount namespace showing it at /sys/kernel/config
const EMU = join(DIR, "configfs");
const BIN = join(DIR, "bin");
const LOG = join(DIR, "argv.log");
mkdirSync(EMU, { recursive: true });
mkdirSync(BIN, { recursive: true });
symlinkSync(join(ROOT, "build/test/fakes/tsstor-fakes"), join(BIN, "targetcli"));
const holder = spawn("unshare", ["-m", "--propagation", "private", "sh", "-c", `mount -t tmpfs tmpfs /sys/kernel && mkdir /sys/kernel/config && mount --bind ${EMU} /sys/kernel/config && exec sleep 100000`], { stdio: "ignore", detached: true });
holder.unref();
sleep(500);
const inMnt = (argv: string[]) => ["nsenter", "-t", String(holder.pid), "-m", "--", ...argv];

try {
  const rows: Row[] = [];
  const notes: string[] = [];
  const tgtEnv = (extra: Record<string, string> = {}) => ({ HA_RSCTMP: RSC, TGT_IPC_SOCKET: SOCK, ...extra });
  const cmd = (bin: string, agent: string, action: string, params: Record<string, string>, extra: Record<string, string> = {}): Cmd => ({
    argv: [bin, action],
    env: ocfEnv(agent, { implementation: "tgt", ...params }, tgtEnv(extra)),
  });
  const rec = { OCF_RESKEY_CRM_meta_interval: "10000" };

  // ---- tgt -----------------------------------------------------------------------------------
  rows.push(compare("iSCSITarget", "meta-data", "", { argv: [UP("iSCSITarget"), "meta-data"], env: ocfEnv("iSCSITarget", {}) }, { argv: [OURS("iSCSITarget"), "meta-data"], env: ocfEnv("iSCSITarget", {}) }, { goal: 1 }));
  const absent = { iqn: "iqn.2026-01.org.tsstor.bench:absent", tid: "90" };
  rows.push(compare("iSCSITarget", "monitor", "tgt, probe, target absent", cmd(UP("iSCSITarget"), "iSCSITarget", "monitor", absent), cmd(OURS("iSCSITarget"), "iSCSITarget", "monitor", absent), { goal: 0.3 }));

  // each side its own running target + LU (upstream needs a tid; ours takes the same one)
  const side = (who: "up" | "ours", tid: string) => ({
    t: { iqn: `iqn.2026-01.org.tsstor.bench:${who}`, tid, allowed_initiators: "iqn.1993-08.org.debian:01:bench", incoming_username: `u${who}`, incoming_password: "bench-secret-1" },
    l: { target_iqn: `iqn.2026-01.org.tsstor.bench:${who}`, lun: "1", path: join(DIR, `${who}.img`), scsi_sn: `sn${who}` },
  });
  const S = { up: side("up", "1"), ours: side("ours", "2") };
  for (const who of ["up", "ours"] as const) {
    writeFileSync(S[who].l.path, "");
    run("truncate", ["-s", "64M", S[who].l.path]);
    const b = who === "up" ? UP : OURS;
    once(cmd(b("iSCSITarget"), "iSCSITarget", "start", S[who].t));
    once({ ...cmd(b("iSCSILogicalUnit"), "iSCSILogicalUnit", "start", S[who].l), env: ocfEnv("iSCSILogicalUnit", { implementation: "tgt", ...S[who].l }, tgtEnv({ OCF_RESOURCE_INSTANCE: `p_${who}` })) });
  }
  const lu = (who: "up" | "ours", action: string, extra: Record<string, string> = {}): Cmd => ({
    argv: [(who === "up" ? UP : OURS)("iSCSILogicalUnit"), action],
    env: ocfEnv("iSCSILogicalUnit", { implementation: "tgt", ...S[who].l }, tgtEnv({ OCF_RESOURCE_INSTANCE: `p_${who}`, ...extra })),
  });
  rows.push(compare("iSCSITarget", "monitor", "tgt, recurring, running (ACL + CHAP)", cmd(UP("iSCSITarget"), "iSCSITarget", "monitor", S.up.t, rec), cmd(OURS("iSCSITarget"), "iSCSITarget", "monitor", S.ours.t, rec), { goal: 0.3 }));
  rows.push(compare("iSCSILogicalUnit", "monitor", "tgt, recurring, running", lu("up", "monitor", rec), lu("ours", "monitor", rec), { goal: 0.3 }));
  // start/stop cycles: prepare puts each side back in the other state
  const cycle = (who: "up" | "ours", action: "start" | "stop") => ({ ...lu(who, action) });
  for (const action of ["start", "stop"] as const) {
    const other = action === "start" ? "stop" : "start";
    const up = compare("iSCSILogicalUnit", action, "tgt (cycled)", undefined, cycle("up", action), { prepare: cycle("up", other), runs: 15, warmup: 2 });
    const ours = compare("iSCSILogicalUnit", action, "tgt (cycled)", undefined, cycle("ours", action), { prepare: cycle("ours", other), runs: 15, warmup: 2 });
    rows.push({ agent: "iSCSILogicalUnit", action, scenario: "tgt, start/stop cycle", upstream: up.ours, ours: ours.ours, ratio: Math.round((ours.ours.median_ms / up.ours.median_ms) * 1000) / 1000, goal: 0.5 });
  }
  once(lu("up", "start"));
  once(lu("ours", "start"));

  // 256 logical units on one target: each monitor should read only its own
  const big = { iqn: "iqn.2026-01.org.tsstor.bench:big", tid: "3" };
  tgtadm("--op", "new", "--mode", "target", "--tid", "3", "-T", big.iqn);
  tgtadm("--op", "bind", "--mode", "target", "--tid", "3", "-I", "ALL");
  for (let l = 1; l <= 256; l++) {
    const f = join(DIR, `big${l}.img`);
    writeFileSync(f, "");
    run("truncate", ["-s", "1M", f]);
    tgtadm("--op", "new", "--mode", "logicalunit", "--tid", "3", "--lun", String(l), "-b", f);
    tgtadm("--op", "update", "--mode", "logicalunit", "--tid", "3", "--lun", String(l), "--params", `scsi_sn=big${l},scsi_id=big${l}`);
  }
  const bigLu = (bin: string, l: number): Cmd => ({
    argv: [bin, "monitor"],
    env: ocfEnv("iSCSILogicalUnit", { implementation: "tgt", target_iqn: big.iqn, lun: String(l), path: join(DIR, `big${l}.img`), scsi_sn: `big${l}`, scsi_id: `big${l}` }, tgtEnv({ ...rec, OCF_RESOURCE_INSTANCE: `big${l}` })),
  });
  rows.push(compare("iSCSILogicalUnit", "monitor", "tgt, 256 LUs on the target, LUN 256", bigLu(UP("iSCSILogicalUnit"), 256), bigLu(OURS("iSCSILogicalUnit"), 256), { goal: 0.3 }));
  notes.push("tgt, 256 LUs: made with tgtadm (serial and SCSI id as the monitor expects); both sides read one show of all 257 LUNs.");

  // ---- lio-t (emulation) --------------------------------------------------------------------
  const lioEnv = (extra: Record<string, string> = {}) => ({ PATH: `${BIN}:/usr/sbin:/usr/bin:/sbin:/bin`, HA_RSCTMP: RSC, HOME: DIR, TSSTOR_FAKE_LOG: LOG, ...extra });
  const lcmd = (bin: string, agent: string, action: string, params: Record<string, string>, extra: Record<string, string> = {}): Cmd => ({
    argv: inMnt([bin, action]),
    env: ocfEnv(agent, { implementation: "lio-t", ...params }, lioEnv(extra)),
  });
  const count = (c: Cmd): { code: number; targetcli: number } => {
    const before = existsSync(LOG) ? readFileSync(LOG, "utf8").split("\n").filter(Boolean).length : 0;
    const code = once(c);
    const lines = existsSync(LOG) ? readFileSync(LOG, "utf8").split("\n").filter(Boolean).slice(before) : [];
    return { code, targetcli: lines.filter((l) => JSON.parse(l).tool === "targetcli").length };
  };
  const L = (who: "up" | "ours") => ({
    t: { iqn: `iqn.2026-01.org.tsstor.bench:lio-${who}` },
    l: { target_iqn: `iqn.2026-01.org.tsstor.bench:lio-${who}`, lun: "1", path: join(DIR, `lio-${who}.img`), liot_bstype: "fileio" },
  });
  const procRows: Array<Record<string, unknown>> = [];
  const must = (what: string, r: { code: number; targetcli: number }) => {
    if (r.code !== 0) console.log(`WARNING: ${what} exited ${r.code}`);
    return r.targetcli;
  };
  for (const who of ["up", "ours"] as const) {
    const b = who === "up" ? UP : OURS;
    writeFileSync(L(who).l.path, "");
    run("truncate", ["-s", "64M", L(who).l.path]);
    const luc = (a: string) => count(lcmd(b("iSCSILogicalUnit"), "iSCSILogicalUnit", a, L(who).l, { OCF_RESOURCE_INSTANCE: `lio_${who}` }));
    const acl = { iqn: `${L(who).t.iqn}-acl`, allowed_initiators: "iqn.1993-08.org.debian:01:a iqn.1993-08.org.debian:01:b", incoming_username: `u${who}`, incoming_password: "bench-secret-1" };
    const row: Record<string, unknown> = { who };
    row["target start (demo, default portal)"] = must(`${who} target start`, count(lcmd(b("iSCSITarget"), "iSCSITarget", "start", L(who).t)));
    row["LU start"] = must(`${who} LU start`, luc("start"));
    row["LU stop"] = must(`${who} LU stop`, luc("stop"));
    row["LU start again"] = must(`${who} LU start`, luc("start"));
    row["target start (2 ACLs + CHAP)"] = must(`${who} ACL target start`, count(lcmd(b("iSCSITarget"), "iSCSITarget", "start", acl)));
    row["target stop"] = must(`${who} ACL target stop`, count(lcmd(b("iSCSITarget"), "iSCSITarget", "stop", acl)));
    procRows.push(row);
  }
  for (const r of procRows) console.log(`targetcli processes (${r.who}): ${JSON.stringify(r)}`);
  notes.push(`lio-t targetcli processes per action (fake's argv log): ${JSON.stringify(procRows)}`);
  const fix = (r: Row) => {
    // nsenter is one more execve on both sides
    for (const m of [r.upstream, r.ours]) if (m?.processes !== undefined) m.processes = Math.max(0, m.processes - 1);
    return r;
  };
  rows.push(fix(compare("iSCSITarget", "monitor", "lio-t, recurring, running", lcmd(UP("iSCSITarget"), "iSCSITarget", "monitor", L("up").t, rec), lcmd(OURS("iSCSITarget"), "iSCSITarget", "monitor", L("ours").t, rec), { goal: 0.3 })));
  rows.push(fix(compare("iSCSILogicalUnit", "monitor", "lio-t, recurring, running", lcmd(UP("iSCSILogicalUnit"), "iSCSILogicalUnit", "monitor", L("up").l, { ...rec, OCF_RESOURCE_INSTANCE: "lio_up" }), lcmd(OURS("iSCSILogicalUnit"), "iSCSILogicalUnit", "monitor", L("ours").l, { ...rec, OCF_RESOURCE_INSTANCE: "lio_ours" }), { goal: 0.3 })));
  for (const [action, other] of [["start", "stop"], ["stop", "start"]] as const) {
    const m = (who: "up" | "ours") => {
      const b = who === "up" ? UP : OURS;
      const c = (a: string) => lcmd(b("iSCSILogicalUnit"), "iSCSILogicalUnit", a, L(who).l, { OCF_RESOURCE_INSTANCE: `lio_${who}` });
      return compare("iSCSILogicalUnit", action, "lio-t", undefined, c(action), { prepare: c(other), runs: 10, warmup: 1 }).ours;
    };
    const up = m("up");
    const ours = m("ours");
    rows.push(fix({ agent: "iSCSILogicalUnit", action, scenario: "lio-t (fake targetcli), start/stop cycle", upstream: up, ours, ratio: Math.round((ours.median_ms / up.median_ms) * 1000) / 1000 }));
  }

  // 256 LUs on one LIO target: created by one administrator batch
  const bigIqn = "iqn.2026-01.org.tsstor.bench:lio-big";
  const batch = [`/iscsi create ${bigIqn}`];
  for (let l = 0; l < 256; l++) {
    const f = join(DIR, `lbig${l}.img`);
    writeFileSync(f, "");
    run("truncate", ["-s", "1M", f]);
    batch.push(`/backstores/fileio create name=lbig${l} file_or_dev=${f} wwn=${defaultSerial(`lbig${l}`)}`, `/iscsi/${bigIqn}/tpg1/luns create /backstores/fileio/lbig${l} ${l}`);
  }
  batch.push("set global auto_save_on_exit=false");
  spawnSync(inMnt([join(BIN, "targetcli")])[0]!, inMnt([join(BIN, "targetcli")]).slice(1), { input: `${batch.join("\n")}\n`, env: { ...process.env, HOME: join(DIR, "admin"), TARGETCLI_HOME: join(DIR, "admin") } });
  const lbig = (bin: string, l: number): Cmd =>
    lcmd(bin, "iSCSILogicalUnit", "monitor", { target_iqn: bigIqn, lun: String(l), path: join(DIR, `lbig${l}.img`), liot_bstype: "fileio" }, { ...rec, OCF_RESOURCE_INSTANCE: `lbig${l}` });
  rows.push(fix(compare("iSCSILogicalUnit", "monitor", "lio-t, 256 LUs on the target, LUN 0", lbig(UP("iSCSILogicalUnit"), 0), lbig(OURS("iSCSILogicalUnit"), 0), { goal: 0.3 })));
  rows.push(fix(compare("iSCSILogicalUnit", "monitor", "lio-t, 256 LUs on the target, LUN 255", lbig(UP("iSCSILogicalUnit"), 255), lbig(OURS("iSCSILogicalUnit"), 255), { goal: 0.3 })));
  notes.push("lio-t rows run both agents inside a private mount namespace (nsenter) where the configfs emulation is bind-mounted on /sys/kernel/config; the fake targetcli stands for targetcli-fb 2.1.53 (a compiled Bun binary, much faster than the Python original: start/stop timings understate targetcli's real cost, which our one-process batches avoid most).");
  notes.push("lio-t, 256 LUs: made by one administrator batch with the serials the monitor expects; ours reads its LUN link and its backstore's files only.");
  save("iscsi", rows, [`tgt: real tgtd 1.0.85 in network namespace ${NS}; implementation=tgt on both sides.`, ...notes]);
} finally {
  try {
    process.kill(tgtd.pid!, "SIGKILL");
  } catch {
    /* gone */
  }
  try {
    process.kill(holder.pid!, "SIGKILL");
  } catch {
    /* gone */
  }
  run("ip", ["netns", "del", NS]);
  rmSync(DIR, { recursive: true, force: true });
}
