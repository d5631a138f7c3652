// How to drive each agent in the reliability suites: valid base parameters, the external tools it
// calls (shimmed for argv logging and fault injection), and a real system to run it on.
// Every agent joins here as it lands, with its own test/reliability/faults-<agent>.test.ts.

import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Agent } from "../../lib/ocf/runner.js";
import { agents } from "../../agents/index.js";
import { BUILD, scratchDir } from "../lib/harness.js";
import { NetPair } from "../lib/netns.js";
import { makeSim } from "../drbd/sim.js";
import { TgtRig } from "../iscsi/rig.js";
import { World } from "../lvm/world.js";
import { InitiatorWorld, IQN } from "../iscsi/initiator-world.js";

/** A test node with dlm_controld, shared VG vg1 and (optionally) lvmlockd, for the cluster LVM agents. */
function lvmSystem(n: number, withLockd: boolean, params: Record<string, string>, present: (w: World) => boolean): System {
  const w = new World(`rel${n}`).startSync();
  w.addVg("vg1", "dlm", ["lv1"]);
  w.daemon("dlm_controld");
  if (withLockd && w.run(join(BUILD, "agents", "clvm"), "start", {}).code !== 0) throw new Error("lvmlockd did not start");
  return {
    wrap: ["/usr/bin/nsenter", "-t", String(w.holder), "-m", "--"],
    // PATH leads to the fakes; the shim suites override it and reach them through TSSTOR_REAL_PATH
    env: { ...w.env, TSSTOR_REAL_PATH: w.realToolsDir() },
    params,
    present: () => present(w),
    teardown: () => w.stop(),
  };
}

export interface System {
  /** wrapper to run the agent in (e.g. ip netns exec NS) */
  wrap?: string[];
  env: Record<string, string>;
  /** parameters for a resource that start can really bring up here */
  params: Record<string, string>;
  /** is the resource really there / really gone (checked without the agent) */
  present(): boolean;
  teardown(): void;
}

export interface Profile {
  agent: string;
  decl: Agent["decl"];
  /** valid parameters (validate-all level 0 returns 0) */
  base: Record<string, string>;
  env?: Record<string, string>;
  /** external programs looked up on PATH, to shim */
  tools: string[];
  /** a real system for start/monitor/stop, numbered so parallel cases do not collide */
  system?: (n: number) => System;
}

const declOf = (name: string) => {
  const a = agents.find((x) => x.decl.name === name);
  if (!a) throw new Error(`agent ${name} is not built into agents/index.ts`);
  return a.decl;
};

export const profiles: Profile[] = [
  {
    agent: "IPaddr2",
    decl: declOf("IPaddr2"),
    base: { ip: "10.250.1.10", nic: "eth0", cidr_netmask: "24" },
    tools: ["ip", "arping"],
    system: (n) => {
      const net = new NetPair(`tsvr${n % 10}`);
      net.ip(["addr", "add", "10.246.0.1/24", "dev", net.nic]);
      const ip = `10.246.0.${10 + n}`;
      return {
        wrap: ["/bin/ip", "netns", "exec", net.node], // absolute: PATH may lead to the shim
        env: { HA_RSCTMP: net.rscTmp },
        params: { ip, arp_count: "1" },
        present: () => net.addrs(4).includes(` ${ip}/`),
        teardown: () => net.destroy(),
      };
    },
  },
  {
    agent: "Filesystem",
    decl: declOf("Filesystem"),
    base: { device: "/dev/tsf-reliability", directory: "/mnt/tsf-reliability", fstype: "ext4" },
    tools: ["mount", "umount"],
    system: (n) => {
      // a real ext4 on a loop device of its own (names from the Filesystem suite's tsf prefix)
      const dir = scratchDir(`tsf-rel${n}`);
      const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: "utf8" });
      run("truncate", ["-s", "64M", join(dir, "img")]);
      const dev = run("losetup", ["-f", "--show", join(dir, "img")]).stdout.trim();
      run("mkfs.ext4", ["-q", "-F", dev]);
      const mnt = join(dir, "mnt");
      const mounted = () => readFileSync("/proc/self/mountinfo", "utf8").split("\n").some((l) => l.split(" ")[4] === mnt);
      return {
        env: { HA_RSCTMP: join(dir, "rsctmp") },
        params: { device: dev, directory: mnt, fstype: "ext4" },
        present: mounted,
        teardown: () => {
          for (let i = 0; i < 5 && mounted(); i++) run("umount", [mnt]);
          run("losetup", ["-d", dev]);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    agent: "iSCSITarget",
    decl: declOf("iSCSITarget"),
    base: { implementation: "tgt", iqn: "iqn.2026-01.org.tsstor.test:reliability" },
    tools: ["tgtadm"],
    system: (n) => {
      const rig = new TgtRig(`r${n}`);
      const iqn = `iqn.2026-01.org.tsstor.test:rel${n}`;
      return {
        env: rig.env(),
        params: { implementation: "tgt", iqn, allowed_initiators: "iqn.1993-08.org.debian:01:rel", incoming_username: "reluser", incoming_password: "rel-Secret-pw" },
        present: () => rig.tgtadm(["--op", "show", "--mode", "target"]).stdout.includes(`: ${iqn}\n`),
        teardown: () => rig.destroy(),
      };
    },
  },
  {
    agent: "iSCSILogicalUnit",
    decl: declOf("iSCSILogicalUnit"),
    base: { implementation: "tgt", target_iqn: "iqn.2026-01.org.tsstor.test:reliability", lun: "1", path: "/dev/null" },
    tools: ["tgtadm"],
    system: (n) => {
      const rig = new TgtRig(`l${n}`);
      const iqn = `iqn.2026-01.org.tsstor.test:rellu${n}`;
      rig.tgtadm(["--op", "new", "--mode", "target", "--tid", "1", "--targetname", iqn]);
      const img = join(rig.dir, "lu.img");
      spawnSync("truncate", ["-s", "8M", img]);
      return {
        env: rig.env(),
        params: { implementation: "tgt", target_iqn: iqn, lun: "1", path: img, product_id: "reliability" },
        present: () => /LUN: 1\n/.test(rig.tgtadm(["--op", "show", "--mode", "target"]).stdout),
        teardown: () => rig.destroy(),
      };
    },
  },
  {
    agent: "clvm",
    decl: declOf("clvm"),
    base: { activate_vgs: "vg1" },
    tools: ["lvmlockd", "lvmlockctl", "vgchange", "dlm_tool"],
    system: (n) => lvmSystem(n, false, { activate_vgs: "vg1" }, (w) => w.pid("lvmlockd") !== undefined),
  },
  {
    agent: "LVM-activate",
    decl: declOf("LVM-activate"),
    base: { vgname: "vg1", lvname: "lv1", vg_access_mode: "lvmlockd" },
    tools: ["vgs", "lvs", "vgchange", "lvchange"],
    system: (n) => lvmSystem(n, true, { vgname: "vg1", lvname: "lv1", vg_access_mode: "lvmlockd" }, (w) => w.dm().includes("vg1-lv1")),
  },
  {
    agent: "drbd",
    decl: declOf("drbd"),
    base: { drbd_resource: "r0" },
    // drbd-utils and the rest through the DRBD simulator (test/drbd/sim.ts) behind the shim
    tools: ["drbdsetup", "drbdadm", "crm_attribute", "modprobe"],
    system: (n) => {
      const sim = makeSim({ prefix: "drbdrel", minor: 60 + n, nodes: ["alpha", "beta"] });
      const env = sim.env("alpha");
      // behind the shim, the "real" tools are the simulator's (which must not shim again)
      const real = join(sim.dir, "real");
      mkdirSync(real);
      for (const t of ["drbdsetup", "drbdadm", "crm_attribute", "modprobe"]) {
        writeFileSync(join(real, t), `#!/bin/sh\nunset TSSTOR_SHIM_DIR\nexec "${join(sim.bin, t)}" "$@"\n`, { mode: 0o755 });
      }
      return {
        env: { ...env, TSSTOR_REAL_PATH: real },
        params: { drbd_resource: "r0", drbdconf: sim.conf, ignore_missing_notifications: "true", wfc_timeout: "0" },
        present: () => /^exists resource name:r0 /m.test(sim.tool("alpha", "drbdsetup", ["events2", "--now", "r0"]).stdout),
        teardown: () => {
          sim.tool("alpha", "drbdsetup", ["down", "r0"]);
          rmSync(sim.dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    agent: "iscsi",
    decl: declOf("iscsi"),
    base: { portal: "127.0.0.1", target: IQN },
    // iscsiadm is the fake over an emulated sysfs (test/iscsi/initiator-world.ts) behind the shim
    tools: ["iscsiadm"],
    system: (n) => {
      const w = new InitiatorWorld(`rel${n}`);
      const real = join(w.dir, "real");
      mkdirSync(real);
      writeFileSync(join(real, "iscsiadm"), `#!/bin/sh\nunset TSSTOR_SHIM_DIR\nexec "${join(BUILD, "test/fakes/iscsiadm")}" "$@"\n`, { mode: 0o755 });
      return {
        env: { ...w.env(), TSSTOR_REAL_PATH: real },
        params: { portal: "127.0.0.1", target: IQN },
        present: () => w.sessions().length > 0,
        teardown: () => w.destroy(),
      };
    },
  },
];

/** A PATH directory whose tools are the shim (all of `tools` but `missing`), and its argv log. */
export function shimDir(tools: string[], missing: string[] = []): { dir: string; log: string; cleanup: () => void } {
  const dir = scratchDir("shim");
  const bin = join(dir, "bin");
  mkdirSync(bin);
  for (const t of tools) if (!missing.includes(t)) symlinkSync(join(BUILD, "test/fakes/tsstor-fakes"), join(bin, t));
  return { dir: bin, log: join(dir, "argv.log"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Environment that routes the agent's tools through the shim. */
export function shimEnv(s: { dir: string; log: string }, fault = ""): Record<string, string> {
  return {
    PATH: `${s.dir}:/usr/sbin:/usr/bin:/sbin:/bin`,
    TSSTOR_SHIM_DIR: s.dir,
    TSSTOR_FAKE_LOG: s.log,
    TSSTOR_FAULT: fault,
  };
}
