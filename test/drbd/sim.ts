// Test helper: a DRBD simulator instance (test/fakes/drbd.ts) in a scratch directory, with the
// fake tools on PATH, a fake crm_attribute that keeps promotion scores per node in files, and the
// OCF environment that points the agent at one simulated node.

import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { BUILD, scratchDir } from "../lib/harness.js";

export const FAKES = join(BUILD, "test", "fakes", "tsstor-fakes");
export const SIM_TOOLS = ["drbdadm", "drbdsetup", "tsstor-drbd-sim"];

export interface Sim {
  dir: string;
  bin: string;
  conf: string;
  /** environment for tools and agents acting as `node` */
  env(node: string, extra?: Record<string, string>): Record<string, string>;
  /** tsstor-drbd-sim ARGS (throws on failure) */
  ctl(...args: string[]): string;
  /** a simulated tool as `node`: drbdadm/drbdsetup */
  tool(node: string, cmd: string, args: string[]): { code: number; stdout: string; stderr: string };
  /** promotion score per node as the fake crm_attribute stored it (undefined = deleted/unset) */
  score(node: string): number | undefined;
  /** argv lines crm_attribute was called with, per node */
  crmCalls(node: string): string[];
  /** mknod'ed device path for a minor */
  dev(minor: number): string;
}

/** A fake crm_attribute: records argv, keeps `--promotion`/`-n master-*` values in files. */
function crmAttribute(dir: string): string {
  return `#!/bin/sh
# fake crm_attribute for DRBD tests (both ocf:tsstor:drbd and ocf:linbit:drbd via crm_master)
node=local; op=; val=
args="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    -N|--node) node=$2; shift ;;
    -v|--update) op=set; val=$2; shift ;;
    -D|--delete) op=del ;;
    -G|--query) op=get ;;
    -n|--name|-l|--lifetime|-i|--id) shift ;;
  esac
  shift
done
echo "$args" >> "${dir}/crm_attribute.$node.log"
f="${dir}/score.$node"
case "$op" in
  set) echo "$val" > "$f" ;;
  del) rm -f "$f" ;;
  get) [ -f "$f" ] || exit 105; cat "$f" ;;
esac
exit 0
`;
}

// Simulator directories go when the test process ends (TSSTOR_KEEP_SIM=1 keeps them).
const created: string[] = [];
process.on("exit", () => {
  if (!process.env.TSSTOR_KEEP_SIM) for (const d of created) rmSync(d, { recursive: true, force: true });
});

export interface SimOpts {
  nodes?: string[];
  /** module version of the nodes (default 9.2.12) */
  kernel?: string;
  /** resource name */
  res?: string;
  minor?: number;
  /** extra statements inside the resource section (net/options) */
  extra?: string;
  /** meta data of every node: disk state and generation (default UpToDate, 1); "none" = no create-md */
  md?: string;
  prefix?: string;
  /** the module starts not loaded */
  unloaded?: boolean;
  /** fake crm_attribute and modprobe on PATH (default); off inside a real cluster */
  shims?: boolean;
}

export function makeSim(o: SimOpts = {}): Sim {
  const dir = scratchDir(o.prefix ?? "drbdsim");
  created.push(dir);
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  mkdirSync(join(dir, "dev"), { recursive: true });
  for (const t of SIM_TOOLS) symlinkSync(FAKES, join(bin, t));
  if (o.shims !== false) {
    writeFileSync(join(bin, "crm_attribute"), crmAttribute(dir));
    chmodSync(join(bin, "crm_attribute"), 0o755);
    // modprobe shim: "loads" the simulated module on this node.
    writeFileSync(join(bin, "modprobe"), `#!/bin/sh\nexec "${join(bin, "tsstor-drbd-sim")}" modprobe "$@"\n`);
    chmodSync(join(bin, "modprobe"), 0o755);
  }
  const nodes = o.nodes ?? ["alpha", "beta"];
  const res = o.res ?? "r0";
  const minor = o.minor ?? 10;
  const conf = join(dir, "drbd.conf");
  const ons = nodes.map((n, i) => `  on ${n} { node-id ${i}; address 10.232.0.${i + 1}:7789; }`).join("\n");
  writeFileSync(
    conf,
    `# written by test/drbd/sim.ts
resource ${res} {
  net { protocol C; }
${o.extra ?? ""}
  volume 0 {
    device "${join(dir, "dev", `drbd${minor}`)}" minor ${minor};
    disk "/dev/fake-backing";
    meta-disk internal;
  }
${ons}
}
`,
  );
  const env = (node: string, extra: Record<string, string> = {}) => ({
    PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`,
    TSSTOR_DRBD_SIM_DIR: dir,
    TSSTOR_DRBD_SIM_NODE: node,
    TSSTOR_PROC_ROOT: join(dir, "proc", node),
    HA_RSCTMP: join(dir, `rsctmp-${node}`),
    ...extra,
  });
  const ctl = (...args: string[]) => {
    const r = spawnSync(join(bin, "tsstor-drbd-sim"), args, { encoding: "utf8", env: env("ctl") });
    if (r.status !== 0) throw new Error(`tsstor-drbd-sim ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const tool = (node: string, cmd: string, args: string[]) => {
    const r = spawnSync(join(bin, cmd), args, { encoding: "utf8", env: env(node) });
    return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
  };
  ctl("init", ...nodes, ...(o.kernel ? [`--kernel=${o.kernel}`] : []), ...(o.unloaded ? ["--unloaded"] : []));
  if (o.md !== "none") {
    const [disk, gen] = (o.md ?? "UpToDate 1").split(" ");
    for (const n of nodes) ctl("md", n, res, "0", disk!, gen ?? "1");
  }
  return {
    dir,
    bin,
    conf,
    env,
    ctl,
    tool,
    score: (node) => {
      const f = join(dir, `score.${node}`);
      return existsSync(f) ? Number(readFileSync(f, "utf8").trim()) : undefined;
    },
    crmCalls: (node) => {
      const f = join(dir, `crm_attribute.${node}.log`);
      return existsSync(f) ? readFileSync(f, "utf8").trim().split("\n").filter(Boolean) : [];
    },
    dev: (m) => join(dir, "dev", `drbd${m}`),
  };
}
