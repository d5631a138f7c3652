// Network plumbing of a rig, all inside namespaces the rig creates (never the host's own links):
// a switch namespace PREFIX-sw holds one bridge per network; every node and client gets a veth
// pair whose outer end is a bridge port in the switch and whose inner end is eth0/eth1 inside
// it. A partition moves switch ports onto separate bridges: carriers stay up, as when a switch
// or a VLAN fails (the kernel here has no netem, no VLAN filtering, no nftables).
import { readFileSync, readdirSync, rmSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { execSync, must, killPid } from "./exec.js";

export const NETNS_RE = /^tsr[0-9]*-[a-z0-9]+$/;

export function netnsList(): string[] {
  const r = execSync("ip", ["netns", "list"]);
  return r.stdout
    .split("\n")
    .map((l) => l.split(" ")[0]!)
    .filter(Boolean);
}

/** Host PIDs of every process whose network namespace is NAME. */
export function netnsPids(name: string): number[] {
  const r = execSync("ip", ["netns", "pids", name]);
  return r.stdout.split(/\s+/).filter(Boolean).map(Number);
}

export const ip = (ns: string, ...args: string[]) => must("ip", ["-n", ns, ...args]);

/** Kill every process of the namespace by PID, then delete it. */
export function destroyNetns(name: string): void {
  for (let i = 0; i < 5; i++) {
    const pids = netnsPids(name);
    if (!pids.length) break;
    for (const p of pids) killPid(p);
  }
  execSync("ip", ["netns", "del", name]);
}

// ---- claims: which rig owns a prefix, so cleanup never kills a live test's rig ----
export const CLAIM_DIR = "/run/tsstor-rig";

export interface Claim {
  prefix: string;
  owner: number;
  dir: string;
  namespaces: string[];
  /** host PIDs the rig started (unshare of each node, client helpers) */
  pids: number[];
}

export function writeClaim(c: Claim): void {
  mkdirSync(CLAIM_DIR, { recursive: true });
  writeFileSync(`${CLAIM_DIR}/${c.prefix}.json`, JSON.stringify(c));
}

/** Create the claim only if no claim for its prefix exists (atomic). */
export function tryClaim(c: Claim): boolean {
  mkdirSync(CLAIM_DIR, { recursive: true });
  try {
    writeFileSync(`${CLAIM_DIR}/${c.prefix}.json`, JSON.stringify(c), { flag: "wx" });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}

export function readClaims(): Claim[] {
  if (!existsSync(CLAIM_DIR)) return [];
  const out: Claim[] = [];
  for (const f of readdirSync(CLAIM_DIR)) {
    if (!f.endsWith(".json")) continue;
    try {
      out.push(JSON.parse(readFileSync(`${CLAIM_DIR}/${f}`, "utf8")) as Claim);
    } catch {
      /* half-written: ignored */
    }
  }
  return out;
}

export function removeClaim(prefix: string): void {
  rmSync(`${CLAIM_DIR}/${prefix}.json`, { force: true });
}
