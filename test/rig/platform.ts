// Which Debian release a rig's nodes run their cluster stack from. Debian 12 ("debian12", the
// default) is this machine itself. Debian 13 ("debian13": Pacemaker 3.0, Corosync 3.1.9,
// pcs 0.12, resource-agents 4.16, drbd-utils 9.22) is a debootstrap root built once and
// cached; every node then runs in its own overlay of it (rig.ts NODE_INIT), with this checkout,
// /tmp, /dev, /sys and the host's tsstor agent links bound in at the same paths.
// Chosen per run: RigOptions.platform, else TSSTOR_RIG_PLATFORM.
import { debRoot } from "../lib/debroot.js";

export type Platform = "debian12" | "debian13";
export const PLATFORMS: Record<Platform, string> = { debian12: "Debian 12", debian13: "Debian 13" };

/** What a node runs and the rig's tests reach inside it (the host set-up's list, the node's part). */
export const NODE_PKGS = [
  "pacemaker", "pacemaker-cli-utils", "corosync", "pcs", "resource-agents", "drbd-utils", "libxml2-utils",
  "kmod", "iproute2", "iputils-arping", "ndisc6", "tgt", "e2fsprogs", "xfsprogs", "psmisc", "util-linux", "procps",
  // what `tsstor status` draws with (--graph) and the terminal its --watch test runs in
  "graphviz", "tmux",
] as const;

export function rigPlatform(explicit?: Platform): Platform {
  const p = explicit ?? (process.env.TSSTOR_RIG_PLATFORM || "debian12");
  if (p !== "debian12" && p !== "debian13") throw new Error(`rig: unknown platform ${p} (debian12 or debian13)`);
  return p;
}

/** The root file system the nodes run from: undefined for this machine (Debian 12). */
export function platformRoot(p: Platform): string | undefined {
  return p === "debian13" ? debRoot("rig", "trixie", NODE_PKGS) : undefined;
}
