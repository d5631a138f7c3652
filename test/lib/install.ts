// Pacemaker's tools find agents only under /usr/lib/ocf/resource.d (no search path in 2.1.5),
// so tests that use crm_resource or pcs install the built agents for real (idempotent, atomic).
import { spawnSync } from "node:child_process";
import { rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { BUILD } from "./harness.js";
import { REPO } from "./xml.js";

export const RA_DIR = "/usr/lib/ocf/resource.d/tsstor";

export function installAgents(): void {
  const r = spawnSync("bash", [join(REPO, "packaging/install.sh")], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`install failed: ${r.stderr}`);
}

/** Put the (never installed) test agent beside the real ones; returns the undo. */
export function linkTestAgent(): () => void {
  const link = join(RA_DIR, "TestAgent");
  rmSync(link, { force: true });
  symlinkSync(join(BUILD, "test", "tsstor-test-agent"), link);
  return () => rmSync(link, { force: true });
}

export function sh(cmd: string, args: string[], env: Record<string, string> = {}, input?: string) {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env }, input, timeout: 120000 });
  return { code: r.status ?? 128, stdout: r.stdout ?? "", stderr: r.stderr ?? "", out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}
