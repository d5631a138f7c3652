// Parsers of drbd-utils output into the one DRBD state model (lib/drbd/state.ts).
import t from "tap";
import { describeState, parseEvents2, parseProcDrbd, parseShStatus, parseVersionString, versionCode } from "../../lib/drbd/state.js";
import { parseLocate } from "../../lib/cluster/crm-resource.js";
import * as S from "./samples.js";

t.test("events2: a published DRBD 9 sample (during the first sync)", async (t) => {
  const st = parseEvents2(S.SEED_EVENTS2, "iscsi_data");
  t.same(st, {
    resource: "iscsi_data",
    configured: true,
    role: "Primary",
    suspended: "no",
    mayPromote: false,
    promotionScore: 10101,
    source: "events2",
    complete: true,
    volumes: [{ volume: 0, minor: 1, disk: "UpToDate", client: false, quorum: true, backingDev: "/dev/vdb" }],
    connections: [
      {
        peerNodeId: 1,
        name: "pcmk-2",
        connection: "Connected",
        peerRole: "Secondary",
        peerDevices: [{ volume: 0, replication: "SyncSource", peerDisk: "Inconsistent", peerClient: false, done: 72.16 }],
      },
    ],
  });
  t.equal(describeState(st), "Primary disk:UpToDate peers pcmk-2:Connected/Secondary SyncSource Inconsistent 72.16%");
});

t.test("events2: a live stream is read up to 'exists -' only; output cut short is marked", async (t) => {
  t.same(parseEvents2(S.SEED_EVENTS2_STREAM, "iscsi_data"), parseEvents2(S.SEED_EVENTS2, "iscsi_data"));
  t.notOk(parseEvents2(S.SEED_EVENTS2.slice(0, 200), "iscsi_data").complete, "no 'exists -': incomplete");
  t.notOk(parseShStatus(S.SH_STATUS_84_PRIMARY.slice(0, 100), "r0").complete);
});

t.test("events2: three nodes, two volumes, diskless client peer, lost quorum", async (t) => {
  const st = parseEvents2(S.EVENTS2_3NODE, "r1");
  t.equal(st.role, "Secondary");
  t.same(st.volumes.map((v) => [v.volume, v.minor, v.disk, v.quorum]), [
    [0, 20, "UpToDate", true],
    [1, 21, "Outdated", false],
  ]);
  t.same(st.connections.map((c) => [c.name, c.peerNodeId, c.connection, c.peerRole, c.peerDevices.length]), [
    ["b", 1, "Connecting", "Unknown", 2],
    ["c", 2, "Connected", "Secondary", 2],
  ]);
  t.ok(st.connections[1]!.peerDevices.every((p) => p.peerClient && p.peerDisk === "Diskless"));
});

t.test("events2: only the named resource; unknown fields (open:) ignored; local diskless client", async (t) => {
  const st = parseEvents2(S.EVENTS2_CLIENT, "r2");
  t.equal(st.role, "Primary");
  t.same(st.volumes, [{ volume: 0, minor: 30, disk: "Diskless", client: true, quorum: true, backingDev: "none" }]);
  t.equal(st.connections.length, 1);
  t.equal(parseEvents2(S.EVENTS2_CLIENT, "other").volumes[0]!.minor, 5);
});

t.test("events2: unknown resource and empty output mean not configured", async (t) => {
  for (const text of [S.EVENTS2_EMPTY, "", S.SEED_EVENTS2]) {
    const st = parseEvents2(text, "nope");
    t.equal(st.configured, false);
    t.equal(st.role, "Unconfigured");
    t.same(st.volumes, []);
  }
  t.equal(describeState(parseEvents2("", "x")), "unconfigured");
});

t.test("sh-status (8.4): Primary, connected", async (t) => {
  const st = parseShStatus(S.SH_STATUS_84_PRIMARY, "r0");
  t.same(st, {
    resource: "r0",
    configured: true,
    role: "Primary",
    source: "sh-status",
    complete: true,
    volumes: [{ volume: 0, minor: 1, disk: "UpToDate", client: false, quorum: true }],
    connections: [
      {
        name: "peer",
        connection: "Connected",
        peerRole: "Secondary",
        peerDevices: [{ volume: 0, replication: "Established", peerDisk: "UpToDate", peerClient: false }],
      },
    ],
  });
});

t.test("sh-status (8.4): two volumes, one SyncTarget with progress", async (t) => {
  const st = parseShStatus(S.SH_STATUS_84_SYNC, "r0");
  t.equal(st.role, "Secondary");
  t.same(st.volumes.map((v) => [v.volume, v.minor, v.disk]), [
    [0, 1, "UpToDate"],
    [1, 2, "Inconsistent"],
  ]);
  const c = st.connections[0]!;
  t.equal(c.peerRole, "Primary");
  t.same(c.peerDevices.map((p) => [p.replication, p.peerDisk, p.done]), [
    ["Established", "UpToDate", undefined],
    ["SyncTarget", "UpToDate", 36.4],
  ]);
});

t.test("sh-status (8.4): disconnected, unconfigured, empty, other resource", async (t) => {
  const w = parseShStatus(S.SH_STATUS_84_WFC, "r0");
  t.equal(w.connections[0]!.connection, "Connecting");
  t.equal(w.connections[0]!.peerRole, "Unknown");
  t.equal(w.connections[0]!.peerDevices[0]!.peerDisk, "DUnknown");
  t.equal(w.connections[0]!.peerDevices[0]!.replication, "Off");
  const u = parseShStatus(S.SH_STATUS_84_UNCONFIGURED, "r0");
  t.equal(u.configured, false);
  t.same(u.volumes, []);
  t.equal(parseShStatus("", "r0").configured, false);
  t.equal(parseShStatus(S.SH_STATUS_84_PRIMARY, "r9").configured, false);
  const sa = parseShStatus(S.SH_STATUS_84_PRIMARY.replace("_cstate=Connected", "_cstate=StandAlone"), "r0");
  t.equal(sa.connections[0]!.connection, "StandAlone");
});

t.test("/proc/drbd version lines and version codes", async (t) => {
  t.same(parseProcDrbd(S.PROC_DRBD_9), { major: 9, minor: 2, patch: 12, text: "9.2.12" });
  t.same(parseProcDrbd(S.PROC_DRBD_84), { major: 8, minor: 4, patch: 11, text: "8.4.11" });
  t.equal(parseProcDrbd(""), undefined);
  t.equal(parseProcDrbd("garbage\n"), undefined);
  t.equal(versionCode({ major: 8, minor: 4, patch: 11 }), 0x08040b, "as drbdadm's DRBD_KERNEL_VERSION_CODE");
  t.equal(parseVersionString("9.0.16"), 0x090010);
  t.equal(parseVersionString("9.0"), undefined);
  t.equal(parseVersionString("9.0.x"), undefined);
});

t.test("crm_resource --locate text (Pacemaker 2.1 'Promoted', older 'Master')", async (t) => {
  const text = "resource p_drbd is running on: alpha Promoted\nresource p_drbd is running on: beta\n";
  t.same(parseLocate(text), [
    { node: "alpha", promoted: true },
    { node: "beta", promoted: false },
  ]);
  t.same(parseLocate("resource p_drbd is running on: n1 Master\n"), [{ node: "n1", promoted: true }]);
  t.same(parseLocate("resource p_drbd is NOT running\n"), []);
});
