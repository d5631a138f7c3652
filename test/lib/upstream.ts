// The upstream agents the differential tests compare ours with. TSSTOR_UPSTREAM picks them:
//   4.12 (default): this machine's, Debian 12's resource-agents 4.12 under /usr/lib/ocf;
//   4.16: Debian 13's resource-agents 4.16 (drbd-utils 9.22), from the cached Debian 13 root
//         the Debian 13 rig runs from (test/rig/platform.ts; built once if missing).
// A 4.16 agent runs with that root's shell, ip, tgtadm... : `unshare -m` makes a private mount
// namespace, a tmpfs there holds a throw-away overlay of the root (the cache is never written),
// /proc, /dev, /sys, /tmp and this checkout are bound in at the same paths, and the agent runs
// chrooted into it. Everything the namespace mounted goes with its last process: nothing to clean.
// Mounts an agent makes go with it too, so an agent whose mounts the test must see (Filesystem)
// runs its 4.16 code with this machine's tools instead (here()).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { NODE_PKGS, platformRoot } from "../rig/platform.js";
import { debRootDir, inRootArgv } from "./debroot.js";
import { REPO } from "./xml.js";

export type UpstreamVersion = "4.12" | "4.16";
export const UPSTREAM_VERSIONS: readonly UpstreamVersion[] = ["4.12", "4.16"];
/** A value for every upstream version, or one for all. */
export type ByVersion<T> = T | Record<UpstreamVersion, T>;

function isByVersion<T>(v: ByVersion<T>): v is Record<UpstreamVersion, T> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).sort().join() === UPSTREAM_VERSIONS.join();
}

function cmpVersion(a: string, b: string): number {
  const [x, y] = [a, b].map((v) => v.split(".").map(Number));
  for (let i = 0; i < Math.max(x!.length, y!.length); i++) if ((x![i] ?? 0) !== (y![i] ?? 0)) return (x![i] ?? 0) - (y![i] ?? 0);
  return 0;
}

/** How to run one upstream agent: runAgent(bin, action, { wrap, env }). */
export interface UpstreamAgent {
  bin: string;
  /** argv prefix (after any `ip netns exec NS`) */
  wrap: string[];
  /** variables the run needs on top of the OCF ones */
  env: Record<string, string>;
}

function wanted(): UpstreamVersion {
  const v = process.env.TSSTOR_UPSTREAM || "4.12";
  if (v !== "4.12" && v !== "4.16") throw new Error(`TSSTOR_UPSTREAM=${v}: 4.12 (this machine's, the default) or 4.16 (Debian 13's)`);
  return v;
}

function pkgVersion(pkg: string, root = "/"): string {
  const r = spawnSync("dpkg-query", [`--admindir=${join(root, "var/lib/dpkg")}`, "-W", "-f", "${Version}", pkg], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "not installed";
}

/** The rig's Debian 13 root: only read when built (taking no lock), else built as the rig would. */
function debian13Root(): string {
  const dir = debRootDir("rig", "trixie", NODE_PKGS);
  return existsSync(join(dir, ".done")) ? dir : platformRoot("debian13")!;
}


export class Upstream {
  readonly version: UpstreamVersion = wanted();
  /** the Debian 13 root, for 4.16 */
  readonly root: string | undefined = this.version === "4.16" ? debian13Root() : undefined;
  /** where the agents come from: "Debian 12, this machine" or the root */
  readonly where = this.root ? `Debian 13 root ${this.root}` : "Debian 12, this machine";

  /** The agent run from the Debian 13 root (4.16) or from this machine (4.12). */
  agent(name: string, provider = "heartbeat"): UpstreamAgent {
    const bin = `/usr/lib/ocf/resource.d/${provider}/${name}`;
    if (!this.root) return { bin, wrap: [], env: {} };
    return { bin, wrap: inRootArgv(this.root, ["/tmp", REPO]), env: {} };
  }

  /**
   * The same agent's code with this machine's tools and in the test's own mount namespace
   * (4.16: the root's OCF_ROOT, so its shell functions too): for an agent whose mounts the test
   * must see, which a private namespace would take away.
   */
  here(name: string, provider = "heartbeat"): UpstreamAgent {
    const ocfRoot = join(this.root ?? "/", "usr/lib/ocf");
    return { bin: join(ocfRoot, "resource.d", provider, name), wrap: [], env: this.root ? { OCF_ROOT: ocfRoot } : {} };
  }

  /** What a differential test prints about the side it compared with (`pkg` ships the agent). */
  describe(agent: string, how: "root" | "here" = "root", pkg = "resource-agents"): string {
    const tools = !this.root ? "" : how === "root" ? ", run chrooted in that root" : ", its agent code with this machine's tools (Debian 12)";
    return `upstream ${agent}: ${pkg} ${pkgVersion(pkg, this.root)} (${this.where}${tools}); TSSTOR_UPSTREAM=${this.version}`;
  }

  /** An expectation of the upstream side: the same on every version, or one per version. */
  pick<T>(v: ByVersion<T>): T {
    return isByVersion(v) ? v[this.version] : v;
  }

  /** Whether upstream, as run here, was fixed to behave like ours in version `fixedIn`. */
  fixed(fixedIn: string | undefined): boolean {
    return fixedIn !== undefined && cmpVersion(this.version, fixedIn) >= 0;
  }
}

export const upstream = new Upstream();
