// Debian roots built with debootstrap from the mirror this machine's apt uses, plus packages,
// once, and cached under /var/cache/tsstor (CI's fresh root binds that directory, so a build
// survives runs). Keyed by suite and package list: a changed list builds a new root.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { acquireLock } from "../../lib/system/lock.js";
import { Budget } from "../../lib/ocf/budget.js";

export const ROOT_CACHE = "/var/cache/tsstor";
/** The package test's roots (test/packaging/deb.test.ts; test/stack/pcs-versions.test.ts uses them too). */
export const DEB_TEST_PKGS = ["pacemaker-cli-utils", "pcs", "man-db", "iproute2"] as const;

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 1800_000, maxBuffer: 64 << 20 });
  return { code: r.status ?? 128, out: `${r.stdout ?? ""}${r.stderr ?? ""}`, stdout: r.stdout ?? "" };
}

/** The Debian mirror this machine's apt uses (deb822 or one-line sources). */
export function debianMirror(): string {
  const src = run("sh", ["-c", "grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null; grep -h '^deb ' /etc/apt/sources.list 2>/dev/null"]).stdout;
  const m = /(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s*)?)(\S+\/debian)\b/.exec(src);
  return m?.[1] ?? "http://deb.debian.org/debian";
}

/** Where the root for (name, suite, pkgs) lives, built or not. bookworm keeps the older name. */
export function debRootDir(name: string, suite: string, pkgs: readonly string[]): string {
  return join(ROOT_CACHE, `${name}-${suite === "bookworm" ? "" : `${suite}-`}${createHash("sha256").update(pkgs.join(" ")).digest("hex").slice(0, 12)}`);
}

/** A minbase root of SUITE with PKGS (no recommends), built once under a lock; returns its path. */
export function debRoot(name: string, suite: string, pkgs: readonly string[]): string {
  const dir = debRootDir(name, suite, pkgs);
  mkdirSync(ROOT_CACHE, { recursive: true });
  const lock = acquireLock({ dir: ROOT_CACHE, name: `${name}-${suite}`, budget: new Budget(0, undefined, 1800_000) });
  try {
    if (existsSync(join(dir, ".done"))) return dir;
    rmSync(dir, { recursive: true, force: true });
    const d = run("debootstrap", ["--variant=minbase", suite, dir, debianMirror()]);
    if (d.code !== 0) throw new Error(`debootstrap failed: ${d.out.slice(-2000)}`);
    copyFileSync("/etc/resolv.conf", join(dir, "etc/resolv.conf"));
    // no init runs in a root: package installs must not try to start services
    writeFileSync(join(dir, "usr/sbin/policy-rc.d"), "#!/bin/sh\nexit 101\n", { mode: 0o755 });
    const a = run("chroot", [dir, "sh", "-c", `apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${pkgs.join(" ")} && apt-get clean`]);
    if (a.code !== 0) throw new Error(`apt in chroot failed: ${a.out.slice(-2000)}`);
    writeFileSync(join(dir, ".done"), "");
    // roots of an older package list go (they are only a cache)
    const prefix = dir.slice(ROOT_CACHE.length + 1, -12);
    for (const f of readdirSync(ROOT_CACHE)) if (f !== dir.slice(ROOT_CACHE.length + 1) && f.startsWith(prefix) && /^[0-9a-f]{12}$/.test(f.slice(prefix.length))) rmSync(join(ROOT_CACHE, f), { recursive: true, force: true });
    return dir;
  } finally {
    lock.release();
  }
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The argv prefix that runs a command chrooted in a throw-away overlay of ROOT (a cached root is
 * never written): a private mount namespace gets a tmpfs over /mnt (nothing is created on the
 * host) holding the overlay's writes, /proc, and /dev, /sys and BINDS at their own paths. Every
 * mount goes with the namespace's last process.
 */
export function inRootArgv(root: string, binds: readonly string[]): string[] {
  const m = "/mnt/root";
  const script = [
    "set -e",
    "mount -t tmpfs -o mode=0755 tsstor-root /mnt",
    `mkdir /mnt/u /mnt/w ${m}`,
    `mount -t overlay tsstor-root -o lowerdir=${q(root)},upperdir=/mnt/u,workdir=/mnt/w ${m}`,
    `mount -t proc proc ${m}/proc`,
    ...["/dev", "/sys", ...binds].map((d) => `mkdir -p ${q(m + d)} && mount --rbind ${q(d)} ${q(m + d)}`),
    `exec chroot ${m} "$@"`,
  ].join("\n");
  return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "in-root"];
}
