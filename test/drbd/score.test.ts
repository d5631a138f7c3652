// The promotion score table of ocf:linbit:drbd, row by row. Each row is a DRBD state written as
// real drbdsetup output (events2 for DRBD 9, sh-status for 8.4); our decision (lib/drbd/score.ts)
// is compared with the decision of the upstream agent's own shell code run on the same output
// (test/drbd/upstream-score.sh). Deliberate differences are marked and explained.
import t from "tap";
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decideScore, degradedReason, parseAdjust, statusFlags, type Adjust, type ScoreDecision } from "../../lib/drbd/score.js";
import { parseEvents2, parseShStatus, type DrbdState } from "../../lib/drbd/state.js";
import { scratchDir } from "../lib/harness.js";

interface Peer {
  name: string;
  conn: "Connected" | "Connecting" | "StandAlone";
  role?: "Primary" | "Secondary";
  disks: string[];
  client?: boolean;
  repl?: string[];
}
interface Row {
  name: string;
  role: "Primary" | "Secondary" | "down";
  disks: string[];
  client?: boolean;
  quorum?: boolean[];
  peers?: Peer[];
  opts?: { adjust?: string; remove?: "true" | "unexpected"; unfence?: boolean; pcmkPrimary?: string };
  /** our decision: "set N", "delete", "keep"; "+unfence" when the unfence hook runs */
  expect: string;
  /** upstream's DRBD 9 decision when it deliberately differs, with the reason */
  upstream9?: [string, string];
  /** upstream's 8.4 decision when it differs; null: not expressible on 8.4 */
  upstream84?: [string, string] | null;
}

function events2(r: Row): string {
  if (r.role === "down") return "exists -\n";
  const res = "r0";
  const L: string[] = [`exists resource name:${res} role:${r.role} suspended:no force-io-failures:no may_promote:no promotion_score:0`];
  const peers = r.peers ?? [];
  peers.forEach((p, i) => L.push(`exists connection name:${res} peer-node-id:${i + 1} conn-name:${p.name} connection:${p.conn} role:${p.conn === "Connected" ? (p.role ?? "Secondary") : "Unknown"}`));
  r.disks.forEach((d, v) =>
    L.push(`exists device name:${res} volume:${v} minor:${v + 1} backing_dev:${r.client ? "none" : `/dev/x${v}`} disk:${d} client:${r.client ? "yes" : "no"} quorum:${r.quorum?.[v] === false ? "no" : "yes"}`),
  );
  peers.forEach((p, i) =>
    r.disks.forEach((_, v) => {
      const up = p.conn === "Connected";
      L.push(
        `exists peer-device name:${res} peer-node-id:${i + 1} conn-name:${p.name} volume:${v} replication:${up ? (p.repl?.[v] ?? "Established") : "Off"} peer-disk:${up ? p.disks[v] : "DUnknown"} peer-client:${up && p.client ? "yes" : "no"} resync-suspended:no`,
      );
    }),
  );
  L.push("exists -");
  return `${L.join("\n")}\n`;
}

function shStatus(r: Row): string {
  if (r.role === "down") return "";
  const p = r.peers?.[0];
  return r.disks
    .map((d, v) => {
      const up = p?.conn === "Connected";
      const cs = !p ? "StandAlone" : up ? (p.repl?.[v] && p.repl[v] !== "Established" ? p.repl[v] : "Connected") : p.conn === "StandAlone" ? "StandAlone" : "WFConnection";
      return `_minor=${v + 1}\n_res_name=r0\n_volume=${v}\n_known=Configured\n\n_cstate=${cs}\n_role=${r.role}\n_peer=${up ? (p!.role ?? "Secondary") : "Unknown"}\n_disk=${d}\n_pdsk=${up ? p!.disks[v] : "DUnknown"}\n\n_flags_susp=\n_flags_aftr_isp=\n_flags_peer_isp=\n_flags_user_isp=\n\n_resynced_percent=\n\n_sh_status_process\n\n\n`;
    })
    .join("");
}

const tmp = scratchDir("drbdscore");
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
let seq = 0;
function upstream(kind: "v9" | "v84", text: string, r: Row): string {
  const f = join(tmp, `s${seq++}`);
  writeFileSync(f, text);
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
  if (r.opts?.adjust) env.OCF_RESKEY_adjust_master_score = r.opts.adjust;
  if (r.opts?.remove) env.OCF_RESKEY_remove_master_score_if_peer_primary = r.opts.remove;
  if (r.opts?.unfence) env.OCF_RESKEY_unfence_if_all_uptodate = "true";
  if (r.opts?.pcmkPrimary) env.PCMK_PRIMARY = r.opts.pcmkPrimary;
  const x = spawnSync(join(import.meta.dirname, "upstream-score.sh"), [kind, f], { encoding: "utf8", env });
  // (its exit status is that of the last shell test; only shell errors count)
  if (x.error || / line \d+: /.test(x.stderr)) throw new Error(`upstream-score.sh: ${x.stderr}`);
  const lines = x.stdout.trim().split("\n").filter(Boolean);
  const main = lines.find((l) => l !== "unfence") ?? "keep";
  return lines.includes("unfence") ? `${main}+unfence` : main;
}

function ours(st: DrbdState, r: Row): string {
  const d: ScoreDecision = decideScore(st, {
    adjust: parseAdjust(r.opts?.adjust ?? "0 10 1000 10000") as Adjust,
    removeIfPeerPrimary: r.opts?.remove ?? "false",
    unfenceIfAllUpToDate: !!r.opts?.unfence,
    promotedMax: 1,
    pacemakerKnowsPromoted: () => !!r.opts?.pcmkPrimary,
  });
  return d.kind === "set" ? `set ${d.score}${d.unfence ? "+unfence" : ""}` : d.kind;
}

const U = (peerDisk = "UpToDate", extra: Partial<Peer> = {}): Peer => ({ name: "b", conn: "Connected", disks: [peerDisk], ...extra });
const away: Peer = { name: "b", conn: "Connecting", disks: ["DUnknown"] };

const ROWS: Row[] = [
  { name: "Primary, UpToDate, peer UpToDate", role: "Primary", disks: ["UpToDate"], peers: [U()], expect: "set 10000" },
  { name: "Primary, UpToDate, peer gone", role: "Primary", disks: ["UpToDate"], peers: [away], expect: "set 10000" },
  { name: "Primary, UpToDate, all peers UpToDate, unfence_if_all_uptodate", role: "Primary", disks: ["UpToDate"], peers: [U()], opts: { unfence: true }, expect: "set 10000+unfence" },
  { name: "Primary, UpToDate, peer Inconsistent: no unfence", role: "Primary", disks: ["UpToDate"], peers: [U("Inconsistent", { repl: ["SyncSource"] })], opts: { unfence: true }, expect: "set 10000" },
  { name: "Secondary, UpToDate, peer disk unknown", role: "Secondary", disks: ["UpToDate"], peers: [away], expect: "set 1000" },
  { name: "Secondary, UpToDate, StandAlone", role: "Secondary", disks: ["UpToDate"], peers: [{ name: "b", conn: "StandAlone", disks: ["DUnknown"] }], expect: "set 1000" },
  { name: "Secondary, UpToDate, peer UpToDate", role: "Secondary", disks: ["UpToDate"], peers: [U()], expect: "set 10000" },
  { name: "Secondary, UpToDate, peer Primary UpToDate", role: "Secondary", disks: ["UpToDate"], peers: [U("UpToDate", { role: "Primary" })], expect: "set 10000" },
  { name: "Secondary, UpToDate SyncSource, peer Inconsistent", role: "Secondary", disks: ["UpToDate"], peers: [U("Inconsistent", { repl: ["SyncSource"] })], expect: "set 10000" },
  { name: "Secondary, UpToDate, peer Outdated", role: "Secondary", disks: ["UpToDate"], peers: [U("Outdated")], expect: "set 10000" },
  { name: "Secondary, UpToDate, no peers configured", role: "Secondary", disks: ["UpToDate"], peers: [], expect: "set 10000", upstream84: null },
  { name: "Secondary, Inconsistent SyncTarget, peer Primary UpToDate", role: "Secondary", disks: ["Inconsistent"], peers: [U("UpToDate", { role: "Primary", repl: ["SyncTarget"] })], expect: "set 10" },
  { name: "Secondary, Outdated, peer UpToDate", role: "Secondary", disks: ["Outdated"], peers: [U()], expect: "set 10" },
  { name: "Secondary, Outdated, peer gone", role: "Secondary", disks: ["Outdated"], peers: [away], expect: "delete" },
  { name: "Secondary, Inconsistent, peer gone", role: "Secondary", disks: ["Inconsistent"], peers: [away], expect: "delete" },
  { name: "Secondary, Inconsistent, peer Inconsistent", role: "Secondary", disks: ["Inconsistent"], peers: [U("Inconsistent")], expect: "delete" },
  { name: "Secondary, Consistent, peer gone (a = 0 deletes)", role: "Secondary", disks: ["Consistent"], peers: [away], expect: "delete" },
  { name: "Secondary, Consistent, peer gone, adjust 5 10 1000 10000", role: "Secondary", disks: ["Consistent"], peers: [away], opts: { adjust: "5 10 1000 10000" }, expect: "set 5" },
  { name: "Secondary, detached (Diskless), peer UpToDate", role: "Secondary", disks: ["Diskless"], peers: [U()], expect: "set 10" },
  { name: "Secondary, detached (Diskless), peer gone", role: "Secondary", disks: ["Diskless"], peers: [away], expect: "delete" },
  { name: "Primary, Failed disk, peer UpToDate", role: "Primary", disks: ["Failed"], peers: [U()], expect: "set 10" },
  { name: "Secondary, Failed disk, peer gone", role: "Secondary", disks: ["Failed"], peers: [away], expect: "delete" },
  {
    name: "Secondary, Attaching, peer gone: transitional, left alone",
    role: "Secondary",
    disks: ["Attaching"],
    peers: [away],
    expect: "keep",
    upstream9: ["set 1000", "upstream's events2 path counts Attaching as UpToDate, so its 'transitional' row is unreachable"],
  },
  {
    name: "Secondary, Negotiating, peer UpToDate",
    role: "Secondary",
    disks: ["Negotiating"],
    peers: [U()],
    expect: "set 10",
    upstream9: ["set 10000", "same: Negotiating counted as UpToDate on DRBD 9"],
  },
  { name: "two volumes, one Outdated, peer gone", role: "Secondary", disks: ["UpToDate", "Outdated"], peers: [{ ...away, disks: ["DUnknown", "DUnknown"] }], expect: "delete" },
  { name: "two volumes, one Outdated, peer UpToDate", role: "Secondary", disks: ["UpToDate", "Outdated"], peers: [{ ...U(), disks: ["UpToDate", "UpToDate"] }], expect: "set 10" },
  { name: "two volumes UpToDate, peer one Inconsistent", role: "Secondary", disks: ["UpToDate", "UpToDate"], peers: [{ ...U(), disks: ["UpToDate", "Inconsistent"] }], expect: "set 10000" },
  { name: "no quorum", role: "Secondary", disks: ["UpToDate"], quorum: [false], peers: [away], expect: "delete", upstream84: null },
  { name: "no quorum on one of two volumes, Primary", role: "Primary", disks: ["UpToDate", "UpToDate"], quorum: [true, false], peers: [{ ...away, disks: ["DUnknown", "DUnknown"] }], expect: "delete", upstream84: null },
  { name: "diskless client, Secondary, peer UpToDate", role: "Secondary", disks: ["Diskless"], client: true, peers: [U()], expect: "set 9999", upstream84: null },
  { name: "diskless client, Primary, peer UpToDate", role: "Primary", disks: ["Diskless"], client: true, peers: [U()], expect: "set 9999", upstream84: null },
  {
    name: "diskless client, one peer UpToDate, one Outdated",
    role: "Secondary",
    disks: ["Diskless"],
    client: true,
    peers: [U(), { name: "c", conn: "Connected", disks: ["Outdated"] }],
    expect: "set 999",
    upstream84: null,
  },
  { name: "diskless client, peer gone", role: "Secondary", disks: ["Diskless"], client: true, peers: [away], expect: "delete", upstream84: null },
  { name: "diskless client with no quorum: quorum of client volumes is not looked at", role: "Secondary", disks: ["Diskless"], client: true, quorum: [false], peers: [U()], expect: "set 9999", upstream84: null },
  {
    name: "three nodes: UpToDate, peer b UpToDate, peer c a diskless client (ignored)",
    role: "Secondary",
    disks: ["UpToDate"],
    peers: [U(), { name: "c", conn: "Connected", disks: ["Diskless"], client: true }],
    expect: "set 10000",
    upstream84: null,
  },
  {
    name: "three nodes: UpToDate, peer b gone, peer c a client",
    role: "Secondary",
    disks: ["UpToDate"],
    peers: [away, { name: "c", conn: "Connected", disks: ["Diskless"], client: true }],
    expect: "set 1000",
    upstream84: null,
  },
  {
    name: "three nodes: Outdated, one peer UpToDate, one gone",
    role: "Secondary",
    disks: ["Outdated"],
    peers: [U(), { name: "c", conn: "Connecting", disks: ["DUnknown"] }],
    expect: "set 10",
    upstream84: null,
  },
  {
    name: "not running",
    role: "down",
    disks: [],
    expect: "delete",
    upstream84: ["delete", "(same with a = 0)"],
  },
  {
    name: "not running, adjust 5 10 1000 10000",
    role: "down",
    disks: [],
    opts: { adjust: "5 10 1000 10000" },
    expect: "delete",
    upstream84: ["set 5", "upstream's 8.4 path scores an unconfigured resource as Consistent"],
  },
  { name: "remove_master_score_if_peer_primary=true, healthy Primary peer", role: "Secondary", disks: ["UpToDate"], peers: [U("UpToDate", { role: "Primary" })], opts: { remove: "true" }, expect: "delete" },
  { name: "remove_master_score_if_peer_primary=true, Primary peer not UpToDate", role: "Secondary", disks: ["UpToDate"], peers: [U("Inconsistent", { role: "Primary" })], opts: { remove: "true" }, expect: "set 10000" },
  { name: "remove_master_score_if_peer_primary=true, we are Primary", role: "Primary", disks: ["UpToDate"], peers: [U("UpToDate")], opts: { remove: "true" }, expect: "set 10000" },
  { name: "remove=unexpected, Pacemaker knows the Primary", role: "Secondary", disks: ["UpToDate"], peers: [U("UpToDate", { role: "Primary" })], opts: { remove: "unexpected", pcmkPrimary: "b" }, expect: "set 10000" },
  { name: "remove=unexpected, Pacemaker does not know it", role: "Secondary", disks: ["UpToDate"], peers: [U("UpToDate", { role: "Primary" })], opts: { remove: "unexpected" }, expect: "delete" },
];

for (const r of ROWS) {
  t.test(r.name, async (t) => {
    const e2 = events2(r);
    const st9 = parseEvents2(e2, "r0");
    t.equal(ours(st9, r), r.expect, "ours (DRBD 9)");
    const up9 = upstream("v9", e2, r);
    if (r.upstream9) {
      t.equal(up9, r.upstream9[0], `upstream differs deliberately: ${r.upstream9[1]}`);
    } else t.equal(up9, r.expect, "ocf:linbit:drbd on the same events2 output");
    if (r.upstream84 === null) return;
    const sh = shStatus(r);
    const st84 = parseShStatus(sh, "r0");
    t.equal(ours(st84, r), r.expect, "ours (DRBD 8.4)");
    const up84 = upstream("v84", sh, r);
    t.equal(up84, r.upstream84?.[0] ?? r.expect, r.upstream84 ? `upstream 8.4: ${r.upstream84[1]}` : "ocf:linbit:drbd on the same sh-status output");
  });
}

t.test("adjust_master_score syntax", async (t) => {
  t.same(parseAdjust("0 10 1000 10000"), [0, 10, 1000, 10000]);
  t.same(parseAdjust("  5   10 1000\t10000 "), [5, 10, 1000, 10000]);
  t.match(parseAdjust("0 10 1000"), /four/);
  t.match(parseAdjust("0 10 1000 10000 5"), /four/);
  t.match(parseAdjust("0 -10 1000 10000"), /non-negative/);
  t.match(parseAdjust("0 10 1e3 10000"), /non-negative integers/);
  t.match(parseAdjust("0 100 10 10000"), /non-decreasing/);
});

t.test("status flags: the shell variables of drbd.shellfuncs.sh", async (t) => {
  const f = statusFlags(parseEvents2(events2(ROWS[4]!), "r0"));
  t.same(f, {
    primary: false,
    unconfigured: false,
    somePeerPrimary: false,
    disklessClient: false,
    haveQuorum: true,
    diskAllUpToDate: true,
    diskAllConsistent: true,
    diskTransitional: false,
    pdskAllUpToDate: false,
    pdskAnyUnknown: true,
    somePeerAllUpToDate: false,
    somePeerNotAllUpToDate: true,
  });
});

t.test("degraded reasons (report_degraded)", async (t) => {
  const st = (r: Partial<Row>) => parseEvents2(events2({ name: "", role: "Secondary", disks: ["UpToDate"], expect: "", ...r }), "r0");
  t.equal(degradedReason(st({ peers: [U()] })), undefined, "healthy");
  t.equal(degradedReason(st({ peers: [] })), undefined, "single node, no peers");
  t.equal(degradedReason(st({ peers: [away] })), "peer b Connecting");
  t.equal(degradedReason(st({ peers: [U("Inconsistent", { repl: ["SyncSource"] })] })), "peer disk b SyncSource Inconsistent");
  t.equal(degradedReason(st({ disks: ["Outdated"], peers: [U()] })), "local disk Outdated");
  t.equal(degradedReason(st({ quorum: [false], peers: [U()] })), "no quorum");
  t.equal(degradedReason(st({ role: "down" })), undefined);
  t.equal(degradedReason(st({ disks: ["Diskless"], client: true, peers: [U()] })), undefined, "a diskless client is not degraded");
});
