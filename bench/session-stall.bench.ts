// The I/O stall a real, persistent iSCSI session sees across a failover, on the 2-node rig with
// fencing: one qemu-io (libiscsi) session through the VIP writes a small durable block every
// ~50 ms (test/rig/session-writer.ts) while the active node is hard-killed, its cluster link is
// cut (one node fenced), or the stack is moved on purpose (crm_resource --move, then --clear).
// Per run: the longest gap between two acknowledged writes (the stall), I/O errors, TCP
// connections (sessions: 1 = never reconnected), and every acknowledged block read back.
// Same stack, same rig, side by side: upstream heartbeat agents vs ours; DRBD (simulator) with
// ours, as in failover.bench.ts. tcpdump in the client namespace splits every stall into the
// cluster's part (fault -> VIP on the survivor) and the client's (VIP up -> its TCP reaches
// the survivor -> re-login -> first acknowledged write).
//
//   node_modules/@oven/bun-linux-x64-baseline/bin/bun bench/session-stall.bench.ts
//   SESSION_STALL_RUNS=3                 runs per scenario and side
//   SESSION_STALL_LIBISCSI_TIMEOUT=0     libiscsi command timeout (s) of the measured client; 0 = none
//   SESSION_STALL_COMPARE_TIMEOUT=1      also: ours, hard kill, with qemu's timeout=5 (IscsiSession's)
//   SESSION_STALL_DRBD=1                 also: ours over the DRBD simulator
//   SESSION_STALL_UPSTREAM=1             also: the upstream agents
//   SESSION_STALL_PARTITION=lose         the partition's fence race: "lose" = the node serving the
//                                        target loses it (pcmk_delay_base delays fencing of the
//                                        other node by 5 s), so the stack must move; "race" = as it falls
import { startRig, type Rig } from "../test/rig/rig.js";
import { backingFile, rigIscsiOptions, waitDeployed, type Deployed } from "../test/rig/iscsi.js";
import { iscsiStack, type Plan } from "../cli/stacks.js";
import { withStandIns, builtAgents, planAgents } from "../test/stack/agents.js";
import { drbdSimAvailable, rigDrbd, type RigDrbd } from "../test/rig/drbd.js";
import { installAgents } from "../test/lib/install.js";
import { sleep } from "../test/rig/exec.js";
import { PacketTrace, SocketSampler, StallWriter, VipWatch, longestGap, summarizeWire, verifyBlocks, SMALL_BLOCK, type WireSummary } from "../test/rig/session-writer.js";
import { RESULTS, save, stats, TMP, type Measure, type Row } from "./lib.js";
import { mkdirSync, mkdtempSync, chmodSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const RUNS = Number(process.env.SESSION_STALL_RUNS ?? 3);
const TIMEOUT_S = Number(process.env.SESSION_STALL_LIBISCSI_TIMEOUT ?? 0);
const COMPARE_TIMEOUT = process.env.SESSION_STALL_COMPARE_TIMEOUT !== "0";
const WITH_DRBD = process.env.SESSION_STALL_DRBD !== "0";
const WITH_UPSTREAM = process.env.SESSION_STALL_UPSTREAM !== "0";
/** lose: the node serving the target loses the fence race (fencing of the other node delayed 5 s); race: as it falls */
const PARTITION = process.env.SESSION_STALL_PARTITION === "race" ? "race" : "lose";
/** the session's age at the fault: longer than the VIP's monitor interval (10 s), as any session an initiator keeps */
const HOLD_MS = Number(process.env.SESSION_STALL_HOLD_MS ?? 11_000);
/** the application's patience for one write: open-iscsi's replacement_timeout */
const ANSWER_MS = 120_000;
/** acknowledged writes to see after the fault resolved before the run ends (~2 s) */
const AFTER_ACKS = 40;

type Scenario = "kill" | "partition" | "move";
const SCENARIOS: Scenario[] = ["kill", "partition", "move"];
const TITLE: Record<Scenario, string> = { kill: "hard kill of the active node", partition: PARTITION === "lose" ? "cluster-link partition, the serving node loses the fence race" : "cluster-link partition (fenced, the race as it falls)", move: "planned move (crm_resource --move, then --clear)" };

interface Episode {
  scenario: Scenario;
  run: number;
  timeoutS: number;
  from: string;
  /** node serving afterwards */
  to: string;
  stallMs: number;
  /** the stall's edges, ms from the fault */
  stallFrom: number;
  stallTo: number;
  writes: number;
  acked: number;
  errors: number;
  errorLines: string[];
  /** TCP connections to the portal that the target accepted (1 = one session throughout) */
  connections: number;
  processes: number;
  lost: number;
  /** fault -> VIP held by the serving node alone (cluster: detection, fencing, stops, starts) */
  vipMs?: number;
  /** fault -> the fence device reports the node off (kill, partition) */
  fencedMs?: number;
  /** move: --move -> the VIP gone from the old node (the stops) */
  vipGoneMs?: number;
  activeSurvived?: boolean;
  /** the node that failed was the DC (the survivor first elects itself) */
  dcFailed?: boolean;
  movedBack?: boolean;
  /** move: what --clear did when it sent the stack back (ms from the --clear) */
  back?: { stallMs: number; stallTo: number; vipMs?: number; wire: WireSummary };
  wire: WireSummary;
  qemu: string[];
  ssLines?: string[];
}

interface Series {
  label: string;
  episodes: Episode[];
  replaced: string[];
}

const nodeCmd = (rig: Rig, args: string[], timeoutMs = 90_000) => rig.anyUp().run(args[0]!, args.slice(1), { timeoutMs });

/** No pending actions in the cluster (crm_resource --wait). */
async function settle(rig: Rig): Promise<void> {
  await nodeCmd(rig, ["crm_resource", "--wait", "--timeout=90s"], 100_000);
}

/** The returning node's DRBD in sync again (its promotion score back at 10000), as failover.bench.ts. */
async function drbdSynced(rig: Rig, node: string): Promise<void> {
  for (let k = 0; k < 600; k++) {
    const sc = await rig.node(node).run("crm_attribute", ["-N", node, "-n", "master-iscsi-drbd", "-l", "reboot", "-G", "-q"]);
    if (sc.stdout.trim() === "10000") return;
    await sleep(100);
  }
}

async function waitUntil(what: string, fn: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

class Bench {
  nextBlock = 0;
  constructor(
    readonly rig: Rig,
    readonly plan: Plan,
    readonly label: string,
    readonly drbd: RigDrbd | undefined,
  ) {}

  async episode(scenario: Scenario, run: number, o: { timeoutS: number; ss: boolean }): Promise<Episode> {
    const { rig, drbd, plan } = this;
    const d: Deployed = await waitDeployed(rig, plan);
    await settle(rig);
    const other = rig.nodes.find((n) => n.name !== d.active)!.name;
    if (scenario === "partition" && PARTITION === "lose") {
      // the active node's request to fence the other waits 5 s: the other fences it first
      const r = await nodeCmd(rig, ["crm_resource", "-r", "rig-fence", "--set-parameter", "pcmk_delay_base", "--parameter-value", `${d.active}:0s;${other}:5s`]);
      if (r.code !== 0) throw new Error(`pcmk_delay_base: ${r.out}`);
      await sleep(500);
      await settle(rig);
    }
    const dc = (await rig.status()).dc;
    const trace = new PacketTrace(rig);
    await trace.ready();
    const vw = new VipWatch(rig, d.vip, 100);
    const w = new StallWriter(rig, d.vip, d.lun, { firstBlock: this.nextBlock, timeoutS: o.timeoutS, answerMs: ANSWER_MS });
    const tw = Date.now();
    w.start();
    const stopAll = async () => {
      await w.stop();
      await ss?.stop();
      await vw.stop();
      await trace.stop();
    };
    let ss: SocketSampler | undefined;
    try {
      await waitUntil("20 acknowledged writes before the fault", () => w.ackedAfter(tw) >= 20, 30_000);
      // a persistent session is older than the VIP's monitor interval: one monitor has seen it
      await sleep(HOLD_MS);
      if (o.ss) ss = new SocketSampler(rig, d.vip, 100);
      await sleep(200);
      const before = rig.fenceEvents().length;
      let t0 = Date.now();
      let to = other;
      let fencedMs: number | undefined;
      let down: string | undefined;
      let movedBack: boolean | undefined;
      let tc = 0;
      let resolved: number; // when the serving node holds the VIP (or the fault is over)
      if (scenario === "kill") {
        t0 = await rig.hardKill(d.active);
        drbd?.crash(d.active);
        down = d.active;
        await waitUntil(`the VIP on ${other}`, () => vw.heldBy(other, t0) !== undefined, 120_000);
        resolved = vw.heldBy(other, t0)!;
        // on the fenced rig the survivor fences the dead node before it starts anything
        const off = rig.fenceEvents().slice(before).find((e) => e.ok && e.plug === d.active && (e.action === "off" || e.action === "reboot"));
        if (off) fencedMs = off.at - t0;
      } else if (scenario === "partition") {
        rig.cut(d.active);
        drbd?.sim.ctl("cut", "n1", "n2");
        let off: ReturnType<Rig["fenceEvents"]>[number] | undefined;
        await waitUntil("a node fenced", () => !!(off = rig.fenceEvents().slice(before).find((e) => e.ok && (e.action === "off" || e.action === "reboot"))), 120_000);
        fencedMs = off!.at - t0;
        rig.heal();
        drbd?.sim.ctl("heal", "n1", "n2");
        down = off!.plug;
        to = rig.nodes.find((n) => n.name !== down)!.name;
        await waitUntil(`the VIP on ${to}`, () => vw.heldBy(to, t0) !== undefined || (to === d.active && vw.changes.every((c) => c.at < t0 || c.holders.includes(to))), 120_000);
        // the active node survived the race: nothing moves; wait until the survivor's scheduler is done
        if (to === d.active) await settle(rig);
        resolved = vw.heldBy(to, t0) ?? Date.now();
      } else {
        const id = drbd ? `${plan.resources[0]}` : plan.resources.find((r) => r.endsWith("-target"))!;
        const promoted = drbd ? ["--promoted"] : [];
        const r = await nodeCmd(rig, ["crm_resource", "--move", "-r", id, "-N", other, ...promoted]);
        if (r.code !== 0) throw new Error(`crm_resource --move ${id}: ${r.out}`);
        await waitUntil(`the VIP on ${other}`, () => vw.heldBy(other, t0) !== undefined, 120_000);
        resolved = vw.heldBy(other, t0)!;
        await settle(rig);
        // the client back at work on the new node before the operator clears the constraint, so
        // a move back is a second outage of its own
        await waitUntil("10 acknowledged writes after the move", () => w.ackedAfter(resolved) >= 10, 150_000);
        const c = await nodeCmd(rig, ["crm_resource", "--clear", "-r", id, ...promoted]);
        if (c.code !== 0) throw new Error(`crm_resource --clear ${id}: ${c.out}`);
        tc = Date.now();
        await sleep(500);
        await settle(rig);
        // did clearing the constraint send the stack back (no resource-stickiness on the rig)?
        movedBack = vw.changes.some((ch) => ch.at >= tc);
        if (movedBack) {
          await waitUntil(`the VIP back on ${d.active}`, () => vw.heldBy(d.active, tc) !== undefined, 120_000);
          resolved = vw.heldBy(d.active, tc)!;
        }
      }
      await waitUntil(`${AFTER_ACKS} acknowledged writes after the fault`, () => w.ackedAfter(Math.max(resolved, t0)) >= AFTER_ACKS, 150_000);
      await stopAll();
      // a move sent back by --clear is two outages: the move's, and the one after tc
      // (the client had recovered before tc: no gap spans it)
      const gap = longestGap(tc ? w.records.filter((x) => x.doneAt <= tc) : w.records);
      const gapBack = movedBack ? longestGap(w.records.filter((x) => x.doneAt >= tc || x === w.records.filter((y) => y.ok && y.doneAt < tc).at(-1))) : undefined;
      const acked = w.records.filter((x) => x.ok);
      const errs = w.records.filter((x) => !x.ok);
      this.nextBlock = Math.max(this.nextBlock, ...w.records.map((x) => x.block + 1));
      const v = await verifyBlocks(rig, d.vip, d.lun, acked.map((x) => ({ block: x.block, pattern: x.pattern })), SMALL_BLOCK);
      const wire = summarizeWire(trace.packets, d.vip, t0, to !== d.active ? rig.mac(to) : undefined);
      const ep: Episode = {
        scenario,
        run,
        timeoutS: o.timeoutS,
        from: d.active,
        to,
        stallMs: gap.ms,
        stallFrom: gap.from - t0,
        stallTo: gap.to - t0,
        writes: w.records.length,
        acked: acked.length,
        errors: errs.length,
        errorLines: [...new Set(errs.map((x) => `${x.error}`))].slice(0, 5),
        connections: wire.newConnections,
        processes: w.processes,
        lost: v.bad.length,
        ...(to !== d.active ? { vipMs: (scenario === "move" ? vw.heldBy(to, t0)! : resolved) - t0 } : {}),
        ...(fencedMs !== undefined ? { fencedMs } : {}),
        ...(scenario === "partition" ? { activeSurvived: to === d.active } : {}),
        ...(scenario !== "move" ? { dcFailed: dc === (down ?? "?") } : {}),
        ...(scenario === "move" && vw.gone(t0) !== undefined ? { vipGoneMs: vw.gone(t0)! - t0 } : {}),
        ...(movedBack !== undefined ? { movedBack } : {}),
        ...(gapBack ? { back: { stallMs: gapBack.ms, stallTo: gapBack.to - tc, vipMs: resolved - tc, wire: summarizeWire(trace.packets, d.vip, tc, rig.mac(d.active)) } } : {}),
        wire,
        qemu: w.messages.map((m) => `${m.at - t0} ms: ${m.line}`).slice(0, 20),
        ...(ss ? { ssLines: ss.condensed(t0) } : {}),
      };
      if (o.ss) ep.ssLines!.push(...wireTimeline(trace, d.vip, t0, rig, vw));
      if (v.bad.length) console.log(`${this.label}: LOST acknowledged blocks ${v.bad.slice(0, 20).join(",")} ${v.out}`);
      console.log(line(this.label, ep));
      // the downed node boots again; the stack settles (and DRBD resyncs) before the next fault
      if (down) {
        if (rig.node(down).up) throw new Error(`${this.label}: ${down} still up`);
        drbd?.boot(down);
        await rig.restart(down);
        await rig.waitResource(plan.resources[plan.resources.length - 1]!, { on: down });
        if (drbd) await drbdSynced(rig, down);
      }
      if (scenario === "partition" && PARTITION === "lose") {
        await nodeCmd(rig, ["crm_resource", "-r", "rig-fence", "--delete-parameter", "pcmk_delay_base"]);
        await sleep(500);
      }
      await settle(rig);
      return ep;
    } catch (e) {
      await stopAll();
      throw e;
    }
  }
}

/**
 * The wire around the fault, for the packet-level explanation: every retransmission, SYN, RST,
 * FIN and ARP for the VIP; plain data only just before the fault and just after the recovery,
 * consecutive segments of one direction summed into one line.
 */
function wireTimeline(trace: PacketTrace, vip: string, t0: number, rig: Rig, vw: VipWatch): string[] {
  const names = new Map(rig.nodes.map((n) => [rig.mac(n.name), n.name]));
  const cmac = rig.client(0).runSync("ip", ["-br", "link", "show", "eth0"]).stdout.trim().split(/\s+/)[2]?.toLowerCase();
  if (cmac) names.set(cmac, "client");
  const recover = trace.packets.find((p) => p.at > t0 && p.kind === "tcp" && /[SR]/.test(p.flags))?.at ?? Infinity;
  const shown = (at: number) => (at >= t0 - 300 && at <= t0 + 100) || (at >= recover && at <= recover + 300);
  const ev: Array<{ at: number; what: string }> = [];
  const seen = new Set<string>();
  let burst: { at: number; key: string; segs: number[] } | undefined;
  const flush = () => {
    if (burst) ev.push({ at: burst.at, what: `${burst.key}: ${burst.segs.length} segment(s), ${burst.segs.join("+")} B` });
    burst = undefined;
  };
  for (const p of trace.packets) {
    const retr = !!p.seq && seen.has(`${p.src} ${p.seq}`);
    if (p.seq) seen.add(`${p.src} ${p.seq}`);
    if (p.at < t0 - 300 || p.at > t0 + 120_000) continue;
    const who = names.get(p.srcMac) ?? p.srcMac;
    if (p.kind === "arp") {
      if (p.line.includes(vip)) ev.push({ at: p.at, what: `ARP from ${who}: ${p.line.replace(/, length \d+$/, "")}` });
      continue;
    }
    const toVip = p.dst.startsWith(`${vip}.3260`);
    const dstMac = p.line.split(" ")[3]?.replace(/,$/, "") ?? "";
    const dir = toVip ? `client -> ${vip} (MAC of ${names.get(dstMac) ?? dstMac})` : `${who} -> client`;
    if (!/[SRF]/.test(p.flags) && !retr) {
      if (!shown(p.at) || p.len === 0) continue;
      if (burst?.key !== `${dir} data`) {
        flush();
        burst = { at: p.at, key: `${dir} data`, segs: [] };
      }
      burst.segs.push(p.len);
      continue;
    }
    flush();
    ev.push({ at: p.at, what: `${dir} [${p.flags}]${retr ? " RETRANSMISSION" : ""}, ${p.len} B` });
  }
  flush();
  for (const c of vw.changes.filter((x) => x.at >= t0)) ev.push({ at: c.at, what: `(host view, 100 ms polls) VIP held by: ${c.holders.join(",") || "nobody"}` });
  ev.sort((a, b) => a.at - b.at);
  return ["", "wire (tcpdump in the client namespace; ms from the fault):", ...ev.map((e) => `${String(e.at - t0).padStart(6)} ms  ${e.what}`)];
}

function line(label: string, e: Episode): string {
  const w = e.wire;
  const parts = [
    `${label} ${e.scenario} #${e.run}${e.timeoutS ? ` (timeout=${e.timeoutS})` : ""}: ${e.from} -> ${e.to}`,
    `stall ${e.stallMs} ms [${e.stallFrom}..${e.stallTo}]`,
    `${e.errors} I/O errors`,
    `${e.connections} TCP sessions (${e.processes} qemu-io)`,
    `${e.lost} lost of ${e.acked} acked`,
  ];
  if (e.fencedMs !== undefined) parts.push(`fenced ${e.fencedMs} ms${e.activeSurvived ? " (active survived)" : ""}${e.dcFailed ? " (the DC failed)" : ""}`);
  if (e.vipGoneMs !== undefined) parts.push(`VIP gone ${e.vipGoneMs} ms`);
  if (e.vipMs !== undefined) parts.push(`VIP up ${e.vipMs} ms`);
  if (w.newOwnerMs !== undefined) parts.push(`first reply from survivor ${w.newOwnerMs} ms (${w.rstMs !== undefined ? `RST ${w.rstMs}` : "no RST"})`);
  if (w.retransmits) parts.push(`${w.retransmits} retransmits`);
  if (e.back) parts.push(`MOVED BACK after --clear: stall ${e.back.stallMs} ms, VIP back ${e.back.vipMs} ms and first reply ${e.back.wire.newOwnerMs ?? "-"} ms after the --clear`);
  if (e.errorLines.length) parts.push(`errors: ${e.errorLines.join(" | ")}`);
  return parts.join(", ");
}

async function series(agents: string[], label: string, drbd: RigDrbd | undefined, plan: (o: { timeoutS: number; scenario: Scenario }) => boolean = () => true): Promise<Series> {
  mkdirSync(TMP, { recursive: true });
  const dir = mkdtempSync(join(TMP, "session-stall-"));
  chmodSync(dir, 0o755);
  const rig = await startRig({
    nodes: 2,
    clients: 1,
    boot: [["tgtd", "-f"]],
    env: drbd?.env,
    fencing: { onPowerOff: (n: string) => drbd?.crash(n), onPowerOn: (n: string) => drbd?.boot(n) },
  });
  const episodes: Episode[] = [];
  try {
    const backing = backingFile(dir, 256);
    const opts = drbd ? rigIscsiOptions(rig, { backing, drbdResource: drbd.res, drbdconf: drbd.sim.conf }) : rigIscsiOptions(rig, { backing });
    const { plan: p, replaced } = withStandIns(iscsiStack(opts, { method: "none" }), agents);
    installAgents(planAgents(p));
    await rig.applyPcs(p.commands);
    const b = new Bench(rig, p, label, drbd);
    const variants: Array<{ scenario: Scenario; timeoutS: number }> = SCENARIOS.map((s) => ({ scenario: s, timeoutS: TIMEOUT_S }));
    if (COMPARE_TIMEOUT && label === "ours" && TIMEOUT_S !== 5) variants.push({ scenario: "kill", timeoutS: 5 });
    for (const v of variants) {
      if (!plan(v)) continue;
      for (let i = 0; i < RUNS; i++) episodes.push(await b.episode(v.scenario, i + 1, { timeoutS: v.timeoutS, ss: v.scenario === "kill" && i === 0 }));
    }
    return { label, episodes, replaced };
  } finally {
    await rig.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- run ----
const tStart = Date.now();
const built = builtAgents();
const all: Series[] = [];
if (WITH_UPSTREAM) all.push(await series([], "upstream", undefined));
all.push(await series(built, "ours", undefined));
if (WITH_DRBD && built.includes("drbd") && drbdSimAvailable()) all.push(await series(built, "ours+drbd", await rigDrbd()));
const totalS = Math.round((Date.now() - tStart) / 1000);

// ---- summary ----
const pick = (s: Series | undefined, sc: Scenario, timeoutS = TIMEOUT_S) => s?.episodes.filter((e) => e.scenario === sc && e.timeoutS === timeoutS) ?? [];
const med = (xs: Array<number | undefined>) => {
  const v = xs.filter((x): x is number => x !== undefined);
  return v.length ? stats(v).median_ms : undefined;
};
const f = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "-" : String(Math.round(x)));
const table: string[] = [];
table.push(
  "| side | scenario | runs | stall ms median / max | I/O errors | TCP sessions per run (max) | lost writes | fenced (move: VIP gone) ms | VIP up ms | new node first reached ms | first ack ms |",
  "|---|---|---|---|---|---|---|---|---|---|---|",
);
for (const s of all) {
  const keys: Array<[Scenario, number]> = SCENARIOS.map((sc) => [sc, TIMEOUT_S]);
  if (s.episodes.some((e) => e.timeoutS !== TIMEOUT_S)) keys.push(["kill", 5]);
  for (const [sc, t] of keys) {
    const es = pick(s, sc, t);
    if (!es.length) continue;
    const st = stats(es.map((e) => e.stallMs));
    table.push(
      `| ${s.label}${t !== TIMEOUT_S ? ` (libiscsi timeout=${t})` : ""} | ${sc} | ${es.length} | ${f(st.median_ms)} / ${f(st.max_ms)} | ${es.reduce((a, e) => a + e.errors, 0)} | ${f(med(es.map((e) => e.connections)))} (${Math.max(...es.map((e) => e.connections))}) | ${es.reduce((a, e) => a + e.lost, 0)} of ${es.reduce((a, e) => a + e.acked, 0)} | ${f(med(es.map((e) => e.fencedMs ?? e.vipGoneMs)))} | ${f(med(es.map((e) => e.vipMs)))} | ${f(med(es.map((e) => e.wire.newOwnerMs)))} | ${f(med(es.map((e) => e.stallTo)))} |`,
    );
    if (sc === "partition")
      for (const [what, sub] of [["target moved", es.filter((e) => !e.activeSurvived)], ["active survived the fence race", es.filter((e) => e.activeSurvived)]] as const) {
        if (!sub.length || sub.length === es.length) continue;
        const ss = stats(sub.map((e) => e.stallMs));
        table.push(`| ${s.label} | partition: ${what} | ${sub.length} | ${f(ss.median_ms)} / ${f(ss.max_ms)} | ${sub.reduce((a, e) => a + e.errors, 0)} | ${f(med(sub.map((e) => e.connections)))} (${Math.max(...sub.map((e) => e.connections))}) | ${sub.reduce((a, e) => a + e.lost, 0)} of ${sub.reduce((a, e) => a + e.acked, 0)} | ${f(med(sub.map((e) => e.fencedMs)))} | ${f(med(sub.map((e) => e.vipMs)))} | ${f(med(sub.map((e) => e.wire.newOwnerMs)))} | ${f(med(sub.map((e) => e.stallTo)))} |`);
      }
    const backs = es.filter((e) => e.back).map((e) => e.back!);
    if (backs.length) {
      const sb = stats(backs.map((b) => b.stallMs));
      table.push(`| ${s.label} | move back on --clear (${backs.length} of ${es.length} runs) | ${backs.length} | ${f(sb.median_ms)} / ${f(sb.max_ms)} | (same runs) | | | | ${f(med(backs.map((b) => b.vipMs)))} | ${f(med(backs.map((b) => b.wire.newOwnerMs)))} | ${f(med(backs.map((b) => b.stallTo)))} |`);
    }
  }
}
console.log(`\n${table.join("\n")}\n`);
console.log(`total ${totalS} s`);

const up = all.find((s) => s.label === "upstream");
const ours = all.find((s) => s.label === "ours")!;
const dr = all.find((s) => s.label === "ours+drbd");
const rows: Row[] = [];
const ratio = (o: Measure, u?: Measure) => (u && u.median_ms ? Math.round((o.median_ms / u.median_ms) * 1000) / 1000 : undefined);
const row = (action: string, scenario: string, o: number[], u?: number[]): Row => {
  const om = stats(o);
  const um = u?.length ? stats(u) : undefined;
  const r: Row = { agent: "stack:iscsi", action, scenario, ours: om, ...(um ? { upstream: um } : {}) };
  const q = ratio(om, um);
  if (q !== undefined) r.ratio = q;
  return r;
};
/** rows need ours: a measure missing on our side (e.g. no run of ours moved the VIP) is left out */
const add = (r: Row) => {
  if (r.ours.runs) rows.push(r);
};
for (const sc of SCENARIOS) {
  const o = pick(ours, sc);
  const u = pick(up, sc);
  add(row(`session stall, ${sc}`, `${TITLE[sc]}; --no-drbd shared LUN, fenced rig, one qemu-io session, durable 4 KiB write every 50 ms: longest gap between acknowledged writes`, o.map((e) => e.stallMs), u.map((e) => e.stallMs)));
  const moved = (es: Episode[]) => es.filter((e) => e.vipMs !== undefined);
  if (sc === "partition" && (moved(o).length || moved(u).length) && (moved(o).length < o.length || moved(u).length < u.length))
    add(row("session stall, partition, target moved", "same runs, those where the node serving the target lost the fence race", moved(o).map((e) => e.stallMs), moved(u).map((e) => e.stallMs)));
  if (moved(o).length || moved(u).length) {
    const fenced = (es: Episode[]) => moved(es).filter((e) => e.fencedMs !== undefined).map((e) => e.fencedMs!);
    if (fenced(o).length) add(row(`${sc}: fault -> node fenced`, "same runs, runs where the VIP moved: detection (corosync token 1000 ms + consensus) and the fence action", fenced(o), fenced(u)));
    const gone = (es: Episode[]) => moved(es).filter((e) => e.vipGoneMs !== undefined).map((e) => e.vipGoneMs!);
    if (gone(o).length) add(row(`${sc}: --move -> VIP gone from the old node`, "same runs: the scheduler and the IP's stop", gone(o), gone(u)));
    add(row(`${sc}: fault -> VIP on the new node`, "same runs, runs where the VIP moved (host view, 100 ms polls)", moved(o).map((e) => e.vipMs!), moved(u).map((e) => e.vipMs!)));
    const reach = (es: Episode[]) => moved(es).filter((e) => e.wire.newOwnerMs !== undefined).map((e) => Math.max(0, e.wire.newOwnerMs! - e.vipMs!));
    if (reach(o).length) add(row(`${sc}: VIP up -> client's TCP reaches the new node`, "same runs: the wait for the client's next retransmission (what a tickle ACK would save)", reach(o), reach(u)));
    const relog = (es: Episode[]) => moved(es).filter((e) => e.wire.newOwnerMs !== undefined).map((e) => e.stallTo - e.wire.newOwnerMs!);
    if (relog(o).length) add(row(`${sc}: first reply from the new node -> first acknowledged write`, "same runs: reconnect, login, the write resent", relog(o), relog(u)));
  }
}
{
  const ob = pick(ours, "move").filter((e) => e.back);
  const ub = pick(up, "move").filter((e) => e.back);
  if (ob.length || ub.length) add(row("session stall, move back on --clear", "same move runs, when clearing the constraint sent the stack back (the rig sets no resource-stickiness): ms of the second outage", ob.map((e) => e.back!.stallMs), ub.map((e) => e.back!.stallMs)));
}
if (dr) for (const sc of SCENARIOS) {
  const es = pick(dr, sc);
  if (es.length) add(row(`session stall, ${sc}, DRBD`, `${TITLE[sc]}; DRBD (simulator) promotable -> target -> LUN -> VIP, fenced rig, same client`, es.map((e) => e.stallMs)));
}
const t5 = pick(ours, "kill", 5);
if (t5.length && TIMEOUT_S !== 5) add(row("session stall, kill, libiscsi timeout=5", "as the kill row, but qemu's iSCSI timeout=5 (reconnect after 5 s without an answer, like open-iscsi's NOP-Out timeout)", t5.map((e) => e.stallMs)));

const count = (s: Series, sc: Scenario, t = TIMEOUT_S) => {
  const es = pick(s, sc, t);
  if (!es.length) return "";
  const sessions = es.map((e) => e.connections).join("/");
  const extra = [
    es.some((e) => e.activeSurvived !== undefined) ? `active survived the fence race ${es.filter((e) => e.activeSurvived).length}x` : "",
    es.some((e) => e.movedBack) ? `moved back after --clear ${es.filter((e) => e.movedBack).length}x` : "",
  ].filter(Boolean);
  return `${sc}${t !== TIMEOUT_S ? ` (timeout=${t})` : ""}: ${es.reduce((a, e) => a + e.errors, 0)} I/O errors, TCP sessions per run ${sessions}, ${es.reduce((a, e) => a + e.lost, 0)} lost of ${es.reduce((a, e) => a + e.acked, 0)} acknowledged${extra.length ? `, ${extra.join(", ")}` : ""}`;
};
/** The issue's absolute goals: hard kill <= corosync floor (2.2 s) + 0.5 s; planned move <= 1 s with 0 I/O errors. */
function goalNotes(): string[] {
  const k = pick(ours, "kill");
  const m = pick(ours, "move");
  const out: string[] = [];
  if (k.length) {
    const st = stats(k.map((e) => e.stallMs));
    const cl = med(k.map((e) => e.vipMs));
    out.push(`goal, hard kill: stall <= 2700 ms (corosync floor 2.2 s + 0.5 s): median ${f(st.median_ms)} ms, ${st.median_ms <= 2700 ? "met" : "**not met**"}; fault -> node fenced ${f(med(k.map((e) => e.fencedMs)))} ms, -> VIP up on the survivor ${f(cl)} ms (100 ms polls), -> first acknowledged write ${f(med(k.map((e) => e.stallTo)))} ms: the client's part is the round trip the tickle ACK buys, the rest is the cluster's (the goal predates fencing, which must end before anything starts)`);
  }
  if (m.length) {
    const st = stats(m.map((e) => e.stallMs));
    const errs = m.reduce((a, e) => a + e.errors, 0);
    out.push(`goal, planned move: stall <= 1000 ms with 0 I/O errors: median ${f(st.median_ms)} ms (max ${f(st.max_ms)}), ${errs} I/O errors, ${st.max_ms <= 1000 && errs === 0 ? "met" : "**not met**"}`);
  }
  return out;
}
const notes = [
  `ours = ocf:tsstor agents built in this checkout (${built.join(" ") || "none"}); still upstream in "ours": ${ours.replaced.join(" ") || "none"}; upstream = ocf:heartbeat IPaddr2, iSCSITarget, iSCSILogicalUnit`,
  `client: one qemu-io ${"(libiscsi)"} process, \`write -f -P <byte> <4 KiB block>\` every 50 ms, one outstanding (write -f = FUA, or write + flush, with the error reported: qemu-io's own \`flush\` command drops blk_flush()'s result); every write to a new block with its own pattern byte; its send and answer times recorded`,
  `the session is ${HOLD_MS / 1000} s old at the fault: a VIP monitor (every 10 s) has seen it, as it sees any session an initiator keeps; with tsstor's tickle_ports the monitor publishes it, so the new node resets it (a session younger than the last monitor waits for its retransmission, as with upstream)`,
  `libiscsi command timeout: ${TIMEOUT_S ? `timeout=${TIMEOUT_S}` : "none (qemu's default)"}: like open-iscsi (queues I/O for replacement_timeout=120 s) commands wait while the session reconnects; qemu still reconnects after 3 unanswered NOP-Outs (5 s apart). An I/O error = qemu-io reports the write failed, or no answer within ${ANSWER_MS / 1000} s`,
  "stall = longest time between two acknowledged writes (completion to completion; 50 ms cadence included); TCP sessions = connections to VIP:3260 the target accepted during the run (tcpdump SYN-ACKs; 1 = never reconnected); lost = acknowledged blocks that do not read back with their pattern through the VIP afterwards",
  "fenced rig for every scenario: stonith-enabled with the rig's fence device (pcmk_reboot_action=off); kill = power cut of the node serving the target; partition = its cluster link cut until one node is fenced; move = crm_resource --move of the target (DRBD: the promoted clone) to the other node, then --clear",
  ...all.flatMap((s) => [...SCENARIOS.map((sc) => count(s, sc)), ...(s.episodes.some((e) => e.timeoutS !== TIMEOUT_S) ? [count(s, "kill", 5)] : [])].filter(Boolean).map((c) => `${s.label}: ${c}`)),
  ...goalNotes(),
  `total bench time ${totalS} s (${RUNS} runs per scenario and side)`,
];
save("session-stall", rows, notes);

// the packet-level explanation of one hard kill per side
const md: string[] = ["# session-stall: one hard kill, packet by packet", "", `Generated by bench/session-stall.bench.ts (${new Date().toISOString()}). Times in ms from the kill; \`ss -tino\` of the client's connection sampled every 100 ms, then tcpdump in the client namespace.`, ""];
for (const s of all) for (const e of s.episodes.filter((x) => x.ssLines)) {
  md.push(`## ${s.label}${e.timeoutS !== TIMEOUT_S ? ` (libiscsi timeout=${e.timeoutS})` : ""}: ${e.from} killed, ${e.to} takes over`, "", line(s.label, e), "", "```", ...e.ssLines!, "```", "");
  if (e.qemu.length) md.push("qemu-io's messages:", "", "```", ...e.qemu, "```", "");
}
for (const s of all) for (const e of s.episodes) if (e.scenario === "move" && e.run === 1) md.push(`## ${s.label}: planned move`, "", line(s.label, e), "", `client data segments sent after the move (ms): ${e.wire.sends.slice(0, 60).join(" ")}`, "");
writeFileSync(join(RESULTS, "session-stall-tcp.md"), `${md.join("\n")}\n`);
console.log(`wrote ${join(RESULTS, "session-stall-tcp.md")}`);
process.exit(0);
