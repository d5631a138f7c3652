// Network namespaces a test creates for itself: a "node" and a "peer" joined by a veth pair,
// plus helpers to run agents and captures inside. Nothing touches the host's interfaces;
// destroy() kills what runs inside (by PID) and deletes the namespaces.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runAgent, scratchDir, type AgentRun, type RunOpts } from "./harness.js";

function ip(args: string[]): string {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

export function nsExec(ns: string, cmd: string, args: string[], input?: string) {
  const r = spawnSync("ip", ["netns", "exec", ns, cmd, ...args], { encoding: "utf8", input, timeout: 60000 });
  return { code: r.status ?? 128, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

export class NetPair {
  readonly node: string;
  readonly peer: string;
  /** veth end in the node namespace, and in the peer namespace */
  readonly nic: string;
  readonly peerNic: string;
  readonly rscTmp: string;
  private readonly children: ChildProcess[] = [];

  /** `tag`: a short per-suite prefix (<= 6 chars) so parallel suites never collide. */
  constructor(tag: string) {
    const id = `${tag}${process.pid % 100000}`;
    this.node = `${id}-n`;
    this.peer = `${id}-p`;
    this.nic = `${id}a`.slice(0, 15);
    this.peerNic = `${id}b`.slice(0, 15);
    this.rscTmp = scratchDir(`${tag}-rsc`);
    NetPair.remove(this.node);
    NetPair.remove(this.peer);
    ip(["netns", "add", this.node]);
    ip(["netns", "add", this.peer]);
    ip(["link", "add", this.nic, "netns", this.node, "type", "veth", "peer", "name", this.peerNic, "netns", this.peer]);
    for (const [ns, dev] of [[this.node, this.nic], [this.peer, this.peerNic]] as const) {
      ip(["-n", ns, "link", "set", "lo", "up"]);
      ip(["-n", ns, "link", "set", dev, "up"]);
    }
  }

  static remove(ns: string): void {
    const pids = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).stdout.split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        /* gone */
      }
    }
    spawnSync("ip", ["netns", "del", ns]);
  }

  /** `ip -n NS ...` in the node (default) or the peer namespace. */
  ip(args: string[], where: "node" | "peer" = "node"): string {
    return ip(["-n", where === "node" ? this.node : this.peer, ...args]);
  }

  addrs(family: 4 | 6, where: "node" | "peer" = "node"): string {
    return this.ip([`-${family}`, "-o", "addr", "show"], where);
  }

  /** Run a built agent inside the node namespace, as Pacemaker would (under o.wrap in there). */
  agent(bin: string, action: string, o: RunOpts = {}): AgentRun {
    return runAgent(bin, action, { ...o, env: { HA_RSCTMP: this.rscTmp, ...o.env }, wrap: ["ip", "netns", "exec", this.node, ...(o.wrap ?? [])] });
  }

  /** Start a packet capture in the peer namespace; resolves once tcpdump listens. */
  async capture(filter: string[]): Promise<{ stop: () => Promise<string[]> }> {
    const dir = scratchDir("pcap");
    const file = join(dir, "c.pcap");
    const p = spawn("ip", ["netns", "exec", this.peer, "tcpdump", "--immediate-mode", "-i", this.peerNic, "-n", "-U", "-w", file, ...filter], { stdio: ["ignore", "ignore", "pipe"] });
    this.children.push(p);
    await new Promise<void>((resolve) => {
      let err = "";
      const timer = setTimeout(resolve, 5000);
      p.stderr!.on("data", (d) => {
        err += d;
        if (/listening on/.test(err)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    return {
      stop: async () => {
        await new Promise((r) => setTimeout(r, 500));
        const exited = new Promise((r) => p.once("exit", r));
        p.kill("SIGINT");
        await exited;
        const r = spawnSync("tcpdump", ["-r", file, "-n", "-v", "-e"], { encoding: "utf8" });
        spawnSync("rm", ["-rf", dir]);
        return r.stdout.split("\n").filter((l) => l.trim() !== "");
      },
    };
  }

  destroy(): void {
    for (const c of this.children) {
      try {
        c.kill("SIGKILL");
      } catch {
        /* gone */
      }
    }
    NetPair.remove(this.node);
    NetPair.remove(this.peer);
    spawnSync("rm", ["-rf", this.rscTmp]);
  }
}

export function readJsonState(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}
