// What the simulated drbd-utils print, byte for byte as drbd-utils 9.22 (DRBD 9 events2 and status,
// with the fields of a published DRBD 9 sample: "exists resource name:r role:Primary suspended:no
// force-io-failures:no may_promote:no promotion_score:10101") and drbdsetup-84 sh-status.

import { diskState, hasQuorum, md, peerOf, syncDone, type SimConnection, type SimNode, type SimResource, type SimState } from "./state.js";

interface PeerVol {
  replication: string;
  peerDisk: string;
  peerClient: boolean;
  done?: number;
}

function connState(c: SimConnection): string {
  return !c.connect ? "StandAlone" : c.established ? "Connected" : "Connecting";
}

function peerVol(s: SimState, self: string, res: string, c: SimConnection, vol: string, now: number): PeerVol {
  const p = peerOf(s, self, res, c);
  if (!p) return { replication: "Off", peerDisk: "DUnknown", peerClient: false };
  const mine = s.nodes[self]!.resources[res]!.volumes[vol];
  const theirs = p.res.volumes[vol];
  const peerClient = !!theirs?.client;
  if (mine?.sync && mine.sync.from === c.name) return { replication: "SyncTarget", peerDisk: diskState(p.node, res, vol), peerClient, done: syncDone(mine, now) };
  if (theirs?.sync && theirs.sync.from === self) return { replication: "SyncSource", peerDisk: diskState(p.node, res, vol), peerClient, done: syncDone(theirs, now) };
  return { replication: "Established", peerDisk: theirs ? diskState(p.node, res, vol) : "DUnknown", peerClient };
}

/** DRBD's promotion_score and may_promote (computed as newer drbd-utils do). */
function promotionInfo(s: SimState, self: string, res: string, r: SimResource): { may: boolean; score: number } {
  const n = s.nodes[self]!;
  const vols = Object.keys(r.volumes);
  if (!vols.length || !hasQuorum(s, self, res)) return { may: false, score: 0 };
  let upToDate = 0;
  let allHaveDisk = true;
  let minReplicas = Infinity;
  for (const vol of vols) {
    const d = diskState(n, res, vol);
    if (d === "UpToDate") upToDate++;
    else if (d !== "Consistent" && d !== "Inconsistent") allHaveDisk = false;
    let replicas = d === "UpToDate" ? 1 : 0;
    for (const c of Object.values(r.conns)) if (peerVol(s, self, res, c, vol, 0).peerDisk === "UpToDate") replicas++;
    minReplicas = Math.min(minReplicas, replicas);
  }
  if (minReplicas === 0) return { may: false, score: 0 };
  const primary = r.role === "Primary" || Object.values(r.conns).some((c) => peerOf(s, self, res, c)?.res.role === "Primary");
  return { may: !primary, score: (allHaveDisk ? 10000 : 0) + Math.min(upToDate, 99) * 100 + Math.min(minReplicas, 99) };
}

const volKeys = (r: SimResource) => Object.keys(r.volumes).sort((a, b) => Number(a) - Number(b));

/** `drbdsetup events2 --now [RES|all]`; DRBD 8.4's kernel reports fewer fields (recorded in the lab). */
export function events2(s: SimState, self: string, which: string, now: number): string {
  const n = s.nodes[self];
  const out: string[] = [];
  const names = Object.keys(n?.resources ?? {}).sort().filter((r) => which === "all" || r === which);
  if (n?.kernel.startsWith("8.")) return events2v84(s, self, names, now);
  for (const res of names) {
    const r = n!.resources[res]!;
    const pi = promotionInfo(s, self, res, r);
    out.push(`exists resource name:${res} role:${r.role} suspended:no force-io-failures:no may_promote:${pi.may ? "yes" : "no"} promotion_score:${pi.score}`);
    const conns = Object.values(r.conns);
    for (const c of conns) {
      const p = peerOf(s, self, res, c);
      out.push(`exists connection name:${res} peer-node-id:${c.peerNodeId} conn-name:${c.name} connection:${connState(c)} role:${p ? p.res.role : "Unknown"}`);
    }
    const q = hasQuorum(s, self, res);
    for (const vol of volKeys(r)) {
      const v = r.volumes[vol]!;
      out.push(`exists device name:${res} volume:${vol} minor:${v.minor} backing_dev:${v.backing ?? "none"} disk:${diskState(n!, res, vol)} client:${v.client ? "yes" : "no"} quorum:${q ? "yes" : "no"}`);
    }
    for (const c of conns) {
      for (const vol of volKeys(r)) {
        const pv = peerVol(s, self, res, c, vol, now);
        out.push(
          `exists peer-device name:${res} peer-node-id:${c.peerNodeId} conn-name:${c.name} volume:${vol} replication:${pv.replication} peer-disk:${pv.peerDisk} peer-client:${pv.peerClient ? "yes" : "no"} resync-suspended:no${pv.done !== undefined ? ` done:${pv.done.toFixed(2)}` : ""}`,
        );
      }
    }
    for (const c of conns) {
      for (const p of c.paths) out.push(`exists path name:${res} peer-node-id:${c.peerNodeId} conn-name:${c.name} local:${p.local} peer:${p.peer} established:${c.established ? "yes" : "no"}`);
    }
  }
  out.push("exists -");
  return `${out.join("\n")}\n`;
}

function events2v84(s: SimState, self: string, names: string[], now: number): string {
  const n = s.nodes[self]!;
  const out: string[] = [];
  for (const res of names) {
    const r = n.resources[res]!;
    const c = Object.values(r.conns)[0];
    // 8.4 has one peer, node id 0, named "peer" while it has a net configuration (not StandAlone).
    const cn = c && c.connect ? " conn-name:peer" : "";
    const p = c && peerOf(s, self, res, c);
    out.push(`exists resource name:${res} role:${r.role} suspended:no`);
    if (c) out.push(`exists connection name:${res} peer-node-id:0${cn} connection:${connState(c)} role:${p ? p.res.role : "Unknown"}`);
    for (const vol of volKeys(r)) out.push(`exists device name:${res} volume:${vol} minor:${r.volumes[vol]!.minor} disk:${diskState(n, res, vol)}`);
    if (c) {
      for (const vol of volKeys(r)) {
        const pv = peerVol(s, self, res, c, vol, now);
        // (8.4's events2 has no resync progress field; sh-status and status have it)
        out.push(`exists peer-device name:${res} peer-node-id:0${cn} volume:${vol} replication:${pv.replication} peer-disk:${pv.peerDisk} resync-suspended:no`);
      }
    }
  }
  out.push("exists -");
  return `${out.join("\n")}\n`;
}

/** `drbdsetup status [RES]` as printed to a pipe (not a tty): client:/peer-client: shown for Diskless. */
export function status(s: SimState, self: string, which: string, now: number): string {
  const n = s.nodes[self];
  const names = Object.keys(n?.resources ?? {}).sort().filter((r) => which === "all" || r === which);
  if (!names.length) return "# No currently configured DRBD found.\n";
  let out = "";
  for (const res of names) {
    const r = n!.resources[res]!;
    out += `${res} role:${r.role}\n`;
    const vols = volKeys(r);
    const single = vols.length === 1 && vols[0] === "0";
    const q = hasQuorum(s, self, res);
    // wrap_printf: a line starts at its indent, items are separated by one space.
    for (const vol of vols) {
      const d = diskState(n!, res, vol);
      const parts = single ? [] : [`volume:${vol}`];
      parts.push(`disk:${d}`);
      if (d === "Diskless") parts.push(`client:${r.volumes[vol]!.client ? "yes" : "no"}`);
      if (!q) parts.push("quorum:no");
      out += `  ${parts.join(" ")}\n`;
    }
    const v84 = n!.kernel.startsWith("8.");
    for (const c of Object.values(r.conns).sort((a, b) => a.name.localeCompare(b.name))) {
      const cs = connState(c);
      const p = peerOf(s, self, res, c);
      // 8.4: one connection called "peer", not listed at all while StandAlone (no net config)
      if (v84 && cs === "StandAlone") continue;
      out += `  ${v84 ? "peer" : c.name}${cs !== "Connected" ? ` connection:${cs}` : ` role:${p ? p.res.role : "Unknown"}`}\n`;
      if (cs !== "Connected") continue;
      for (const vol of vols) {
        const pv = peerVol(s, self, res, c, vol, now);
        const parts = single ? [] : [`volume:${vol}`];
        // 8.4's drbdsetup prints the replication state whenever connected
        if (pv.replication !== "Established" || v84) parts.push(`replication:${pv.replication}`);
        parts.push(`peer-disk:${pv.peerDisk}`);
        if (pv.peerDisk === "Diskless") parts.push(`peer-client:${pv.peerClient ? "yes" : "no"}`);
        if (pv.done !== undefined) parts.push(`done:${pv.done.toFixed(2)}`);
        out += `    ${parts.join(" ")}\n`;
      }
    }
    out += "\n";
  }
  return out;
}

const CS84: Record<string, string> = { StandAlone: "StandAlone", Connecting: "WFConnection", Connected: "Connected" };

/** `drbdsetup sh-status [RES]` of drbdsetup-84: one block per volume. */
export function shStatus(s: SimState, self: string, which: string, now: number): string {
  const n = s.nodes[self];
  let out = "";
  for (const res of Object.keys(n?.resources ?? {}).sort().filter((r) => which === "all" || r === which)) {
    const r = n!.resources[res]!;
    const c = Object.values(r.conns)[0];
    const p = c && peerOf(s, self, res, c);
    for (const vol of volKeys(r)) {
      const v = r.volumes[vol]!;
      const pv = c ? peerVol(s, self, res, c, vol, now) : undefined;
      let cs = c ? CS84[connState(c)]! : "StandAlone";
      if (pv && (pv.replication === "SyncSource" || pv.replication === "SyncTarget")) cs = pv.replication;
      const pct = pv?.done !== undefined ? (() => {
        const t = Math.floor(pv.done * 10);
        return `${Math.floor(t / 10)}.${t % 10}`;
      })() : "";
      out +=
        `_minor=${v.minor}\n_res_name=${res}\n_volume=${vol}\n_known=Configured\n\n` +
        `_cstate=${cs}\n_role=${r.role}\n_peer=${p ? p.res.role : "Unknown"}\n_disk=${diskState(n!, res, vol)}\n_pdsk=${pv ? pv.peerDisk : "DUnknown"}\n\n` +
        `_flags_susp=\n_flags_aftr_isp=\n_flags_peer_isp=\n_flags_user_isp=\n\n_resynced_percent=${pct}\n` +
        `\n_sh_status_process\n\n\n`;
    }
  }
  return out;
}

/** `drbdadm --version` (DRBD_KERNEL_VERSION_CODE=0x000000 when the module is not loaded). */
export function admVersion(n: SimNode | undefined): string {
  const k = n?.loaded ? n.kernel : undefined;
  const code = k
    ? `0x${k
        .split(".")
        .slice(0, 3)
        .map((x) => Number(x).toString(16).padStart(2, "0"))
        .join("")}`
    : "0x000000";
  return [
    "DRBDADM_BUILDTAG=GIT-hash:\\ 409097fe02187f83790b88ac3e0d94f3c167adab\\ reproducible\\ build\\,\\ 2023-01-09\\ 14:51:18",
    `DRBDADM_API_VERSION=${k?.startsWith("8.") ? 1 : 2}`,
    `DRBD_KERNEL_VERSION_CODE=${code}`,
    `DRBD_KERNEL_VERSION=${k ?? 0}`,
    "DRBDADM_VERSION_CODE=0x091600",
    "DRBDADM_VERSION=9.22.0",
    "",
  ].join("\n");
}

export { md };
