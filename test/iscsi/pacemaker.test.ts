// The iSCSI agents under Pacemaker's own tools: crm_resource --validate, pcs -f creating the
// the published two-node DRBD + iSCSI layout (DRBD promotable + target + LUN + VIP, constraints) checked with crm_simulate,
// and ocf-tester with implementation=tgt against a real tgtd.
import t from "tap";
import { join } from "node:path";
import { installAgents, sh } from "../lib/install.js";
import { scratchDir } from "../lib/harness.js";
import { TgtRig } from "./rig.js";

installAgents(["iSCSITarget", "iSCSILogicalUnit"]);
const tmp = scratchDir("tsi-pcmk");
t.teardown(() => sh("rm", ["-rf", tmp]));

// the published two-node DRBD + iSCSI how-to: names and values as the article has them
const IQN = "iqn.2003-01.org.linux-iscsi.pcmk-1.x8664:sn.56c2d5f061b1";

t.test("crm_resource --validate: good and bad, both agents", async (t) => {
  const v = (agent: string, opts: string[]) => sh("crm_resource", ["--validate", "--class", "ocf", "--provider", "tsstor", "--agent", agent, ...opts.flatMap((o) => ["--option", o]), "--output-as=xml"]);
  let r = v("iSCSITarget", [`iqn=${IQN}`, "portals=0.0.0.0:3260"]);
  t.equal(r.code, 0, r.out);
  r = v("iSCSITarget", [`iqn=${IQN}`, "implementation=lio-t", "allowed_initiators=iqn.1993-08.org.debian:01:a", "incoming_username=u", "incoming_password=p4ssword-x"]);
  t.equal(r.code, 0, r.out);
  r = v("iSCSITarget", ["iqn=storage01"]);
  t.equal(r.code, 6);
  t.match(r.stdout, /reason="parameter iqn must be an iSCSI name/);
  r = v("iSCSITarget", [`iqn=${IQN}`, "implementation=iet"]);
  t.equal(r.code, 6);
  t.match(r.stdout, /implementation iet is not supported/);
  r = v("iSCSILogicalUnit", [`target_iqn=${IQN}`, "lun=1", "path=/dev/drbd1"]);
  t.equal(r.code, 0, r.out);
  r = v("iSCSILogicalUnit", [`target_iqn=${IQN}`, "lun=1", "path=/dev/drbd1", "liot_bstype=iblock"]);
  t.equal(r.code, 6);
  t.match(r.stdout, /parameter liot_bstype must be one of block, fileio, pscsi/);
  r = v("iSCSILogicalUnit", [`target_iqn=${IQN}`, "path=/dev/drbd1"]);
  t.equal(r.code, 6);
  t.match(r.stdout, /parameter lun is required/);
});

t.test("pcs -f: the published two-node DRBD + iSCSI layout (DRBD + target + LU + VIP) with ocf:tsstor iSCSI agents; crm_simulate places it", async (t) => {
  const cib = join(tmp, "cib.xml");
  sh("bash", ["-c", `cibadmin --empty > ${cib}`]);
  const pcs = (...a: string[]) => {
    const r = sh("pcs", ["-f", cib, ...a]);
    t.equal(r.code, 0, `pcs ${a.join(" ")}: ${r.out}`);
    return r;
  };
  pcs("property", "set", "stonith-enabled=false"); // the article runs without fencing
  pcs("resource", "create", "p_DRBD", "ocf:linbit:drbd", "drbd_resource=iscsi_data", "op", "monitor", "interval=29s", "role=Promoted", "op", "monitor", "interval=31s", "role=Unpromoted");
  pcs("resource", "promotable", "p_DRBD", "promoted-max=1", "promoted-node-max=1", "clone-max=2", "clone-node-max=1", "notify=true");
  pcs("resource", "create", "p_iSCSITarget", "ocf:tsstor:iSCSITarget", `iqn=${IQN}`, "portals=0.0.0.0:3260", "op", "monitor", "interval=10s");
  pcs("resource", "create", "p_iSCSI_lun1", "ocf:tsstor:iSCSILogicalUnit", `target_iqn=${IQN}`, "lun=1", "path=/dev/drbd1", "op", "monitor", "interval=10s");
  pcs("resource", "create", "ClusterIP", "ocf:heartbeat:IPaddr2", "ip=192.168.23.100", "cidr_netmask=24", "op", "monitor", "interval=30s");
  pcs("constraint", "colocation", "add", "p_iSCSITarget", "with", "Promoted", "p_DRBD-clone");
  pcs("constraint", "order", "promote", "p_DRBD-clone", "then", "start", "p_iSCSITarget");
  pcs("constraint", "colocation", "add", "p_iSCSI_lun1", "with", "p_iSCSITarget", "INFINITY");
  pcs("constraint", "order", "p_iSCSITarget", "then", "p_iSCSI_lun1");
  pcs("constraint", "colocation", "add", "ClusterIP", "with", "p_iSCSI_lun1", "INFINITY");
  pcs("constraint", "order", "p_iSCSI_lun1", "then", "ClusterIP");
  t.match(pcs("resource", "config", "p_iSCSITarget").stdout, /class=ocf provider=tsstor type=iSCSITarget/);
  t.match(pcs("resource", "config", "p_iSCSI_lun1").stdout, /lun=1[\s\S]*path=\/dev\/drbd1/);

  // pcs checks our metadata: unknown options are refused, upstream's accepted
  const bad = sh("pcs", ["-f", cib, "resource", "create", "p_bad", "ocf:tsstor:iSCSILogicalUnit", `target_iqn=${IQN}`, "lun=2", "path=/dev/drbd2", "backing_store=/dev/x"]);
  t.not(bad.code, 0);
  t.match(bad.stderr, /invalid resource option 'backing_store'/);
  const upstreamNames = sh("pcs", ["-f", cib, "resource", "create", "p_lun2", "ocf:tsstor:iSCSILogicalUnit", `target_iqn=${IQN}`, "lun=2", "path=/dev/drbd2", "lio_iblock=1", "liot_bstype=block", "tgt_bstype=rdwr", "scsi_sn=abcd0002", "--disabled"]);
  t.equal(upstreamNames.code, 0, `every upstream parameter name is accepted: ${upstreamNames.out}`);
  const dupSn = sh("pcs", ["-f", cib, "resource", "create", "p_lun3", "ocf:tsstor:iSCSILogicalUnit", `target_iqn=${IQN}`, "lun=3", "path=/dev/drbd3", "scsi_sn=abcd0002", "--disabled"]);
  t.not(dupSn.code, 0, "scsi_sn is unique (pcs refuses a duplicate without --force)");

  // the scheduler: two nodes up, DRBD promoted on pcmk-1 -> target, LUN, VIP there, in order
  const out1 = join(tmp, "out1.xml");
  let sim = sh("crm_simulate", ["-x", cib, "-S", "-q", "1", "-u", "pcmk-1", "-u", "pcmk-2", "-O", out1]);
  t.equal(sim.code, 0, sim.out);
  sh("crm_attribute", ["-N", "pcmk-1", "-n", "master-p_DRBD", "-v", "100", "-l", "reboot"], { CIB_file: out1 });
  sh("crm_attribute", ["-N", "pcmk-2", "-n", "master-p_DRBD", "-v", "10", "-l", "reboot"], { CIB_file: out1 });
  const out2 = join(tmp, "out2.xml");
  const dot = join(tmp, "graph.dot");
  sim = sh("crm_simulate", ["-x", out1, "-S", "-O", out2, "-D", dot]);
  t.equal(sim.code, 0, sim.out);
  t.match(sim.stdout, /Promote\s+p_DRBD:\d+\s+\(\s*Unpromoted -> Promoted pcmk-1\s*\)/);
  t.match(sim.stdout, /Start\s+p_iSCSITarget\s+\(\s*pcmk-1\s*\)/);
  t.match(sim.stdout, /Start\s+p_iSCSI_lun1\s+\(\s*pcmk-1\s*\)/);
  t.match(sim.stdout, /Start\s+ClusterIP\s+\(\s*pcmk-1\s*\)/);
  const graph = sh("cat", [dot]).stdout;
  t.match(graph, /"p_DRBD[^"]*promote[^"]*" -> "p_iSCSITarget_start_0 pcmk-1"/, "target after the promotion");
  t.match(graph, /"p_iSCSITarget_start_0 pcmk-1" -> "p_iSCSI_lun1_start_0 pcmk-1"/, "LUN after the target");
  t.match(graph, /"p_iSCSI_lun1_start_0 pcmk-1" -> "ClusterIP_start_0 pcmk-1"/, "VIP after the LUN");
  // failover: pcmk-1 fails, everything moves to pcmk-2 (promotion score there)
  const fail = sh("crm_simulate", ["-x", out2, "-S", "--node-fail", "pcmk-1"]);
  t.match(fail.stdout, /Start\s+p_iSCSITarget\s+\(\s*pcmk-2\s*\)|Move\s+p_iSCSITarget\s+\(\s*pcmk-1 -> pcmk-2\s*\)/);
  t.match(fail.stdout, /Start\s+p_iSCSI_lun1\s+\(\s*pcmk-2\s*\)|Move\s+p_iSCSI_lun1\s+\(\s*pcmk-1 -> pcmk-2\s*\)/);
});

t.test("ocf-tester passes for both agents with implementation=tgt (a real tgtd)", async (t) => {
  const rig = new TgtRig("oc");
  t.teardown(() => rig.destroy());
  const env = { TGT_IPC_SOCKET: rig.socket, HA_RSCTMP: rig.rscTmp };
  const tester = (name: string, agent: string, opts: string[]) => sh("ocf-tester", ["-n", name, ...opts.flatMap((o) => ["-o", o]), `/usr/lib/ocf/resource.d/tsstor/${agent}`], env);
  const iqn = "iqn.2026-01.org.tsstor.test:ocftester";
  let r = tester("p_target", "iSCSITarget", ["implementation=tgt", `iqn=${iqn}`, "allowed_initiators=iqn.1993-08.org.debian:01:a", "incoming_username=alice", "incoming_password=ocf-tester-pw"]);
  t.equal(r.code, 0, r.out);
  t.match(r.out, /passed all tests/);
  // the LU needs its target up: create it with the agent, as the cluster orders it
  const start = rig.agent("iSCSITarget", "start", { params: { implementation: "tgt", iqn } });
  t.equal(start.code, 0, start.stderr);
  const img = join(rig.dir, "ocf.img");
  sh("truncate", ["-s", "16M", img]);
  r = tester("p_lun1", "iSCSILogicalUnit", ["implementation=tgt", `target_iqn=${iqn}`, "lun=1", `path=${img}`, "product_id=ocf-tester"]);
  t.equal(r.code, 0, r.out);
  t.match(r.out, /passed all tests/);
  t.equal(rig.agent("iSCSITarget", "stop", { params: { implementation: "tgt", iqn } }).code, 0);
});
