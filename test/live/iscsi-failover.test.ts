// Live: the iSCSI stack from `tsstor stack iscsi` on the real 2-node rig, tgtd on every node,
// a client namespace writing and reading checksummed blocks through the virtual IP with
// qemu-io (libiscsi), a hard kill of the active node, the client resuming on the survivor, and
// every acknowledged write read back. Agents not yet built in this checkout are replaced by the
// upstream ones (same parameters), and the test says which.
import t from "tap";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { startRig, where } from "../rig/rig.js";
import { backingFile, clientToolsMissing, hardKillFailover, rigIscsiOptions, waitDeployed } from "../rig/iscsi.js";
import { iscsiStack } from "../../cli/stacks.js";
import { BUILD, scratchDir } from "../lib/harness.js";
import { installAgents } from "../lib/install.js";
import { builtAgents, planAgents, withStandIns } from "../stack/agents.js";

const missingTools = await clientToolsMissing();
const built = builtAgents();

t.test("iscsi --no-drbd (shared LUN): hard kill of the active node", { skip: missingTools ?? false }, async (t) => {
  const dir = scratchDir("live-san");
  spawnSync("chmod", ["755", dir]);
  const backing = backingFile(dir);
  const rig = await startRig({ nodes: 2, clients: 1, boot: [["tgtd", "-f"]], log: (m) => t.comment(m) });
  t.teardown(() => rig.stop());
  const full = iscsiStack(rigIscsiOptions(rig, { backing }));
  const { plan, replaced } = withStandIns(full, built);
  installAgents(planAgents(plan));
  if (replaced.length) {
    t.comment(`ocf:tsstor:{${replaced.join(",")}} not built in this checkout: the upstream agents stand in`);
    await rig.applyPcs(plan.commands);
  } else {
    // the real path: the CLI applies its own stack on a cluster node
    const args = ["stack", "iscsi", "--no-drbd", "--iqn", full.commands[0]![4]!.slice(4), "--lun", `1:${backing}`, "--ip", `${rig.vip()}/24`, "--implementation", "tgt", "--tid", "1", "--initiator", "iqn.2024-01.org.example.tsstor:client", "--apply", "--quiet"];
    const r = await rig.anyUp().run(join(BUILD, "tsstor"), args, { timeoutMs: 120_000 });
    t.equal(r.code, 0, r.out);
  }
  const d = await waitDeployed(rig, plan);
  const s = await rig.status();
  t.same(where(s, "iscsi-target"), [d.active]);
  t.same(where(s, "iscsi-lun1"), [d.active], "LU with its target");
  const res = await hardKillFailover(rig, d, { log: (m) => t.comment(m) });
  t.equal(res.verify.ok, true, `every acknowledged write reads back (${res.acked.length} blocks)\n${res.verify.ok ? "" : res.verify.out}`);
  t.ok(res.acked.some((b) => b >= 16), "writes landed during/after the failover");
  t.match(res.serialBefore, /^[0-9a-f]{8}$/, "a unit serial before the kill");
  t.equal(res.serialAfter, res.serialBefore, "the survivor exports the same LU identity (VPD 0x80 serial)");
  const after = await rig.status(res.survivor);
  for (const r of ["iscsi-target", "iscsi-lun1", "iscsi-ip1"]) t.same(where(after, r), [res.survivor], `${r} on the survivor`);
  t.comment(`failover (hard kill -> first verified read through the VIP): ${res.failoverMs} ms; unacknowledged writes during it: ${res.unacked.length}`);
});
