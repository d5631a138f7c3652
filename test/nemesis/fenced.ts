// The fenced half of the nemesis tests (one test file per stack, so each stays within tap's
// per-file timeout): CYCLES seeded faults on one stack, the report in build/nemesis-STACK.md.
import type { Test } from "tap";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { scratchDir } from "../lib/harness.js";
import { REPO } from "../lib/xml.js";
import { Nemesis, report, type NemesisStack } from "./nemesis.js";

export const cycles = Number(process.env.TSSTOR_NEMESIS_CYCLES ?? 10);
export const seed = Number(process.env.TSSTOR_NEMESIS_SEED ?? 7);

/** A scratch directory every node can read (the rig's daemons run as hacluster too). */
export function nemesisDir(name: string): string {
  const d = scratchDir(name);
  spawnSync("chmod", ["755", d]);
  return d;
}

export const STACKS: Record<NemesisStack, string> = {
  iscsi: "the iSCSI stack (a DRBD device as the LUN)",
  "drbd-fs": "the DRBD + ext4 stack serving a LUN file over iSCSI",
};

export async function fencedRun(t: Test, stack: NemesisStack): Promise<void> {
  const d = nemesisDir(`nemesis-${stack}`);
  const n = new Nemesis({ stack, cycles, seed, fencing: true, dir: d, log: (m) => t.comment(m) });
  t.teardown(async () => {
    await n.teardown();
    rmSync(d, { recursive: true, force: true }); // up to a GiB of written blocks
  });
  const r = await n.run();
  const text = report(r);
  t.comment(`\n${text}`);
  mkdirSync(join(REPO, "build"), { recursive: true });
  writeFileSync(join(REPO, "build", `nemesis-${stack}.md`), `# ${stack}: ${STACKS[stack]}\n\n${text}\n\nseed ${seed}\n\n${r.log.join("\n")}\n`);
  t.equal(r.cycles, cycles, "every cycle ran");
  t.equal(r.splitBrains, 0, "no split brain: never two Primaries, never two nodes answering ARP for the VIP (or mounting the filesystem)");
  t.equal(r.lostWrites, 0, `every acknowledged write reads back (${r.acked})`);
  t.ok(r.acked > cycles, "the client kept writing");
  t.equal(r.verifierBites, true, "the read-back reports a block that does not hold its last acknowledged pattern");
  for (const [f, s] of Object.entries(r.perFault)) t.equal(s.violations, 0, `${f}: converged every time, no violation`);
}
