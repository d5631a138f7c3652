// Pacemaker's tools find agents only under /usr/lib/ocf/resource.d (no search path in 2.1.5).
// Tests that use crm_resource, pcs or ocf-tester by provider link the agents they need there,
// each link pointing at *this checkout's* build, so parallel checkouts never swap binaries
// under each other. packaging/install.sh itself is tested with DESTDIR (test/packaging/).
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, symlinkSync, renameSync } from "node:fs";
import { join } from "node:path";
import { BUILD } from "./harness.js";

export const RA_DIR = "/usr/lib/ocf/resource.d/tsstor";

function link(name: string, target: string): void {
  mkdirSync(RA_DIR, { recursive: true });
  const tmp = join(RA_DIR, `.${name}.${process.pid}`);
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, join(RA_DIR, name)); // atomic replace
}

/** Link the named agents (default: all built) to this checkout's agent fronts (build/agents/). */
export function installAgents(names?: string[]): void {
  const list = names ?? spawnSync(join(BUILD, "tsstor-agents"), ["--list"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  for (const n of list) link(n, join(BUILD, "agents", n));
}

/**
 * The test rig's fence agent (test/rig/fence-agent.ts) where pacemaker-fenced looks for fence
 * agents: /usr/sbin/fence_* (Debian's FENCE_BINDIR), linked to this checkout's build.
 */
export function installFenceAgent(): void {
  const dst = "/usr/sbin/fence_tsstor_rig";
  const tmp = `${dst}.${process.pid}`;
  rmSync(tmp, { force: true });
  symlinkSync(join(BUILD, "test", "fence_tsstor_rig"), tmp);
  renameSync(tmp, dst);
}

/** Put the (never installed) test agent beside the real ones; returns the undo. */
export function linkTestAgent(): () => void {
  link("TestAgent", join(BUILD, "test", "tsstor-test-agent"));
  return () => rmSync(join(RA_DIR, "TestAgent"), { force: true });
}

export function sh(cmd: string, args: string[], env: Record<string, string> = {}, input?: string) {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env }, input, timeout: 120000 });
  return { code: r.status ?? 128, stdout: r.stdout ?? "", stderr: r.stderr ?? "", out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}
