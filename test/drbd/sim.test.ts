// The DRBD simulator itself: byte-exact output (a published events2 sample reproduced from the
// same article's configuration), DRBD's refusals and exit codes, resync, split brain, crash, quorum,
// DRBD 8.4 output, drbdadm's configuration errors.
import t from "tap";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeSim } from "./sim.js";
import { SEED_EVENTS2 } from "./samples.js";
import { parseEvents2, parseShStatus } from "../../lib/drbd/state.js";

t.test("the published configuration and first sync give the published events2 output, byte for byte", async (t) => {
  const sim = makeSim({ nodes: ["pcmk-1", "pcmk-2"], md: "none" });
  // the resource file as the published article writes it (with the resource name it uses later)
  writeFileSync(
    sim.conf,
    `resource "iscsi_data" {
  device minor 1;
  meta-disk internal;

  net {
    protocol C;
    fencing resource-only;
  }
  handlers {
    fence-peer "/usr/lib/drbd/crm-fence-peer.9.sh";
    unfence-peer "/usr/lib/drbd/crm-unfence-peer.9.sh";
  }
  on "pcmk-1" {
    node-id 0;
    disk "/dev/vdb";
  }
  on "pcmk-2" {
    node-id 1;
    disk "/dev/vdb";
  }
  connection {
    host "pcmk-1" address 10.192.6.74:7789;
    host "pcmk-2" address 10.192.6.75:7789;
  }
}
`,
  );
  const adm = (n: string, ...a: string[]) => sim.tool(n, "drbdadm", ["-c", sim.conf, ...a]);
  for (const n of ["pcmk-1", "pcmk-2"]) {
    const r = adm(n, "create-md", "iscsi_data");
    t.equal(r.code, 0);
    t.match(r.stdout, /New drbd meta data block successfully created\./);
    t.equal(adm(n, "up", "iscsi_data").code, 0, `up on ${n}`);
  }
  t.equal(
    sim.tool("pcmk-1", "drbdadm", ["-c", sim.conf, "status", "iscsi_data"]).stdout,
    "iscsi_data role:Secondary\n  disk:Inconsistent\n  pcmk-2 role:Secondary\n    peer-disk:Inconsistent\n\n",
    "status as in the article: both Inconsistent",
  );
  sim.ctl("sync-ms", "3600000");
  t.equal(adm("pcmk-1", "primary", "--force", "iscsi_data").code, 0);
  sim.ctl("sync-freeze", "72.16");
  t.equal(sim.tool("pcmk-1", "drbdsetup", ["events2", "--now", "iscsi_data"]).stdout, SEED_EVENTS2);
  t.equal(
    sim.tool("pcmk-1", "drbdadm", ["-c", sim.conf, "status", "iscsi_data"]).stdout,
    "iscsi_data role:Primary\n  disk:UpToDate\n  pcmk-2 role:Secondary\n    replication:SyncSource peer-disk:Inconsistent done:72.16\n\n",
  );
  t.equal(
    sim.tool("pcmk-2", "drbdsetup", ["status", "iscsi_data"]).stdout,
    "iscsi_data role:Secondary\n  disk:Inconsistent\n  pcmk-1 role:Primary\n    replication:SyncTarget peer-disk:UpToDate done:72.16\n\n",
  );
  sim.ctl("finish-sync");
  const after = sim.tool("pcmk-1", "drbdsetup", ["events2", "--now", "iscsi_data"]).stdout;
  t.match(after, /promotion_score:10102\n/, "two UpToDate replicas, as the published change event");
  t.match(after, /replication:Established peer-disk:UpToDate peer-client:no resync-suspended:no\n/);
  t.equal(sim.tool("pcmk-1", "drbdadm", ["-c", sim.conf, "status"]).stdout, "iscsi_data role:Primary\n  disk:UpToDate\n  pcmk-2 role:Secondary\n    peer-disk:UpToDate\n\n");
});

t.test("exit codes: 17 without UpToDate data, 11 held open or two primaries, 10 unknown resource", async (t) => {
  const sim = makeSim({ md: "Inconsistent 0" });
  const adm = (n: string, ...a: string[]) => sim.tool(n, "drbdadm", ["-c", sim.conf, ...a]);
  t.equal(adm("alpha", "up", "r0").code, 0);
  const p = adm("alpha", "primary", "r0");
  t.equal(p.code, 17);
  t.equal(p.stderr, "r0: State change failed: (-2) Need access to UpToDate data\nCommand 'drbdsetup primary r0' terminated with exit code 17\n");
  t.equal(sim.tool("alpha", "drbdsetup", ["primary", "r0"]).code, 17, "drbdsetup directly");
  t.equal(adm("alpha", "primary", "--force", "r0").code, 0, "--force makes the data the truth");
  t.equal(adm("beta", "up", "r0").code, 0);
  const two = adm("beta", "primary", "r0");
  t.equal(two.code, 11);
  t.match(two.stderr, /State change failed: \(-1\) Multiple primaries not allowed by config/);
  sim.ctl("hold-open", "alpha", "r0", "on");
  const s = adm("alpha", "secondary", "r0");
  t.equal(s.code, 11);
  t.equal(s.stderr, "r0: State change failed: (-12) Device is held open by someone\nCommand 'drbdsetup secondary r0' terminated with exit code 11\n");
  t.equal(adm("alpha", "down", "r0").code, 11, "down refused too");
  sim.ctl("hold-open", "alpha", "r0", "off");
  t.equal(adm("alpha", "secondary", "r0").code, 0);
  t.equal(adm("alpha", "down", "r0").code, 0);
  t.equal(adm("alpha", "down", "r0").code, 0, "down of what is down: 0");
  const u = sim.tool("alpha", "drbdsetup", ["primary", "r0"]);
  t.equal(u.code, 10);
  t.equal(u.stderr, "r0: Failure: (158) Unknown resource\n");
  t.equal(sim.tool("alpha", "drbdsetup", ["events2", "--now", "r0"]).stdout, "exists -\n", "events2 of an unknown resource");
});

t.test("attach without meta data fails (10); module not loaded: 20, teardown commands 0", async (t) => {
  const sim = makeSim({ md: "none" });
  const r = sim.tool("alpha", "drbdadm", ["-c", sim.conf, "up", "r0"]);
  t.equal(r.code, 10);
  t.match(r.stderr, /Failure: \(119\) No valid meta-data signature found/);
  t.match(r.stderr, /Command 'drbdsetup attach 10 /);
  sim.tool("alpha", "drbdadm", ["-c", sim.conf, "down", "r0"]);
  sim.ctl("unload", "alpha");
  const e = sim.tool("alpha", "drbdsetup", ["events2", "--now", "r0"]);
  t.equal(e.code, 20);
  t.equal(e.stderr, "Could not connect to 'drbd' generic netlink family\n");
  t.equal(sim.tool("alpha", "drbdsetup", ["down", "r0"]).code, 0);
  t.equal(sim.tool("alpha", "drbdsetup", ["secondary", "r0"]).code, 0);
  t.match(sim.tool("alpha", "drbdadm", ["-c", sim.conf, "--version"]).stdout, /DRBD_KERNEL_VERSION_CODE=0x000000\nDRBD_KERNEL_VERSION=0\n/);
  sim.ctl("load", "alpha");
  t.match(sim.tool("alpha", "drbdadm", ["--version"]).stdout, /DRBD_KERNEL_VERSION_CODE=0x09020c\nDRBD_KERNEL_VERSION=9.2.12\n/);
});

t.test("an Outdated node resyncs from the newer one; a crashed peer disappears", async (t) => {
  const sim = makeSim();
  const adm = (n: string, ...a: string[]) => sim.tool(n, "drbdadm", ["-c", sim.conf, ...a]);
  adm("alpha", "up", "r0");
  adm("beta", "up", "r0");
  adm("alpha", "primary", "r0");
  const st = (n: string) => parseEvents2(sim.tool(n, "drbdsetup", ["events2", "--now", "r0"]).stdout, "r0");
  t.equal(st("beta").connections[0]!.peerRole, "Primary");
  sim.ctl("cut", "alpha", "beta");
  t.equal(st("beta").connections[0]!.connection, "Connecting");
  t.equal(st("beta").connections[0]!.peerDevices[0]!.peerDisk, "DUnknown");
  // beta is outdated (as a fence-peer handler would do), alpha writes on.
  adm("beta", "disconnect", "r0");
  t.equal(adm("beta", "outdate", "r0").code, 0);
  t.equal(st("beta").volumes[0]!.disk, "Outdated");
  t.equal(adm("beta", "primary", "r0").code, 17, "Outdated and alone: no promotion");
  sim.ctl("sync-ms", "3600000");
  sim.ctl("heal", "alpha", "beta");
  adm("beta", "adjust", "r0");
  const b = st("beta");
  t.equal(b.volumes[0]!.disk, "Inconsistent");
  t.same([b.connections[0]!.peerDevices[0]!.replication, b.connections[0]!.peerDevices[0]!.peerDisk], ["SyncTarget", "UpToDate"]);
  t.equal(st("alpha").connections[0]!.peerDevices[0]!.replication, "SyncSource");
  sim.ctl("finish-sync");
  t.equal(st("beta").volumes[0]!.disk, "UpToDate");
  sim.ctl("crash", "alpha");
  t.equal(st("alpha").configured, false, "the crashed node has nothing up (and no module)");
  const b2 = st("beta");
  t.same([b2.connections[0]!.connection, b2.connections[0]!.peerRole, b2.volumes[0]!.disk], ["Connecting", "Unknown", "UpToDate"]);
  t.equal(adm("beta", "primary", "r0").code, 0, "the survivor with UpToDate data can be promoted");
});

t.test("split brain: both Primary while partitioned, then StandAlone on both", async (t) => {
  const sim = makeSim();
  const adm = (n: string, ...a: string[]) => sim.tool(n, "drbdadm", ["-c", sim.conf, ...a]);
  adm("alpha", "up", "r0");
  adm("beta", "up", "r0");
  adm("alpha", "primary", "r0");
  sim.ctl("cut", "alpha", "beta");
  t.equal(adm("beta", "primary", "r0").code, 0, "without fencing nothing stops the second Primary");
  sim.ctl("heal", "alpha", "beta");
  for (const n of ["alpha", "beta"]) {
    const c = parseEvents2(sim.tool(n, "drbdsetup", ["events2", "--now", "r0"]).stdout, "r0").connections[0]!;
    t.equal(c.connection, "StandAlone", `${n} refuses the connection`);
  }
});

t.test("quorum majority on two nodes: lost with the peer", async (t) => {
  const sim = makeSim({ extra: "  options { quorum majority; on-no-quorum io-error; }" });
  const adm = (n: string, ...a: string[]) => sim.tool(n, "drbdadm", ["-c", sim.conf, ...a]);
  adm("alpha", "up", "r0");
  const e = sim.tool("alpha", "drbdsetup", ["events2", "--now", "r0"]).stdout;
  t.match(e, /disk:UpToDate client:no quorum:no\n/);
  t.match(e, /may_promote:no promotion_score:0\n/);
  t.match(adm("alpha", "primary", "r0").stderr, /\(-25\) No quorum/);
  adm("beta", "up", "r0");
  t.match(sim.tool("alpha", "drbdsetup", ["events2", "--now", "r0"]).stdout, /quorum:yes\n/);
  t.match(sim.tool("alpha", "drbdsetup", ["status", "r0"]).stdout, /^r0 role:Secondary\n {2}disk:UpToDate\n/);
});

t.test("DRBD 8.4: sh-status and /proc/drbd", async (t) => {
  const sim = makeSim({ kernel: "8.4.11" });
  const adm = (n: string, ...a: string[]) => sim.tool(n, "drbdadm", ["-c", sim.conf, ...a]);
  adm("alpha", "up", "r0");
  adm("beta", "up", "r0");
  adm("alpha", "primary", "r0");
  const sh = sim.tool("alpha", "drbdsetup", ["sh-status", "r0"]);
  t.equal(sh.code, 0);
  t.equal(
    sh.stdout,
    "_minor=10\n_res_name=r0\n_volume=0\n_known=Configured\n\n_cstate=Connected\n_role=Primary\n_peer=Secondary\n_disk=UpToDate\n_pdsk=UpToDate\n\n_flags_susp=\n_flags_aftr_isp=\n_flags_peer_isp=\n_flags_user_isp=\n\n_resynced_percent=\n\n_sh_status_process\n\n\n",
  );
  t.equal(parseShStatus(sh.stdout, "r0").role, "Primary");
  t.equal(
    sim.tool("alpha", "drbdsetup", ["events2", "--now", "r0"]).stdout,
    "exists resource name:r0 role:Primary suspended:no\nexists connection name:r0 peer-node-id:0 conn-name:peer connection:Connected role:Secondary\nexists device name:r0 volume:0 minor:10 disk:UpToDate\nexists peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 replication:Established peer-disk:UpToDate resync-suspended:no\nexists -\n",
    "8.4's events2 fields (as recorded in the lab)",
  );
  t.equal(sim.tool("alpha", "drbdsetup", ["status", "r0"]).stdout, "r0 role:Primary\n  disk:UpToDate\n  peer role:Secondary\n    replication:Established peer-disk:UpToDate\n\n");
  const { readFileSync } = await import("node:fs");
  t.equal(
    readFileSync(join(sim.dir, "proc", "alpha", "drbd"), "utf8"),
    "version: 8.4.11 (api:1/proto:86-101)\nsrcversion: 0123456789ABCDEF0123456 \n 10: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0\n",
  );
  t.match(adm("alpha", "--version").stdout, /DRBD_KERNEL_VERSION_CODE=0x08040b\nDRBD_KERNEL_VERSION=8.4.11\n/);
});

t.test("drbdadm: configuration errors as the real drbdadm 9.22 reports them", async (t) => {
  const sim = makeSim();
  const nf = sim.tool("alpha", "drbdadm", ["-c", sim.conf, "sh-dev", "nope"]);
  t.same([nf.code, nf.stderr], [1, "'nope' not defined in your config (for this host).\n"]);
  const nh = sim.tool("gamma", "drbdadm", ["-c", sim.conf, "sh-dev", "r0"]);
  t.equal(nh.code, 1, "a host without an `on` section");
  const missing = sim.tool("alpha", "drbdadm", ["-c", "/nonexistent/drbd.conf", "sh-dev", "r0"]);
  t.same([missing.code, missing.stderr], [20, "Can not open '/nonexistent/drbd.conf'.\n.\n"]);
  const bad = join(sim.dir, "bad.conf");
  writeFileSync(bad, "resource r0 {\n  net { protocol C }\n}\n");
  t.equal(sim.tool("alpha", "drbdadm", ["-c", bad, "sh-dev", "r0"]).code, 10, "syntax error");
  t.equal(sim.tool("alpha", "drbdadm", ["-c", sim.conf, "sh-dev", "r0"]).stdout, `${sim.dev(10)}\n`);
  writeFileSync(join(sim.dir, "main.conf"), `include "${sim.dir}/*.res";\n`);
  writeFileSync(join(sim.dir, "r0.res"), `resource r7 { device /dev/drbd7; disk /dev/x; meta-disk internal; on alpha { address 10.232.0.1:7000; } on beta { address 10.232.0.2:7000; } }\n`);
  t.equal(sim.tool("alpha", "drbdadm", ["-c", join(sim.dir, "main.conf"), "sh-dev", "r7"]).stdout, "/dev/drbd7\n", "include globs, device path without minor");
  const two = join(sim.dir, "two.conf");
  writeFileSync(two, "resource r2 {\n net { allow-two-primaries yes; }\n device minor 2; disk /dev/x; meta-disk internal;\n on alpha { address 10.232.0.1:7002; }\n on beta { address 10.232.0.2:7002; }\n}\n");
  t.match(sim.tool("alpha", "drbdadm", ["-c", two, "-d", "-v", "dump", "r2"]).stdout, /^\s*allow-two-primaries\s+yes;$/m, "dump shows allow-two-primaries as ocf:linbit:drbd greps it");
});
