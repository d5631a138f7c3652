// The promotion score table of ocf:linbit:drbd (drbd_update_master_score and the status flags of
// drbd.shellfuncs.sh), as pure functions over the typed DRBD state. Unit-tested row by row.
//
// Deliberate differences (documented in docs/drbd.md):
//  - A resource that is not running (or a module that is not loaded) deletes the score. Upstream's
//    8.4 path scores an unconfigured resource as "Consistent" (first adjust value), and a monitor
//    without /proc/drbd evaluates unset shell variables as true (score d-1).
//  - A transitional disk (Attaching, Negotiating) is not UpToDate. Upstream's DRBD 9 path leaves
//    it counted as UpToDate, so its "transitional: leave the score alone" row is unreachable there.

import type { DrbdState } from "./state.js";

/** The status_* variables of drbd.shellfuncs.sh. */
export interface StatusFlags {
  primary: boolean;
  unconfigured: boolean;
  somePeerPrimary: boolean;
  disklessClient: boolean;
  haveQuorum: boolean;
  diskAllUpToDate: boolean;
  diskAllConsistent: boolean;
  diskTransitional: boolean;
  /** every non-client peer has all volumes UpToDate (and there is at least one) */
  pdskAllUpToDate: boolean;
  /** some non-client peer has a volume in DUnknown */
  pdskAnyUnknown: boolean;
  somePeerAllUpToDate: boolean;
  somePeerNotAllUpToDate: boolean;
}

export function statusFlags(s: DrbdState): StatusFlags {
  const f: StatusFlags = {
    primary: s.role === "Primary",
    unconfigured: !s.configured,
    somePeerPrimary: s.connections.some((c) => c.peerRole === "Primary"),
    disklessClient: false,
    haveQuorum: true,
    diskAllUpToDate: true,
    diskAllConsistent: true,
    diskTransitional: false,
    pdskAllUpToDate: false,
    pdskAnyUnknown: false,
    somePeerAllUpToDate: false,
    somePeerNotAllUpToDate: false,
  };
  const nVolumes = s.volumes.length;
  let nClient = 0;
  for (const v of s.volumes) {
    // Intentionally diskless volumes count for nothing but the "diskless client" test.
    if (v.client && v.disk === "Diskless") {
      nClient++;
      continue;
    }
    if (!v.quorum) f.haveQuorum = false;
    if (v.disk === "UpToDate") continue;
    f.diskAllUpToDate = false;
    if (["Diskless", "Failed", "Inconsistent", "Outdated", "Detaching"].includes(v.disk)) f.diskAllConsistent = false;
    if (v.disk === "Attaching" || v.disk === "Negotiating") f.diskTransitional = true;
  }
  f.disklessClient = nVolumes === nClient;
  for (const c of s.connections) {
    const pd = c.peerDevices;
    const nPeerClient = pd.filter((p) => p.peerClient).length;
    // Diskless client peers are ignored for the "good data on a peer" questions.
    if (nVolumes === nPeerClient) continue;
    if (nVolumes === pd.filter((p) => p.peerDisk === "UpToDate").length) f.somePeerAllUpToDate = true;
    else f.somePeerNotAllUpToDate = true;
    if (nVolumes !== pd.filter((p) => p.peerDisk !== "DUnknown").length) f.pdskAnyUnknown = true;
  }
  f.pdskAllUpToDate = f.somePeerAllUpToDate && !f.somePeerNotAllUpToDate;
  return f;
}

/** adjust_master_score: four non-negative, non-decreasing integers. */
export type Adjust = readonly [number, number, number, number];
export const DEFAULT_ADJUST = "0 10 1000 10000";

/** Returns the four values or an error text. */
export function parseAdjust(v: string): Adjust | string {
  const parts = v.trim().split(/\s+/).filter(Boolean);
  if (parts.length !== 4) return `needs four space-separated numbers (only consistent, only remote UpToDate, local UpToDate with peer unknown, best), got ${parts.length}`;
  const n: number[] = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p)) return `values must be non-negative integers, got "${p.slice(0, 20)}"`;
    n.push(Number(p));
  }
  for (let i = 1; i < 4; i++) if (n[i]! < n[i - 1]!) return `values must be non-decreasing, got ${n[i - 1]} before ${n[i]}`;
  return [n[0]!, n[1]!, n[2]!, n[3]!];
}

export type PeerPrimaryPolicy = "false" | "true" | "unexpected";

export interface ScoreOpts {
  adjust: Adjust;
  removeIfPeerPrimary: PeerPrimaryPolicy;
  unfenceIfAllUpToDate: boolean;
  /** CRM_meta_promoted_max (1 when unset) */
  promotedMax: number;
  /** Asked only for removeIfPeerPrimary=unexpected: does Pacemaker know a Promoted instance elsewhere? */
  pacemakerKnowsPromoted?: () => boolean;
}

export type ScoreDecision =
  | { kind: "set"; score: number; row: string; unfence: boolean }
  | { kind: "delete"; row: string }
  | { kind: "keep"; row: string };

function set(score: number, row: string, unfence = false): ScoreDecision {
  // As upstream's set_master_score: a value <= 0 removes the score.
  return score <= 0 ? { kind: "delete", row } : { kind: "set", score, row, unfence };
}

/**
 * ocf:linbit:drbd's unexpected_primary_rejects_promote: a single-Promoted configuration, we are
 * Secondary, a DRBD peer is Primary, yet Pacemaker knows of no Promoted instance elsewhere.
 */
export function unexpectedPrimary(f: StatusFlags, promotedMax: number, pacemakerKnowsPromoted: () => boolean): boolean {
  return promotedMax === 1 && !f.primary && f.somePeerPrimary && !pacemakerKnowsPromoted();
}

export function decideScore(s: DrbdState, o: ScoreOpts): ScoreDecision {
  const f = statusFlags(s);
  const [onlyConsistent, onlyRemote, localOk, best] = o.adjust;
  if (f.unconfigured) return { kind: "delete", row: "not running" };
  if (!f.haveQuorum) return { kind: "delete", row: "no quorum" };

  // removed_master_score_because_peer_is_primary
  if (o.removeIfPeerPrimary !== "false" && !f.primary && f.somePeerPrimary && f.somePeerAllUpToDate) {
    if (o.removeIfPeerPrimary === "true") return { kind: "delete", row: "connected to a healthy Primary peer" };
    if (unexpectedPrimary(f, o.promotedMax, o.pacemakerKnowsPromoted ?? (() => true))) {
      return { kind: "delete", row: "connected to a Primary Pacemaker does not know" };
    }
  }

  if (f.disklessClient) {
    if (f.primary && f.somePeerAllUpToDate) return set(best - 1, "diskless client, Primary with a good peer");
    if (f.pdskAllUpToDate) return set(best - 1, "diskless client, all peers UpToDate");
    if (f.somePeerAllUpToDate) return set(localOk - 1, "diskless client, some peer UpToDate");
    return { kind: "delete", row: "diskless client without good data" };
  }
  if (f.diskAllUpToDate) {
    if (f.primary) return set(best, "UpToDate, Primary", f.pdskAllUpToDate && o.unfenceIfAllUpToDate);
    if (f.pdskAnyUnknown) return set(localOk, "UpToDate, Secondary, a peer disk unknown");
    return set(best, "UpToDate, Secondary, peer disks known");
  }
  if (f.somePeerAllUpToDate) return set(onlyRemote, "not UpToDate, a peer has UpToDate data");
  if (f.diskTransitional) return { kind: "keep", row: "transitional disk state" };
  if (f.diskAllConsistent) return set(onlyConsistent, "Consistent");
  return { kind: "delete", row: "no access to good data (Inconsistent, Outdated, Diskless or Failed)" };
}

/** Degraded (OCF 190/191, optional): running but not fully redundant and healthy. */
export function degradedReason(s: DrbdState): string | undefined {
  if (!s.configured) return undefined;
  const f = statusFlags(s);
  if (!f.haveQuorum) return "no quorum";
  const bad = s.volumes.filter((v) => !(v.client && v.disk === "Diskless") && v.disk !== "UpToDate");
  if (bad.length) return `local disk ${bad.map((v) => v.disk).join(",")}`;
  if (s.connections.length === 0) return undefined;
  const down = s.connections.filter((c) => c.connection !== "Connected");
  if (down.length) return `peer ${down.map((c) => `${c.name} ${c.connection}`).join(", ")}`;
  const pbad = s.connections.flatMap((c) => c.peerDevices.filter((p) => !p.peerClient && p.peerDisk !== "UpToDate").map((p) => `${c.name} ${p.replication !== "Established" ? `${p.replication} ` : ""}${p.peerDisk}`));
  if (pbad.length) return `peer disk ${pbad.join(", ")}`;
  return undefined;
}
