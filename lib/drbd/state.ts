// DRBD state, one typed model for DRBD 9 and 8.4, parsed from what drbd-utils print:
//   DRBD 9:   `drbdsetup events2 --now RES`  (lines "exists <object> key:value ...", ending "exists -")
//   DRBD 8.4: `drbdsetup sh-status RES`      (shell assignments per volume, ending "_sh_status_process")
//   both:     /proc/drbd first line          ("version: 9.2.12 (api:2/proto:86-122)")
// Formats as printed by drbd-utils 9.22 (user/v9/drbdsetup.c print_notifications, user/v84/drbdsetup.c
// sh_status_scmd) and the kernel's initial-state order: resource, connections, devices, peer
// devices, paths. Pure functions: unit-tested on recorded samples in test/drbd/.

export interface DrbdVolume {
  volume: number;
  minor: number;
  /** local disk state: UpToDate, Consistent, Outdated, Inconsistent, Diskless, Attaching, ... */
  disk: string;
  /** intentionally diskless (DRBD 9 "client:yes") */
  client: boolean;
  /** DRBD 9 per-device quorum; always true on 8.4 */
  quorum: boolean;
  backingDev?: string;
}

export interface DrbdPeerDevice {
  volume: number;
  /** Established, SyncSource, SyncTarget, Off, ... (DRBD 9 names; 8.4 "Connected" maps to Established) */
  replication: string;
  /** UpToDate, ..., DUnknown when not connected */
  peerDisk: string;
  peerClient: boolean;
  /** resync progress in percent, while syncing */
  done?: number;
}

export interface DrbdConnection {
  peerNodeId?: number;
  /** conn-name (DRBD 9: the peer's host name); "peer" on 8.4, which has exactly one */
  name: string;
  /** Connected, Connecting, StandAlone, Disconnecting, ... */
  connection: string;
  /** Primary, Secondary, Unknown (not connected) */
  peerRole: string;
  peerDevices: DrbdPeerDevice[];
}

export interface DrbdState {
  resource: string;
  /** the kernel knows the resource (it is "up" at least partly) */
  configured: boolean;
  role: "Primary" | "Secondary" | "Unconfigured";
  volumes: DrbdVolume[];
  connections: DrbdConnection[];
  /** DRBD 9 only, from the resource line */
  suspended?: string;
  mayPromote?: boolean;
  promotionScore?: number;
  source: "events2" | "sh-status" | "none";
  /** the output ended as it should ("exists -", "_sh_status_process"): not cut short */
  complete?: boolean;
}

export function unconfigured(resource: string, source: DrbdState["source"] = "none"): DrbdState {
  return { resource, configured: false, role: "Unconfigured", volumes: [], connections: [], source };
}

export interface KernelVersion {
  major: number;
  minor: number;
  patch: number;
  text: string;
}

/** `version: 9.2.12 (api:2/proto:86-122)` from /proc/drbd; undefined when unreadable. */
export function parseProcDrbd(text: string): KernelVersion | undefined {
  const m = /^version:\s*(\d+)\.(\d+)\.(\d+)\S*/m.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text: m[0].slice("version:".length).trim() };
}

/** x.y.z as one comparable number, as drbdadm's DRBD_KERNEL_VERSION_CODE. */
export function versionCode(v: { major: number; minor: number; patch: number }): number {
  return (v.major << 16) | (v.minor << 8) | v.patch;
}

/** "x.y.z" -> code, undefined if malformed. */
export function parseVersionString(s: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(s);
  return m ? versionCode({ major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) }) : undefined;
}

function fields(words: string[]): Map<string, string> {
  const f = new Map<string, string>();
  for (const w of words) {
    const i = w.indexOf(":");
    if (i > 0) f.set(w.slice(0, i), w.slice(i + 1));
  }
  return f;
}

const int = (v: string | undefined, dflt = -1) => (v !== undefined && /^-?\d+$/.test(v) ? Number(v) : dflt);

/**
 * `drbdsetup events2 --now [RES]`: only "exists" lines of the named resource, up to "exists -".
 * Unknown objects and fields are ignored, so newer drbd-utils (open:, force-io-failures:) parse too.
 */
export function parseEvents2(text: string, resource: string): DrbdState {
  const st = unconfigured(resource, "events2");
  const conns = new Map<string, DrbdConnection>();
  const connKey = (f: Map<string, string>) => f.get("conn-name") ?? f.get("peer-node-id") ?? "?";
  for (const line of text.split("\n")) {
    const words = line.trim().split(/\s+/);
    if (words[0] !== "exists") continue;
    if (words[1] === "-") {
      st.complete = true;
      break;
    }
    const f = fields(words.slice(2));
    if (f.get("name") !== resource) continue;
    switch (words[1]) {
      case "resource": {
        const role = f.get("role");
        st.configured = true;
        st.role = role === "Primary" ? "Primary" : "Secondary";
        if (f.has("suspended")) st.suspended = f.get("suspended");
        if (f.has("may_promote")) st.mayPromote = f.get("may_promote") === "yes";
        if (f.has("promotion_score")) st.promotionScore = int(f.get("promotion_score"), 0);
        break;
      }
      case "connection": {
        const c: DrbdConnection = {
          peerNodeId: f.has("peer-node-id") ? int(f.get("peer-node-id")) : undefined,
          name: f.get("conn-name") ?? f.get("peer-node-id") ?? "?",
          connection: f.get("connection") ?? "Unknown",
          peerRole: f.get("role") ?? "Unknown",
          peerDevices: [],
        };
        conns.set(connKey(f), c);
        st.connections.push(c);
        break;
      }
      case "device":
        st.volumes.push({
          volume: int(f.get("volume"), 0),
          minor: int(f.get("minor")),
          disk: f.get("disk") ?? "DUnknown",
          client: f.get("client") === "yes",
          quorum: f.get("quorum") !== "no",
          backingDev: f.get("backing_dev"),
        });
        break;
      case "peer-device": {
        const c = conns.get(connKey(f));
        if (!c) break;
        const done = f.get("done");
        c.peerDevices.push({
          volume: int(f.get("volume"), 0),
          replication: f.get("replication") ?? "Off",
          peerDisk: f.get("peer-disk") ?? "DUnknown",
          peerClient: f.get("peer-client") === "yes",
          ...(done !== undefined && Number.isFinite(Number(done)) ? { done: Number(done) } : {}),
        });
        break;
      }
    }
  }
  // A "resource" line can be missing for an object list that names it (never seen; be safe).
  if (!st.configured && (st.volumes.length || st.connections.length)) {
    st.configured = true;
    st.role = "Secondary";
  }
  return st;
}

/** Undo drbdsetup's shell_escape() for the few characters resource names may carry. */
function shellUnescape(v: string): string {
  if (v.startsWith("'") && v.endsWith("'") && v.length >= 2) return v.slice(1, -1).replace(/'\\''/g, "'");
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) return v.slice(1, -1).replace(/\\(.)/g, "$1");
  return v.replace(/\\(.)/g, "$1");
}

// DRBD 8.4 connection states that mean "connected" (replication established or in progress).
const CONNECTED_84 = new Set([
  "Connected", "StartingSyncS", "StartingSyncT", "WFBitMapS", "WFBitMapT", "WFSyncUUID",
  "SyncSource", "SyncTarget", "VerifyS", "VerifyT", "PausedSyncS", "PausedSyncT", "Ahead", "Behind",
]);

/**
 * `drbdsetup sh-status RES` (DRBD 8.4): one block per volume. Mapped onto the DRBD 9 model with
 * exactly one connection ("peer"), as ocf:linbit:drbd's sh-status path sees it: volume roles
 * aggregated (any Primary -> Primary), peer disk DUnknown when not known.
 */
export function parseShStatus(text: string, resource: string): DrbdState {
  const st = unconfigured(resource, "sh-status");
  const blocks: Array<Map<string, string>> = [];
  let cur = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "_sh_status_process") {
      st.complete = true;
      blocks.push(cur);
      cur = new Map();
      continue;
    }
    const m = /^(_[a-z_]+)=(.*)$/.exec(line);
    if (m) cur.set(m[1]!, m[2]!.replace(/\s+#.*$/, ""));
  }
  const roles: string[] = [];
  const peerRoles: string[] = [];
  const conn: DrbdConnection = { name: "peer", connection: "Unconfigured", peerRole: "Unknown", peerDevices: [] };
  let cstate0: string | undefined;
  for (const b of blocks) {
    const name = b.has("_res_name") ? shellUnescape(b.get("_res_name")!) : resource;
    if (name !== resource) continue;
    let volume = int(b.get("_volume"), 0);
    if (volume < 0) volume = 1 << 16; // "not yet created volumes are reported as -1"
    const role = b.get("_role") || "Unconfigured";
    const cstate = b.get("_cstate") || "Unconfigured";
    const disk = b.get("_disk") || "Unconfigured";
    const pdsk = b.get("_pdsk") || "DUnknown";
    roles.push(role);
    peerRoles.push(b.get("_peer") || "Unknown");
    cstate0 ??= cstate;
    st.volumes.push({ volume, minor: int(b.get("_minor")), disk, client: false, quorum: true });
    const pct = b.get("_resynced_percent");
    conn.peerDevices.push({
      volume,
      replication: cstate === "Connected" ? "Established" : CONNECTED_84.has(cstate) ? cstate : "Off",
      peerDisk: pdsk,
      peerClient: false,
      ...(pct && Number.isFinite(Number(pct)) ? { done: Number(pct) } : {}),
    });
  }
  if (roles.some((r) => r === "Primary")) st.role = "Primary";
  else if (roles.some((r) => r === "Secondary")) st.role = "Secondary";
  st.configured = st.role !== "Unconfigured";
  if (!st.configured) {
    st.volumes = [];
    return st;
  }
  conn.peerRole = peerRoles.includes("Primary") ? "Primary" : peerRoles.includes("Secondary") ? "Secondary" : "Unknown";
  const c = cstate0 ?? "Unconfigured";
  conn.connection = CONNECTED_84.has(c) ? "Connected" : c === "StandAlone" || c === "Unconfigured" ? "StandAlone" : "Connecting";
  st.connections.push(conn);
  return st;
}

/** One line for logs: "Secondary disk:UpToDate peer beta:Connected/Primary peer-disk:UpToDate". */
export function describeState(s: DrbdState): string {
  if (!s.configured) return "unconfigured";
  const disks = s.volumes.map((v) => `${s.volumes.length > 1 ? `${v.volume}:` : ""}${v.client ? "client" : v.disk}${v.quorum ? "" : "(no quorum)"}`).join(",");
  const peers = s.connections
    .map((c) => `${c.name}:${c.connection}/${c.peerRole} ${c.peerDevices.map((p) => `${p.replication === "Established" || p.replication === "Off" ? "" : `${p.replication} `}${p.peerDisk}${p.done !== undefined ? ` ${p.done}%` : ""}`).join(",")}`)
    .join("; ");
  return `${s.role} disk:${disks}${peers ? ` peers ${peers}` : ""}`;
}
