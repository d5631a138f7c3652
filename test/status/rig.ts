// The cluster `tsstor status` is tested on: the real 2-node rig (test/rig) with tgtd on every
// node and ocf:tsstor:drbd over the DRBD simulator (this kernel has no DRBD), running the iSCSI
// stack as `tsstor stack iscsi --drbd-resource r0 --drbdconf SIM` writes it (with short DRBD
// monitor intervals), the target preferring n1 so the expected outputs are stable, and a
// client namespace holding an iSCSI session open through the virtual IP.
import type { ChildProcess } from "node:child_process";
import { chmodSync, rmSync } from "node:fs";
import { join } from "node:path";
import { iscsiStack } from "../../cli/stacks.js";
import { makeSim, type Sim } from "../drbd/sim.js";
import { BUILD, scratchDir } from "../lib/harness.js";
import { installAgents } from "../lib/install.js";
import { backingFile, INITIATOR, IQN, rigIscsiOptions } from "../rig/iscsi.js";
import { startRig, where, type Rig } from "../rig/rig.js";
import type { Platform } from "../rig/platform.js";
import { sleep } from "../rig/exec.js";

export const CLI = join(BUILD, "tsstor");
export const AGENTS = ["drbd", "iSCSITarget", "iSCSILogicalUnit", "IPaddr2"];

export interface StatusRig {
  rig: Rig;
  /** scratch directory (the LUN's backing file, graphs); removed by stop() */
  dir: string;
  sim: Sim;
  backing: string;
  /** tsstor status ARGS on a node (inside all its namespaces, with the node's environment) */
  status(node: string, args?: string[], env?: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }>;
  /** start an iSCSI session from the client (kept open until stopped) */
  login(): Promise<ChildProcess>;
  stop(): Promise<void>;
}

export async function startStatusRig(log: (m: string) => void, platform?: Platform): Promise<StatusRig> {
  installAgents(AGENTS);
  const sim = makeSim({ nodes: ["n1", "n2"], minor: 41, shims: false, prefix: "status-drbd" });
  const dir = scratchDir("status-rig");
  chmodSync(dir, 0o755);
  const backing = backingFile(dir);
  const rig = await startRig({
    nodes: 2,
    clients: 1,
    boot: [["tgtd", "-f"]],
    log,
    platform,
    env: (n) => ({ PATH: `${sim.bin}:/usr/sbin:/usr/bin:/sbin:/bin`, TSSTOR_DRBD_SIM_DIR: sim.dir, TSSTOR_PROC_ROOT: join(sim.dir, "proc", n) }),
  });
  try {
    const plan = iscsiStack(rigIscsiOptions(rig, { backing, drbdResource: "r0", drbdconf: sim.conf }), { method: "none" });
    const cmds = plan.commands.map((c) => {
      if (c[3] !== "ocf:tsstor:drbd") return c;
      // DRBD monitors often enough for the test's pace
      return c.flatMap((w) => (w.startsWith("drbd_resource=") ? [w, "wfc_timeout=2"] : w === "interval=29s" ? ["interval=3s"] : w === "interval=31s" ? ["interval=4s"] : [w]));
    });
    await rig.applyPcs([...cmds, ["constraint", "location", "iscsi-target", "prefers", "n1=100"]]);
    await rig.waitResource("iscsi-ip1", { node: "n1", timeoutMs: 120_000 });
    await rig.waitResource("iscsi-drbd-clone", { role: "Unpromoted", node: "n2", timeoutMs: 60_000 });
  } catch (e) {
    await rig.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const sessions = new Set<ChildProcess>();
  return {
    rig,
    dir,
    sim,
    backing,
    status: async (node, args = [], env = {}) => rig.node(node).run(CLI, ["status", ...args], { timeoutMs: 60_000, env }),
    login: async () => {
      const opts = `driver=iscsi,transport=tcp,portal=${rig.vip()}:3260,target=${IQN},lun=1,initiator-name=${INITIATOR},timeout=5`;
      const p = rig.spawnClient(0, "qemu-io", ["--image-opts", opts, "-c", "read 0 4096", "-c", "sleep 3600000"]);
      sessions.add(p);
      // logged in once tgtd lists the initiator's I_T nexus (qemu-io's own output is buffered)
      let show = "";
      for (let i = 0; i < 200; i++) {
        show = (await rig.node("n1").run("tgtadm", ["--lld", "iscsi", "--mode", "target", "--op", "show"])).stdout;
        if (show.includes(`Initiator: ${INITIATOR}`)) break;
        await sleep(100);
      }
      if (!show.includes(`Initiator: ${INITIATOR}`)) throw new Error(`no iSCSI session through ${rig.vip()}:\n${show}`);
      return p;
    },
    stop: async () => {
      for (const p of sessions) p.kill("SIGKILL");
      await rig.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Make timings, temporary paths and the DC (elected, either node) comparable. */
export function normText(s: string, backing: string): string {
  return s
    .split(backing)
    .join("<backing>")
    .replace(/\((\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4})\)/g, "(<time>)")
    .replace(/at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/g, "at <time>")
    .replace(/, DC n\d/, ", DC <dc>")
    .replace(/\(DC, /g, "(")
    .replace(/\(DC\)/g, "")
    .replace(/ +$/gm, "");
}

export function normJson(s: string, backing: string): unknown {
  const r = JSON.parse(s.split(backing).join("<backing>")) as Record<string, any>;
  r.cluster.lastUpdate = "<time>";
  delete r.cluster.dc;
  for (const n of r.nodes) delete n.dc;
  for (const f of r.failures) f.lastRcChange = "<time>";
  return r;
}

export { where, sleep };
