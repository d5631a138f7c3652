// The one-command demo: a real 2-node Pacemaker + Corosync cluster in namespaces on this
// machine, the iSCSI stack deployed with the `tsstor stack iscsi` script, a client reading and
// writing through the virtual IP, a hard kill of the active node, the failover and its time,
// and a teardown that leaves nothing behind (also on Ctrl-C).
//
//   bun cli/demo.ts        builds what is missing first (npm run demo)
//   tsstor demo            from a build
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync, chmodSync, readlinkSync, mkdirSync, symlinkSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startRig, where, type Rig } from "../test/rig/rig.js";
import { backingFile, hardKillFailover, IscsiClient, rigIscsiOptions, waitDeployed, INITIATOR, IQN } from "../test/rig/iscsi.js";
import { withStandIns, planAgents } from "../test/stack/agents.js";
import { drbdSimAvailable, rigDrbd, type RigDrbd } from "../test/rig/drbd.js";
import { iscsiStack } from "./stacks.js";
import { renderScript } from "./pcs.js";

/** The checkout: beside build/tsstor when compiled, else two levels above this file. */
export function repoRoot(): string {
  if (process.env.TSSTOR_ROOT) return process.env.TSSTOR_ROOT;
  if (/\/build\/tsstor$/.test(process.execPath)) return dirname(dirname(process.execPath));
  return resolve(dirname(fileURLToPath(import.meta.url)), "..");
}

const RA_DIR = "/usr/lib/ocf/resource.d/tsstor";
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);

export interface DemoOpts {
  build?: boolean;
  /** the shared-LUN variant even when the DRBD agent is built */
  noDrbd?: boolean;
  out?: (s: string) => void;
}

export async function runDemo(o: DemoOpts = {}): Promise<number> {
  const out = o.out ?? ((s: string) => process.stdout.write(`${s}\n`));
  const root = repoRoot();
  const t0 = Date.now();
  const steps = 8;
  let n = 0;
  const step = (s: string) => out(`\n${bold(`[${++n}/${steps}] ${s}`)} ${dim(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`)}`);
  const info = (s: string) => out(`      ${s}`);
  const indent = (s: string) => s.trimEnd().split("\n").map((l) => `      ${dim("|")} ${l}`).join("\n");

  step("Checking this machine");
  if (process.getuid?.() !== 0) {
    out("tsstor demo: needs root (network and mount namespaces, /usr/lib/ocf links)");
    return 1;
  }
  const need: Array<[string, string]> = [["corosync", "corosync"], ["pacemakerd", "pacemaker"], ["pcs", "pcs"], ["crm_mon", "pacemaker-cli-utils"], ["tgtd", "tgt"], ["qemu-io", "qemu-utils qemu-block-extra"], ["iscsi-inq", "libiscsi-bin"], ["arping", "iputils-arping"], ["unshare", "util-linux"]];
  const missing = need.filter(([c]) => spawnSync("sh", ["-c", `command -v ${c}`]).status !== 0);
  if (missing.length) {
    out(`missing: ${missing.map(([c]) => c).join(", ")}\ninstall: apt-get install -y ${[...new Set(missing.flatMap(([, p]) => p.split(" ")))].join(" ")}`);
    return 1;
  }
  if (o.build || !existsSync(join(root, "build/tsstor-agents"))) {
    info("building the agents (npm run build)...");
    const b = spawnSync("bash", [join(root, "scripts/build.sh")], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
    if (b.status !== 0) return 1;
  }
  const built = spawnSync(join(root, "build/tsstor-agents"), ["--list"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  info(`agents built: ${built.join(" ") || "none"}`);
  const fakes = spawnSync(join(root, "build/test/fakes/tsstor-fakes"), [], { encoding: "utf8" }).stdout ?? "";
  // the DRBD simulator is part of the test fakes binary (it lists its tool names)
  const useDrbd = !o.noDrbd && built.includes("drbd") && fakes.includes("drbdadm") && drbdSimAvailable();

  const work = mkdtempSync(join(tmpdir(), "tsstor-demo-"));
  chmodSync(work, 0o755);
  const linked: string[] = [];
  const cleanup = () => {
    for (const l of linked) rmSync(join(RA_DIR, l), { force: true });
    linked.length = 0;
    rmSync(work, { recursive: true, force: true });
  };
  process.on("exit", cleanup);
  let rig: Rig | undefined;
  try {
    step("Starting a 2-node Pacemaker + Corosync cluster in namespaces");
    info("node = netns + mount/UTS/PID namespaces; corosync knet (token 1000 ms), pacemakerd; tgtd at boot");
    let drbd: RigDrbd | undefined;
    if (useDrbd) {
      drbd = await rigDrbd();
      info(`DRBD ${drbd.res}: simulated (this kernel has no DRBD module): drbdadm/drbdsetup of the DRBD simulator on the nodes' PATH`);
    }
    // fenced: the rig's fence device (fence_tsstor_rig) powers nodes off through the rig's power switch
    const d0 = drbd;
    rig = await startRig({ nodes: 2, clients: 1, boot: [["tgtd", "-f"]], env: drbd?.env, log: info, fencing: d0 ? { onPowerOff: (n) => d0.crash(n), onPowerOn: (n) => d0.boot(n) } : true });
    info(`nodes ${rig.nodes.map((x) => `${x.name}=${x.addr()}`).join(" ")}, client ${rig.client(0).addr}, virtual IP ${rig.vip()}`);

    step("Generating the iSCSI stack script (tsstor stack iscsi)");
    // the LUN's data: one file both nodes open (a SAN LUN, or what protocol C DRBD keeps identical)
    const backing = backingFile(work);
    // the rig set up its fence device itself: the stack keeps the cluster's fencing as it is
    const full = iscsiStack(rigIscsiOptions(rig, drbd ? { backing, drbdResource: drbd.res, drbdconf: drbd.sim.conf } : { backing }), { method: "none" });
    const { plan, replaced } = withStandIns(full, built);
    if (replaced.length) info(`ocf:tsstor:{${replaced.join(",")}} not built yet: the upstream agents stand in (same parameters)`);
    for (const a of planAgents(plan)) {
      const p = join(RA_DIR, a);
      let prior: string | undefined;
      try {
        prior = readlinkSync(p);
      } catch {
        /* none */
      }
      const front = join(root, "build/agents", a); // the agent's sh front, as the package installs it
      if (prior === front) continue;
      mkdirSync(RA_DIR, { recursive: true });
      const tmp = `${p}.demo${process.pid}`;
      symlinkSync(front, tmp);
      renameSync(tmp, p);
      if (prior === undefined) linked.push(a);
    }
    const argv = ["stack", "iscsi", ...(drbd ? ["--drbd-resource", drbd.res, "--drbdconf", drbd.sim.conf] : ["--no-drbd"]), "--iqn", IQN, "--lun", `1:${backing}`, "--ip", `${rig.vip()}/24`, "--implementation", "tgt", "--tid", "1", "--initiator", INITIATOR, "--fencing", "none"];
    const script = renderScript(plan, argv);
    const scriptFile = join(work, "iscsi-stack.sh");
    writeFileSync(scriptFile, script);
    out(indent(script));

    step("Deploying it: bash iscsi-stack.sh on n1 (pcs cluster cib -> pcs -f -> one cib-push)");
    const r = await rig.node("n1").run("bash", [scriptFile], { timeoutMs: 180_000 });
    if (r.code !== 0) throw new Error(`the stack script failed:\n${r.out}`);
    const d = await waitDeployed(rig, plan);
    info(`target, LUN and VIP started on ${d.active}`);
    out(indent((await rig.pcs(["status"])).stdout.replace(/\nDaemon Status:[\s\S]*$/, "")));

    step("Writing and reading through the virtual IP from the client (qemu-io over libiscsi)");
    const c = new IscsiClient(rig, d.vip, d.lun);
    const blocks = Array.from({ length: 16 }, (_, i) => i);
    if (!(await c.write(blocks))) throw new Error(`writes through ${d.vip} failed`);
    const v = await c.verify(blocks);
    info(`wrote 16 x 64 KiB blocks (each its own byte pattern) and read them back: ${v.ok ? "all correct" : "FAILED"}`);
    info(`LU unit serial (VPD 0x80): ${await c.serial()}`);

    step(`Hard-killing the active node ${d.active} (SIGKILL to its whole PID namespace, cables unplugged)`);
    const res = await hardKillFailover(rig, d, { log: info, onKill: drbd?.crash });

    step("After the failover");
    info(`LU unit serial from ${res.survivor}: ${res.serialAfter} (${res.serialAfter === res.serialBefore ? "same disk" : "DIFFERENT"})`);
    const s = await rig.status(res.survivor);
    info(`${drbd ? `DRBD Promoted on ${where(s, "iscsi-drbd-clone", "Promoted").join(",")}, ` : ""}target on ${where(s, "iscsi-target").join(",")}, LUN on ${where(s, "iscsi-lun1").join(",")}, VIP on ${where(s, "iscsi-ip1").join(",")}`);
    out(indent((await rig.pcs(["status"], { on: res.survivor })).stdout.replace(/\nDaemon Status:[\s\S]*$/, "")));
    out(`\n      ${bold(`failover time: ${(res.failoverMs / 1000).toFixed(2)} s`)} from the hard kill to the first verified read through ${d.vip}`);
    out(`      ${bold(`${res.acked.length} acknowledged writes read back: ${res.verify.ok ? "all correct" : `FAILED (${res.verify.failed.join(",")})`}`)}`);
    for (const e of rig.fenceEvents().filter((x) => x.plug === res.killed))
      out(`      ${bold(`fencing: ${e.from} had ${e.plug} powered ${e.action} (stonith device rig-fence, fence_tsstor_rig) before taking over`)}`);

    step("Tearing everything down");
    await rig.stop();
    rig = undefined;
    cleanup();
    info(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s; no namespaces, daemons or files left`);
    out("\nThe rig fenced the dead node through its own fence device (a power switch for the namespaces), so the stack was generated with --fencing none, which keeps the cluster's fencing as it is. On real nodes: --fencing sbd, watchdog or agent (docs/stacks.md).");
    return res.verify.ok && res.serialAfter === res.serialBefore ? 0 : 1;
  } catch (e) {
    out(`\ntsstor demo failed: ${(e as Error).message}`);
    if (rig) out(indent(rig.tail("n1", "pacemaker.log", 15)));
    return 1;
  } finally {
    if (rig) await rig.stop();
    cleanup();
  }
}

const invoked = process.argv[1] ?? "";
if (/demo\.(ts|js)$/.test(invoked)) {
  process.exitCode = await runDemo({ build: process.argv.includes("--build"), noDrbd: process.argv.includes("--no-drbd") });
}
