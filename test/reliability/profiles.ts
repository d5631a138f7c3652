// How to drive each agent in the reliability suites: valid base parameters, the external tools it
// calls (shimmed for argv logging and fault injection), and a real system to run it on.
// Every agent joins here as it lands.

import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Agent } from "../../lib/agent.js";
import { agents } from "../../agents/index.js";
import { BUILD, scratchDir } from "../lib/harness.js";
import { NetPair } from "../lib/netns.js";

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
