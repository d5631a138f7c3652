// Live: the iSCSI stack from `tsstor stack iscsi` on the real 2-node rig, tgtd on every node,
// a client namespace writing and reading checksummed blocks through the virtual IP with
// qemu-io (libiscsi), a hard kill of the active node, the client resuming on the survivor, and
// every acknowledged write read back. Two variants: a shared SAN LUN (--no-drbd, closed with an
// initiator list, CHAP and mutual CHAP: a foreign initiator and a wrong secret are refused through
// the VIP, before and after the failover) and DRBD (the
// DRBD simulator: this kernel has no DRBD). Agents not yet built in this checkout are replaced by
// the upstream ones (same parameters), and the test says which.
import t from "tap";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startRig, where, type Rig } from "../rig/rig.js";
import { backingFile, clientToolsMissing, hardKillFailover, rigIscsiOptions, waitDeployed, IscsiClient, INITIATOR, IQN, type ClientLogin } from "../rig/iscsi.js";
import { drbdSimAvailable, rigDrbd } from "../rig/drbd.js";
import { iscsiStack, type Plan } from "../../cli/stacks.js";
import { BUILD, scratchDir } from "../lib/harness.js";
import { installAgents } from "../lib/install.js";
import { builtAgents, planAgents, withStandIns } from "../stack/agents.js";

const missingTools = await clientToolsMissing();
const built = builtAgents();
interface Tap {
  comment(...m: any[]): any;
  equal(a: any, b: any, ...rest: any[]): boolean;
}

/** Apply the stack: with every agent ours, through `tsstor stack iscsi --apply` on a node. */
async function deploy(t: Tap, rig: Rig, full: Plan, cliArgs: string[]): Promise<Plan> {
  const { plan, replaced } = withStandIns(full, built);
  installAgents(planAgents(plan));
  if (replaced.length) {
    t.comment(`ocf:tsstor:{${replaced.join(",")}} not built in this checkout: the upstream agents stand in`);
    await rig.applyPcs(plan.commands);
  } else {
    const r = await rig.anyUp().run(join(BUILD, "tsstor"), ["stack", "iscsi", ...cliArgs, "--apply", "--quiet"], { timeoutMs: 180_000 });
    if (!t.equal(r.code, 0, "tsstor stack iscsi --apply on n1")) throw new Error(r.out);
  }
  return plan;
}

function scratch(name: string): string {
  const dir = scratchDir(name);
  spawnSync("chmod", ["755", dir]);
  return dir;
}

const common = (rig: Rig, backing: string) => ["--iqn", IQN, "--lun", `1:${backing}`, "--ip", `${rig.vip()}/24`, "--implementation", "tgt", "--tid", "1", "--initiator", INITIATOR, "--fencing", "none"]; // the rig is unfenced

t.test("iscsi --no-drbd (shared LUN) with CHAP and mutual CHAP: strangers refused, hard kill of the active node", { skip: missingTools ?? false }, async (t) => {
  const dir = scratch("live-san");
  const backing = backingFile(dir);
  // secret files as an operator makes them: root only, the secret on the first line, the same
  // path on every node (the rig's nodes share this filesystem); the client keeps its own copy
  const secret = (name: string, text: string) => {
    const f = join(dir, name);
    writeFileSync(f, text, { mode: 0o600 });
    return f;
  };
  const SECRET = "rig-chap-9f3a71c2";
  const MUTUAL = "rig-target-5d0e88b4";
  const chap = { user: "client", file: secret("chap.secret", `${SECRET}\n`) };
  const mutualChap = { user: "target", file: secret("chap-mutual.secret", `${MUTUAL}\n`) };
  const login = { chap: { user: "client", secretFile: secret("client.chap", SECRET) } };
  const rig = await startRig({ nodes: 2, clients: 1, boot: [["tgtd", "-f"]], log: (m) => t.comment(m) });
  t.teardown(() => rig.stop());
  const args = ["--no-drbd", ...common(rig, backing), "--chap-user", chap.user, "--chap-secret-file", chap.file, "--mutual-chap-user", mutualChap.user, "--mutual-chap-secret-file", mutualChap.file];
  const plan = await deploy(t, rig, iscsiStack(rigIscsiOptions(rig, { backing, chap, mutualChap }), { method: "none" }), args);
  const d = { ...(await waitDeployed(rig, plan)), login };
  const s = await rig.status();
  t.same(where(s, "iscsi-target"), [d.active]);
  t.same(where(s, "iscsi-lun1"), [d.active], "LU with its target");

  // through the VIP, before any data: who gets in
  const as = (l: ClientLogin) => new IscsiClient(rig, d.vip, d.lun, 0, l).probe();
  const allowed = await as(login);
  t.ok(allowed.ok, `the allowed initiator with the right secret logs in: ${allowed.out}`);
  const stranger = await as({ ...login, initiator: "iqn.2024-01.org.example.attacker:laptop" });
  t.notOk(stranger.ok, "an initiator not in the list is refused, even with the right secret");
  // tgt answers a name outside the ACL as if the target did not exist
  t.match(stranger.out, /Status: (Target not found|Authorization failure)/, `foreign initiator: ${stranger.out.split("\n")[0]}`);
  const wrong = await as({ chap: { user: "client", secretFile: secret("wrong.chap", "rig-chap-guessed!") } });
  t.notOk(wrong.ok, "the allowed initiator with a wrong secret is refused");
  t.match(wrong.out, /Status: Authentication failure/, `wrong secret: ${wrong.out.split("\n")[0]}`);
  t.notOk((await as({})).ok, "the allowed initiator without CHAP is refused");
  // mutual CHAP: the initiator checks the target's answer (libiscsi takes both from its environment)
  const inq = (targetSecret: string) =>
    rig.client(0).run("iscsi-inq", ["-i", INITIATOR, `iscsi://${d.vip}/${IQN}/${d.lun}`], {
      timeoutMs: 15_000,
      env: { LIBISCSI_CHAP_USERNAME: "client", LIBISCSI_CHAP_PASSWORD: SECRET, LIBISCSI_CHAP_TARGET_USERNAME: "target", LIBISCSI_CHAP_TARGET_PASSWORD: targetSecret },
    });
  t.equal((await inq(MUTUAL)).code, 0, "mutual CHAP: the target proves it knows its own secret");
  const impostor = await inq("what-an-impostor-would-expect");
  t.not(impostor.code, 0, "an initiator expecting another target secret refuses the target");
  t.match(impostor.out, /Invalid CHAP_R response from the target/);

  const res = await hardKillFailover(rig, d, { log: (m) => t.comment(m) });
  t.equal(res.verify.ok, true, `every acknowledged write reads back (${res.acked.length} blocks)\n${res.verify.ok ? "" : res.verify.out}`);
  t.ok(res.acked.some((b) => b >= 16), "writes landed during/after the failover");
  t.match(res.serialBefore, /^[0-9a-f]{8}$/, "a unit serial before the kill");
  t.equal(res.serialAfter, res.serialBefore, "the survivor exports the same LU identity (VPD 0x80 serial)");
  const after = await rig.status(res.survivor);
  for (const r of ["iscsi-target", "iscsi-lun1", "iscsi-ip1"]) t.same(where(after, r), [res.survivor], `${r} on the survivor`);
  t.notOk((await as({ ...login, initiator: "iqn.2024-01.org.example.attacker:laptop" })).ok, "the survivor refuses the foreign initiator too");
  t.notOk((await as({ chap: { user: "client", secretFile: join(dir, "wrong.chap") } })).ok, "and the wrong secret");
  t.comment(`failover (hard kill -> first verified read through the VIP, CHAP login): ${res.failoverMs} ms; unacknowledged writes during it: ${res.unacked.length}`);
});

t.test("iscsi with DRBD (simulated): hard kill of the Primary, the survivor promotes and serves", { skip: missingTools ?? (built.includes("drbd") && drbdSimAvailable() ? false : "ocf:tsstor:drbd or its simulator (test/drbd/sim.ts) not in this checkout yet") }, async (t) => {
  const backing = backingFile(scratch("live-drbd"));
  const drbd = await rigDrbd();
  const rig = await startRig({ nodes: 2, clients: 1, boot: [["tgtd", "-f"]], env: drbd.env, log: (m) => t.comment(m) });
  t.teardown(() => rig.stop());
  const full = iscsiStack(rigIscsiOptions(rig, { backing, drbdResource: drbd.res, drbdconf: drbd.sim.conf }), { method: "none" });
  const plan = await deploy(t, rig, full, ["--drbd-resource", drbd.res, "--drbdconf", drbd.sim.conf, ...common(rig, backing)]);
  const d = await waitDeployed(rig, plan);
  let s = await rig.status();
  t.same(where(s, "iscsi-drbd-clone", "Promoted"), [d.active], "target where DRBD is Primary");
  t.equal(where(s, "iscsi-drbd-clone", "Unpromoted").length, 1, "the peer is Unpromoted");
  const res = await hardKillFailover(rig, d, { log: (m) => t.comment(m), onKill: drbd.crash });
  t.equal(res.verify.ok, true, `every acknowledged write reads back (${res.acked.length} blocks)\n${res.verify.ok ? "" : res.verify.out}`);
  t.equal(res.serialAfter, res.serialBefore, "same LU identity on the survivor");
  s = await rig.status(res.survivor);
  t.same(where(s, "iscsi-drbd-clone", "Promoted"), [res.survivor], "the survivor was promoted");
  for (const r of ["iscsi-target", "iscsi-lun1", "iscsi-ip1"]) t.same(where(s, r), [res.survivor], `${r} on the survivor`);
  t.comment(`failover with DRBD promotion: ${res.failoverMs} ms`);
  drbd.boot(res.killed);
  await rig.restart(res.killed);
  await rig.waitResource("iscsi-drbd-clone", { role: "Unpromoted", node: res.killed, timeoutMs: 60_000 });
  s = await rig.status();
  t.same(where(s, "iscsi-drbd-clone", "Promoted"), [res.survivor], "the returning node rejoins Unpromoted: no move back");
  t.same(s.failures, [], "no failed operations");
});
