// `tsstor drbd init` and `tsstor drbd first-sync`: the generated resource files (8.4 two nodes,
// 9 two nodes with SBD, 9 three nodes with quorum and a diskless tiebreaker) judged by the rule
// `tsstor stack` and `tsstor doctor` apply and, where drbd-utils is installed, parsed by the real
// drbdadm; the resync controller's numbers; every validation error; and on this node, with the
// DRBD simulator as drbdadm/drbdsetup and real loop devices as backing disks (real wipefs): the
// refusal of a disk with a filesystem or with DRBD metadata, --force, idempotent re-runs, and the
// first sync's preconditions. The fakes run from source with the checkout's Bun (build/ untouched).
import t from "tap";
import yargs from "yargs";
import { spawnSync } from "node:child_process";
import { chmodSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { REPO } from "../lib/xml.js";
import { scratchDir } from "../lib/harness.js";
import { drbdCommands } from "../../cli/drbd/command.js";
import {
  InitInvalid,
  admKernelVersion,
  drbdSize,
  firstSyncProblems,
  parseBlkid,
  parseDumpMd,
  parseWipefsJson,
  planInit,
  renderResource,
  resyncPlan,
  type InitArgs,
} from "../../cli/drbd/init.js";
import type { NodeEnv } from "../../cli/drbd/node.js";
import { readDrbdConfig } from "../../cli/doctor/drbd.js";
import { drbdFencingFindings, handlerLines } from "../../cli/hazards/drbd.js";
import { parseEvents2 } from "../../lib/drbd/state.js";

const BUN = join(REPO, "node_modules/@oven/bun-linux-x64-baseline/bin/bun");
const tmp = scratchDir("drbdinit");
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

// ---- helpers ------------------------------------------------------------------------------------

const noDetect = () => ({ error: "not asked" }) as const;

function plan(a: InitArgs) {
  return planInit(a, noDetect);
}

/** The statements of a resource file without comments and blank lines (what drbdadm sees). */
function statements(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.replace(/\s*#.*$/, "").trim())
    .filter(Boolean);
}

/** Write the file and read it back with the doctor's parser. */
function parsed(text: string, name: string) {
  const f = join(tmp, `parsed-${Math.random().toString(36).slice(2)}.res`);
  writeFileSync(f, text);
  const r = readDrbdConfig(f).resources.get(name);
  if (!r) throw new Error(`${name} not in the generated file`);
  return r;
}

/** Every line says why: each line is a comment, a statement with a comment, blank, or a lone "}". */
function uncommented(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "" && l.trim() !== "}" && !l.includes("#"));
}

class Usage extends Error {}

/** tsstor drbd ... in-process, through the same yargs commands main.ts wires in. */
function cli(args: string[], e: NodeEnv): { code: number; out: string; err: string } {
  let code = 0;
  const out: string[] = [];
  const err: string[] = [];
  const env: NodeEnv = { ...e, out: (s) => void out.push(s), err: (s) => void err.push(s) };
  const y = yargs(args)
    .scriptName("tsstor")
    .strict()
    .parserConfiguration({ "boolean-negation": false })
    .exitProcess(false)
    .fail((msg, e2) => {
      if (e2) throw e2;
      err.push(msg);
      code = 2;
      throw new Usage();
    });
  // wired as main.ts wires it: tsstor drbd <subcommand>
  y.command("drbd", "DRBD bootstrap", (y2) => drbdCommands(y2.demandCommand(1), (c) => (code = c), () => env)).demandCommand(1);
  try {
    y.parseSync();
  } catch (x) {
    if (!(x instanceof Usage)) throw x;
  }
  return { code, out: out.join(""), err: err.join("") };
}

// ---- the simulator, loop devices ----------------------------------------------------------------

interface Sim {
  dir: string;
  log: string;
  env(node: string, extra?: Record<string, string>): NodeEnv;
  ctl(...args: string[]): string;
  tool(node: string, cmd: string, args: string[]): { code: number; stdout: string; stderr: string };
  /** argv of every fake call, as "tool arg arg" */
  calls(): string[];
  /** a node's own /etc: drbd.conf including drbd.d/*.res */
  etc(node: string): { conf: string; res: (name: string) => string };
}

const sims: string[] = [];
t.teardown(() => {
  if (!process.env.TSSTOR_KEEP_SIM) for (const d of sims) rmSync(d, { recursive: true, force: true });
});

function makeSim(nodes: string[], kernel?: string): Sim {
  const dir = scratchDir("drbdinit-sim");
  sims.push(dir);
  const bin = join(dir, "bin");
  mkdirSync(bin);
  const entry = join(dir, "fakes.ts");
  writeFileSync(
    entry,
    `import { fakes } from ${JSON.stringify(join(REPO, "test/fakes/drbd.ts"))};
import { logArgv } from ${JSON.stringify(join(REPO, "test/fakes/lib.ts"))};
const [name, ...args] = process.argv.slice(2);
logArgv(name!, args);
process.exit(fakes[name!]!(args));
`,
  );
  for (const tool of ["drbdadm", "drbdsetup", "tsstor-drbd-sim"]) {
    writeFileSync(join(bin, tool), `#!/bin/sh\nexec "${BUN}" "${entry}" ${tool} "$@"\n`);
    chmodSync(join(bin, tool), 0o755);
  }
  writeFileSync(join(bin, "modprobe"), `#!/bin/sh\nexec "${join(bin, "tsstor-drbd-sim")}" modprobe "$@"\n`);
  chmodSync(join(bin, "modprobe"), 0o755);
  const log = join(dir, "calls.log");
  const raw = (node: string, extra: Record<string, string> = {}) => ({
    PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`,
    TSSTOR_DRBD_SIM_DIR: join(dir, "state"),
    TSSTOR_DRBD_SIM_NODE: node,
    TSSTOR_DRBD_SIM_NO_DEVNODES: "1",
    TSSTOR_FAKE_LOG: log,
    ...extra,
  });
  const sim: Sim = {
    dir,
    log,
    env: (node, extra = {}) => ({
      env: raw(node, extra),
      hostname: node,
      procRoot: join(dir, "state", "proc", node),
      out: () => {},
      err: () => {},
      sleep: () => {},
    }),
    ctl: (...args) => {
      const r = spawnSync(join(bin, "tsstor-drbd-sim"), args, { encoding: "utf8", env: raw("ctl") });
      if (r.status !== 0) throw new Error(`tsstor-drbd-sim ${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    },
    tool: (node, cmd, args) => {
      const r = spawnSync(join(bin, cmd), args, { encoding: "utf8", env: raw(node) });
      return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
    },
    calls: () =>
      existsSync(log)
        ? readFileSync(log, "utf8")
            .trim()
            .split("\n")
            .filter(Boolean)
            .map((l) => {
              const j = JSON.parse(l) as { tool: string; argv: string[] };
              return [j.tool, ...j.argv].join(" ");
            })
        : [],
    etc: (node) => {
      const d = join(dir, "etc", node);
      mkdirSync(join(d, "drbd.d"), { recursive: true });
      const conf = join(d, "drbd.conf");
      if (!existsSync(conf)) writeFileSync(conf, `# test drbd.conf of ${node}\ninclude "${join(d, "drbd.d")}/*.res";\n`);
      return { conf, res: (name) => join(d, "drbd.d", `${name}.res`) };
    },
  };
  sim.ctl("init", ...nodes, ...(kernel ? [`--kernel=${kernel}`] : []));
  return sim;
}

const loops: string[] = [];
t.teardown(() => {
  for (const l of loops) spawnSync("losetup", ["-d", l]);
});

/** A 16 MiB loop device over a sparse file; `fs` makes an ext4 on it first. */
function loopDevice(name: string, fs = false): string {
  const img = join(tmp, `${name}.img`);
  writeFileSync(img, "");
  truncateSync(img, 16 << 20);
  if (fs) {
    const m = spawnSync("mkfs.ext4", ["-q", "-F", img], { encoding: "utf8" });
    if (m.status !== 0) throw new Error(`mkfs.ext4: ${m.stderr}`);
  }
  const r = spawnSync("losetup", ["-f", "--show", img], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`losetup: ${r.stderr}`);
  const dev = r.stdout.trim();
  loops.push(dev);
  return dev;
}

// ---- the generated files ------------------------------------------------------------------------

const TWO = ["alpha:10.0.0.1", "beta:10.0.0.2"];
const TWO_ARGS = TWO.flatMap((n) => ["--node", n]);

t.test("DRBD 8.4, two nodes, node fencing: disk { fencing }, the 8.4 handlers, every line explained", async (t) => {
  const p = plan({ resource: "r0", "drbd-version": "8.4", node: ["alpha:10.0.0.1", "beta:10.0.0.2:7790"], disk: ["/dev/sdb"], device: "/dev/drbd0", fencing: "agent", "link-mbit": "1000" });
  const text = renderResource(p);
  const { fence, unfence } = handlerLines(false);
  t.same(statements(text), [
    "resource r0 {",
    "net {",
    "protocol C;",
    "after-sb-0pri discard-zero-changes;",
    "after-sb-1pri discard-secondary;",
    "after-sb-2pri disconnect;",
    "rr-conflict disconnect;",
    "verify-alg crc32c;",
    "}",
    "disk {",
    "fencing resource-and-stonith;",
    "c-plan-ahead 20;",
    "c-max-rate 107M;",
    "c-min-rate 35M;",
    "resync-rate 35M;",
    "c-fill-target 1M;",
    "}",
    "handlers {",
    `fence-peer "${fence}";`,
    unfence,
    'split-brain "/usr/lib/drbd/notify-split-brain.sh root";',
    "}",
    "on alpha {",
    "device /dev/drbd0;",
    "disk /dev/sdb;",
    "meta-disk internal;",
    "address ipv4 10.0.0.1:7789;",
    "}",
    "on beta {",
    "device /dev/drbd0;",
    "disk /dev/sdb;",
    "meta-disk internal;",
    "address ipv4 10.0.0.2:7790;",
    "}",
    "}",
  ]);
  t.equal(unfence, 'after-resync-target "/usr/lib/drbd/crm-unfence-peer.sh";');
  t.same(uncommented(text), [], "every line carries its reason");
  const r = parsed(text, "r0");
  t.same(r.disk.fencing, "resource-and-stonith");
  t.same(drbdFencingFindings(r, { kernel: "8.4.11", stonith: true }), [], "what tsstor stack --fencing agent requires (8.4 kernel)");
  t.same(drbdFencingFindings(r, { kernel: undefined, stonith: true }), [], "and without a loaded module (version from the syntax)");
  t.notMatch(text, /node-id|auto-promote|quorum/, "no DRBD 9 syntax");
});

t.test("DRBD 9, two nodes, SBD: net { fencing }, the .9.sh handlers, auto-promote off", async (t) => {
  const p = plan({ resource: "data", "drbd-version": "9", node: TWO, disk: ["alpha:/dev/vdb", "beta:/dev/disk/by-id/virtio-0:1"], device: "/dev/drbd7", fencing: "sbd" });
  const text = renderResource(p);
  const st = statements(text);
  const { fence, unfence } = handlerLines(true);
  t.same(st.slice(0, 4), ["resource data {", "options {", "auto-promote no;", "}"]);
  t.ok(st.includes("fencing resource-and-stonith;") && st.indexOf("fencing resource-and-stonith;") < st.indexOf("disk {"), "fencing in the net section");
  t.ok(st.includes(`fence-peer "${fence}";`) && st.includes(unfence), "crm-fence-peer.9.sh and crm-unfence-peer.9.sh");
  t.same(unfence, 'unfence-peer "/usr/lib/drbd/crm-unfence-peer.9.sh";');
  for (const s of ["protocol C;", "after-sb-0pri discard-zero-changes;", "after-sb-1pri discard-secondary;", "after-sb-2pri disconnect;", "rr-conflict disconnect;", "verify-alg crc32c;", 'split-brain "/usr/lib/drbd/notify-split-brain.sh root";'])
    t.ok(st.includes(s), s);
  t.ok(st.includes("node-id 0;") && st.includes("node-id 1;"), "node ids in --node order");
  t.ok(st.includes('disk "/dev/disk/by-id/virtio-0:1";'), "a path with a colon is quoted");
  t.notOk(st.some((s) => s.startsWith("connection-mesh")), "two nodes: the implicit connection");
  t.notOk(st.some((s) => s.startsWith("quorum")), "no quorum with node fencing");
  t.same(uncommented(text), []);
  t.match(text, /# Fencing \(--fencing sbd\)/);
  const r = parsed(text, "data");
  t.same(r.options["auto-promote"], "no", "no drbd-auto-promote hazard");
  t.same(r.minors, [7]);
  t.same(drbdFencingFindings(r, { kernel: "9.2.12", stonith: true }), [], "what tsstor stack --fencing sbd requires");
  t.same(drbdFencingFindings(r, { kernel: undefined, stonith: true }), []);
});

t.test("DRBD 9, three nodes by quorum with a diskless tiebreaker", async (t) => {
  const p = plan({
    resource: "r1",
    "drbd-version": "9",
    node: TWO,
    "diskless-tiebreaker": "witness:10.0.0.3",
    disk: ["/dev/sdb"],
    device: "/dev/drbd1",
    fencing: "drbd-quorum",
    "on-no-quorum": "io-error",
    "link-mbit": "10000",
  });
  const text = renderResource(p);
  const st = statements(text);
  t.same(st.slice(0, 6), ["resource r1 {", "options {", "auto-promote no;", "quorum majority;", "on-no-quorum io-error;", "}"]);
  t.notOk(st.some((s) => s.startsWith("fencing ") || s.startsWith("fence-peer") || s.startsWith("unfence-peer")), "quorum instead of a fencing policy and its handlers");
  t.ok(st.includes('split-brain "/usr/lib/drbd/notify-split-brain.sh root";'));
  const tb = st.slice(st.indexOf("on witness {"), st.indexOf("on witness {") + 6);
  t.same(tb, ["on witness {", "node-id 2;", "device /dev/drbd1;", "disk none;", "address ipv4 10.0.0.3:7789;", "}"], "the tiebreaker: last node id, disk none, no meta-disk");
  t.same(st.slice(-4), ["connection-mesh {", "hosts alpha beta witness;", "}", "}"]);
  t.ok(st.includes("c-max-rate 1072M;") && st.includes("c-fill-target 4M;"), "10 Gbit/s numbers");
  t.same(uncommented(text), []);
  const r = parsed(text, "r1");
  t.same(r.hosts, ["alpha", "beta", "witness"]);
  t.same(drbdFencingFindings(r, { kernel: "9.2.12", stonith: false, quorum: "io-error" }), [], "what tsstor stack --fencing drbd-quorum --on-no-quorum io-error requires");
  const s = renderResource(plan({ resource: "r1", "drbd-version": "9", node: [...TWO, "gamma:10.0.0.4"], disk: ["/dev/sdb"], device: "/dev/drbd1", fencing: "drbd-quorum", "on-no-quorum": "suspend-io" }));
  t.same(drbdFencingFindings(parsed(s, "r1"), { kernel: "9.2.12", stonith: false, quorum: "suspend-io" }), [], "three data nodes, suspend-io");
});

t.test("--fencing none: no fencing policy, and a loud WARNING", async (t) => {
  for (const v of ["8.4", "9"]) {
    const text = renderResource(plan({ resource: "r0", "drbd-version": v, node: TWO, disk: ["/dev/sdb"], device: "/dev/drbd0", fencing: "none" }));
    t.match(text, /# WARNING: NO FENCING \(--fencing none\)/);
    t.match(text, /SPLIT BRAIN/);
    t.match(text, /\n {4}# WARNING: no `fencing` policy/, `${v}: the warning where the policy would be`);
    t.notOk(statements(text).some((s) => s.startsWith("fencing ") || s.startsWith("fence-peer")));
    const r = parsed(text, "r0");
    t.same(
      drbdFencingFindings(r, { kernel: v === "9" ? "9.2.12" : "8.4.11", stonith: true }).map((f) => f.id),
      ["drbd-no-fencing"],
      "tsstor doctor flags it on a fenced cluster",
    );
  }
});

t.test("the resync controller's numbers", async (t) => {
  const g1 = resyncPlan(1000);
  t.same(
    { max: g1.maxRateKiB, min: g1.minRateKiB, start: g1.resyncRateKiB, fill: g1.fillTargetKiB, plan: g1.planAhead },
    { max: 107 * 1024, min: 35 * 1024, start: 35 * 1024, fill: 1024, plan: 20 },
    "1 Gbit/s: 119.2 MiB/s raw -> c-max-rate 107M, c-min-rate 35M, c-fill-target 1M",
  );
  t.same([drbdSize(g1.maxRateKiB), drbdSize(g1.minRateKiB), drbdSize(g1.fillTargetKiB)], ["107M", "35M", "1M"]);
  const g10 = resyncPlan(10000);
  t.same(
    { max: g10.maxRateKiB, min: g10.minRateKiB, fill: g10.fillTargetKiB },
    { max: 1072 * 1024, min: 357 * 1024, fill: 4096 },
    "10 Gbit/s: 1192 MiB/s raw -> 1072M, 357M, fill capped at 4M",
  );
  t.ok(g1.maxRateKiB < g1.linkKiB && g10.maxRateKiB < g10.linkKiB, "below the link: headroom");
  const g100 = resyncPlan(100000);
  t.equal(g100.maxRateKiB, 4 << 20, "100 Gbit/s: DRBD's 4 GiB/s maximum");
  t.ok(g100.capped);
  const slow = resyncPlan(10);
  t.same([drbdSize(slow.maxRateKiB), drbdSize(slow.minRateKiB), drbdSize(slow.fillTargetKiB)], ["1098K", "366K", "1M"], "10 Mbit/s: KiB units");
  t.ok(slow.maxRateKiB >= 250, "above DRBD's c-max-rate minimum");
  const text = renderResource(plan({ resource: "r0", "drbd-version": "9", node: TWO, disk: ["/dev/sdb"], device: "/dev/drbd0", fencing: "sbd", "link-mbit": "10000" }));
  t.match(text, /c-max-rate 1072M; +# 90 % of 10000 Mbit\/s \(1192 MiB\/s\)/, "the number explained next to it");
  t.match(text, /disk \{ +# resync controller for a 10000 Mbit\/s replication link \(--link-mbit\)/);
  t.match(renderResource(plan({ resource: "r0", "drbd-version": "9", node: TWO, disk: ["/dev/sdb"], device: "/dev/drbd0", fencing: "sbd" })), /1000 Mbit\/s replication link \(assumed: --link-mbit\)/);
});

t.test("tsstor doctor's DRBD policy checks find nothing in a generated file", async (t) => {
  // cli/hazards/drbd-policy.ts (split-brain policies, handler, verify, resync rate against the
  // link, quorum): loaded by path, so this test skips itself where that module does not exist
  const path = "../../cli/hazards/drbd-policy.js";
  type Policy = { drbdPolicyFindings: (r: unknown, c: Record<string, unknown>) => Array<{ id: string }> };
  const mod = (await import(path).catch(() => undefined)) as Policy | undefined;
  if (!mod?.drbdPolicyFindings) {
    t.comment("cli/hazards/drbd-policy.ts not present: skipped");
    return;
  }
  const variants: Array<[InitArgs, string, boolean]> = [
    [{ resource: "r0", "drbd-version": "8.4", node: TWO, disk: ["/dev/sdb"], device: "/dev/drbd0", fencing: "agent", "link-mbit": "1000" }, "8.4.11", true],
    [{ resource: "r0", "drbd-version": "9", node: TWO, disk: ["/dev/sdb"], device: "/dev/drbd0", fencing: "sbd", "link-mbit": "10000" }, "9.2.12", true],
    [{ resource: "r0", "drbd-version": "9", node: TWO, "diskless-tiebreaker": "tb:10.0.0.3", disk: ["/dev/sdb"], device: "/dev/drbd0", fencing: "drbd-quorum", "on-no-quorum": "io-error" }, "9.2.12", false],
  ];
  for (const [a, kernel, stonith] of variants) {
    const p = plan(a);
    const r = parsed(renderResource(p), "r0");
    const found = mod.drbdPolicyFindings(r, { kernel, stonith, luns: [], link: { iface: "eth1", mbps: p.resync.linkMbit, peer: "10.0.0.2" }, fencingIds: [] });
    t.same(found.map((f) => f.id), [], `DRBD ${a["drbd-version"]}, --fencing ${a.fencing}, ${p.resync.linkMbit} Mbit/s`);
  }
});

// ---- validation ---------------------------------------------------------------------------------

t.test("every invalid option: exit 2, a clear message, nothing run or written", async (t) => {
  const sim = makeSim(["alpha", "beta"]);
  const etc = sim.etc("alpha");
  const ok = ["drbd", "init", "--resource", "r0", "--drbd-version", "9", ...TWO_ARGS, "--disk", "/dev/sdb", "--device", "/dev/drbd0", "--fencing", "sbd", "--out", etc.res("r0"), "--drbdconf", etc.conf];
  /** `ok` with flags replaced (or, for undefined, removed) */
  const set = (flag: string, v: string | undefined, ...more: Array<string | undefined>): string[] => {
    const a = [...ok];
    const i = a.indexOf(flag);
    if (i >= 0) a.splice(i, 2);
    const next = v === undefined ? a : [...a, flag, v];
    if (!more.length) return next;
    const [f2, v2, ...rest] = more;
    const saved = ok.splice(0, ok.length, ...next);
    try {
      return set(f2!, v2, ...rest);
    } finally {
      ok.splice(0, ok.length, ...saved);
    }
  };
  const cases: Array<[string, string[], RegExp]> = [
    ["no --resource", set("--resource", undefined), /--resource NAME is required/],
    ["a path in the name", set("--resource", "../r0"), /--resource: "\.\.\/r0" is not a DRBD resource name/],
    ["shell characters in the name", set("--resource", "r0;reboot"), /"r0;reboot" is not a DRBD resource name/],
    ["all", set("--resource", "all"), /"all" means every resource to drbdadm/],
    ["a leading dash", [...set("--resource", undefined), "--resource=-r0"], /"-r0" is not a DRBD resource name/],
    ["bad version", set("--drbd-version", "10"), /--drbd-version: "10" is not 8\.4 or 9/],
    ["no --node", ok.filter((x, i) => x !== "--node" && ok[i - 1] !== "--node"), /--node NAME:ADDRESS\[:PORT\] is required/],
    ["one node", [...ok.slice(0, ok.indexOf("--node")), "--node", "alpha:10.0.0.1", ...ok.slice(ok.indexOf("--node") + 4)], /--node: at least 2 nodes/],
    ["no address", [...ok, "--node", "gamma"], /--node gamma: "gamma" is not NAME:ADDRESS\[:PORT\]/],
    ["bad address", [...ok, "--node", "gamma:10.0.0.300"], /--node gamma:10\.0\.0\.300: "10\.0\.0\.300" is not an address/],
    ["bad port", [...ok, "--node", "gamma:10.0.0.3:99999"], /the port must be 1-65535/],
    ["wildcard address", [...ok, "--node", "gamma:0.0.0.0"], /"0\.0\.0\.0" is not a node's own address/],
    ["multicast address", [...ok, "--node", "gamma:224.0.0.1"], /multicast or reserved/],
    ["shell characters in a node", [...ok, "--node", "g$(reboot):10.0.0.3"], /"g\$\(reboot\)" is not a host name/],
    ["the same name twice", [...ok, "--node", "alpha:10.0.0.9"], /--node\/--diskless-tiebreaker name: "alpha" given twice/],
    ["the same address twice", [...ok, "--node", "gamma:10.0.0.1"], /address: "10\.0\.0\.1:7789" given twice/],
    ["IPv4 and IPv6", [...ok, "--node", "gamma:[fd00::3]:7789"], /all addresses must be IPv4 or all IPv6/],
    ["8.4 with three nodes", [...set("--drbd-version", "8.4"), "--node", "gamma:10.0.0.3"], /DRBD 8\.4 replicates between exactly 2 nodes \(3 given\)/],
    ["no --disk", set("--disk", undefined), /--disk \/dev\/\.\.\. is required/],
    ["a relative disk", set("--disk", "sdb"), /--disk sdb: "sdb" is not NAME|--disk sdb:/],
    ["a disk outside /dev", set("--disk", "/etc/passwd"), /"\/etc\/passwd" is not a block device path under \/dev\//],
    ["a DRBD device as disk", set("--disk", "/dev/drbd1"), /"\/dev\/drbd1" is a DRBD device/],
    ["traversal in the disk", set("--disk", "/dev/../etc/shadow"), /is not a plain absolute path/],
    ["shell characters in the disk", set("--disk", "/dev/sdb;reboot"), /is not a plain absolute path/],
    ["a disk for an unknown node", [...ok, "--disk", "gamma:/dev/sdc"], /--disk gamma:\/dev\/sdc: "gamma" is not one of the --node names/],
    ["two disks for every node", [...ok, "--disk", "/dev/sdc"], /a disk for every node was given already \(\/dev\/sdb\)/],
    ["a node without a disk", [...set("--disk", "alpha:/dev/sdb")], /--disk: no backing disk for beta/],
    ["no --device", set("--device", undefined), /--device \/dev\/drbdN is required/],
    ["not a DRBD device", set("--device", "/dev/sdb"), /--device: "\/dev\/sdb" is not \/dev\/drbdN/],
    ["a leading zero", set("--device", "/dev/drbd01"), /is not \/dev\/drbdN/],
    ["minor too large", set("--device", "/dev/drbd1048576"), /the minor must be 0-1048575/],
    ["no --fencing", set("--fencing", undefined), /--fencing is required: the DRBD side[\s\S]*--fencing drbd-quorum/],
    ["unknown fencing", set("--fencing", "stonith"), /--fencing: "stonith" is not a fencing method/],
    ["quorum on 8.4", [...set("--drbd-version", "8.4", "--fencing", "drbd-quorum"), "--on-no-quorum", "io-error"], /DRBD 8\.4 has no quorum/],
    ["quorum with two nodes", [...set("--fencing", "drbd-quorum"), "--on-no-quorum", "io-error"], /--fencing drbd-quorum: 2 DRBD nodes; quorum needs 3 or more[\s\S]*--diskless-tiebreaker/],
    ["quorum without on-no-quorum", [...set("--fencing", "drbd-quorum"), "--diskless-tiebreaker", "tb:10.0.0.3"], /--fencing drbd-quorum needs --on-no-quorum: io-error[\s\S]*suspend-io/],
    ["bad on-no-quorum", [...set("--fencing", "drbd-quorum"), "--diskless-tiebreaker", "tb:10.0.0.3", "--on-no-quorum", "freeze"], /--on-no-quorum: "freeze" is not io-error or suspend-io/],
    ["on-no-quorum without quorum", [...ok, "--on-no-quorum", "io-error"], /--on-no-quorum is an option of --fencing drbd-quorum/],
    ["a tiebreaker on 8.4", [...set("--drbd-version", "8.4"), "--diskless-tiebreaker", "tb:10.0.0.3"], /a diskless tiebreaker needs DRBD 9/],
    ["a disk for the tiebreaker", [...ok, "--diskless-tiebreaker", "tb:10.0.0.3", "--disk", "tb:/dev/sdc"], /--disk tb:\/dev\/sdc: tb is the diskless tiebreaker/],
    ["link speed not a number", [...ok, "--link-mbit", "fast"], /--link-mbit: "fast" is not a link speed in Mbit\/s/],
    ["link speed too slow", [...ok, "--link-mbit", "5"], /--link-mbit: "5"/],
    ["link speed with an exponent", [...ok, "--link-mbit", "1e3"], /--link-mbit: "1e3"/],
    ["link speed with a fraction", [...ok, "--link-mbit", "1000.5"], /--link-mbit: "1000\.5"/],
    ["relative --out", set("--out", "r0.res"), /--out: "r0\.res" is not a plain absolute path/],
    ["--out with --print", [...ok, "--print"], /--out and --print/],
    ["relative --drbdconf", set("--drbdconf", "drbd.conf"), /--drbdconf: "drbd\.conf" is not a plain absolute path/],
    ["a host that is none of the nodes", set("--resource", "r0"), /this host is "gamma" \(uname -n\), not one of alpha, beta/],
  ];
  for (const [what, args, want] of cases) {
    const before = sim.calls().length;
    const r = cli(args, sim.env(what === "a host that is none of the nodes" ? "gamma" : "alpha"));
    t.equal(r.code, 2, `${what}: exit 2`);
    t.match(r.err, want, what);
    t.match(r.err, /nothing was written or run\./, `${what}: says nothing happened`);
    t.equal(r.out, "", `${what}: no output`);
    t.notOk(existsSync(etc.res("r0")), `${what}: no file`);
    t.same(sim.calls().slice(before).filter((c) => !/^drbdadm --version$/.test(c)), [], `${what}: no DRBD tool ran`);
  }
  const all = cli(["drbd", "init", "--resource", "all", "--node", "x", "--disk", "sdb", "--device", "/dev/sdb", "--fencing", "nope", "--link-mbit", "0", "--drbd-version", "9"], sim.env("alpha"));
  t.equal(all.code, 2);
  t.equal((all.err.match(/^ {2}- /gm) ?? []).length, 7, "every problem at once");
  for (const m of [/"all" means every resource/, /--node x:/, /at least 2 nodes/, /--disk sdb:/, /--device: "\/dev\/sdb"/, /--fencing: "nope"/, /--link-mbit: "0"/]) t.match(all.err, m);
  const undetected = cli(set("--drbd-version", undefined), { ...sim.env("alpha"), env: { PATH: join(sim.dir, "no-such-bin") }, procRoot: join(sim.dir, "no-proc") });
  t.equal(undetected.code, 2);
  t.match(undetected.err, /--drbd-version: cannot tell the DRBD version on this node \(no DRBD module loaded .*drbdadm not installed.*\); pass --drbd-version 8\.4 or --drbd-version 9/);
  let thrown: unknown;
  try {
    planInit({ resource: "r0" }, noDetect);
  } catch (e) {
    thrown = e;
  }
  t.ok(thrown instanceof InitInvalid, "planInit throws InitInvalid");
  t.equal((thrown as InitInvalid).problems.length, 5, "with every problem: version, node, disk, device, fencing");
});

t.test("the version comes from this node when not given", async (t) => {
  const sim = makeSim(["alpha", "beta"], "8.4.11");
  const r = cli(["drbd", "init", "--resource", "r0", ...TWO_ARGS, "--disk", "/dev/sdb", "--device", "/dev/drbd0", "--fencing", "sbd", "--print"], sim.env("alpha"));
  t.equal(r.code, 0, r.err);
  t.match(r.out, /^# DRBD 8\.4 resource r0/);
  t.match(r.out, /crm-fence-peer\.sh"/);
  t.equal(admKernelVersion("DRBD_KERNEL_VERSION_CODE=0x090212\n"), "9");
  t.equal(admKernelVersion("DRBD_KERNEL_VERSION_CODE=0x08040b\n"), "8.4");
  t.equal(admKernelVersion("DRBD_KERNEL_VERSION_CODE=0x000000\n"), undefined, "no module loaded");
  const a = sim.tool("alpha", "drbdadm", ["--version"]);
  t.equal(admKernelVersion(a.stdout), "8.4", "the simulator's drbdadm --version");
});

// ---- on this node -------------------------------------------------------------------------------

/** init arguments for node `self` of a two-node resource with per-node disks and /etc. */
function initArgs(sim: Sim, self: string, disks: Record<string, string>, extra: string[] = [], name = "r0"): string[] {
  const etc = sim.etc(self);
  return [
    "drbd", "init", "--resource", name, "--drbd-version", extra.includes("8.4") ? "8.4" : "9",
    "--node", "alpha:127.0.0.1", "--node", "beta:127.0.0.2",
    ...Object.entries(disks).flatMap(([n, d]) => ["--disk", `${n}:${d}`]),
    "--device", "/dev/drbd0", "--fencing", "sbd",
    "--out", etc.res(name), "--drbdconf", etc.conf,
    ...extra.filter((x) => x !== "8.4"),
  ];
}

const admCalls = (sim: Sim, since: number, verb: string) => sim.calls().slice(since).filter((c) => c.startsWith("drbdadm ") && c.split(" ").includes(verb));

t.test("a backing disk with a filesystem is refused; --force uses it; a re-run changes nothing", async (t) => {
  const sim = makeSim(["alpha", "beta"]);
  const fsDisk = loopDevice("ext4", true);
  const disks = { alpha: fsDisk, beta: "/dev/null-beta" };
  const args = initArgs(sim, "alpha", disks);
  const etc = sim.etc("alpha");

  let n = sim.calls().length;
  const refused = cli(args, sim.env("alpha"));
  t.equal(refused.code, 1, "refused");
  t.match(refused.err, new RegExp(`${fsDisk} holds data: ext4 at 0x438 \\(wipefs --no-act\\)\\. The first sync overwrites a disk's content: --force if it is disposable`));
  t.match(refused.err, /nothing was written or run\./);
  t.notOk(existsSync(etc.res("r0")), "no file");
  t.same([...admCalls(sim, n, "create-md"), ...admCalls(sim, n, "up")], [], "no create-md, no up");
  t.equal(spawnSync("blkid", ["-p", "-o", "value", "-s", "TYPE", fsDisk], { encoding: "utf8" }).stdout.trim(), "ext4", "the filesystem is intact");

  n = sim.calls().length;
  const forced = cli([...args, "--force"], sim.env("alpha"));
  t.equal(forced.code, 0, forced.err);
  t.match(forced.out, new RegExp(`${etc.res("r0")} written\\.`));
  t.match(forced.out, new RegExp(`DRBD metadata created on ${fsDisk}`));
  t.match(forced.out, /r0 is up on alpha: Secondary disk:Inconsistent peers beta:Connecting/);
  t.match(forced.out, /Next:\n {2}1\. on beta: tsstor drbd init --resource r0 .*\n {2}2\. when every node shows Connected and Inconsistent/);
  t.same(admCalls(sim, n, "create-md").map((c) => c.replace(/-c \S+ /, "")), ["drbdadm create-md --force r0"]);
  t.same(admCalls(sim, n, "up").length, 1);
  t.equal(readFileSync(etc.res("r0"), "utf8"), cli([...args.filter((x, i) => !["--out", "--drbdconf"].includes(x) && !["--out", "--drbdconf"].includes(args[i - 1]!)), "--print"], sim.env("alpha")).out, "the file is what --print shows");

  n = sim.calls().length;
  const again = cli(args, sim.env("alpha"));
  t.equal(again.code, 0, again.err);
  t.match(again.out, /r0 is up on alpha with this file already \(.*\): nothing to do\./);
  t.same([...admCalls(sim, n, "create-md"), ...admCalls(sim, n, "up")], [], "not redone");

  const changed = cli([...args, "--link-mbit", "10000"], sim.env("alpha"));
  t.equal(changed.code, 1);
  t.match(changed.err, /exists with other content: compare it with `tsstor drbd init .*--link-mbit 10000 --print`, then --force to replace it/);
  t.match(changed.err, /r0 is up on this node: its disk and metadata are not touched either way/);
  t.notMatch(readFileSync(etc.res("r0"), "utf8"), /1072M/, "file unchanged");

  n = sim.calls().length;
  const replaced = cli([...args, "--link-mbit", "10000", "--force"], sim.env("alpha"));
  t.equal(replaced.code, 0, replaced.err);
  t.match(replaced.out, /replaced \(--force\)\. r0 is up on alpha: its disk and metadata were not touched\.\nApply the change once the new file is on every node: drbdadm adjust r0/);
  t.match(readFileSync(etc.res("r0"), "utf8"), /c-max-rate 1072M;/);
  t.same([...admCalls(sim, n, "create-md"), ...admCalls(sim, n, "up")], [], "a running resource is never re-created");

  rmSync(etc.res("r0"));
  const elsewhere = cli(args, sim.env("alpha"));
  t.equal(elsewhere.code, 1);
  t.match(elsewhere.err, /r0 is up on this node, but \S+r0\.res does not exist: it runs from another configuration/);
  t.notOk(existsSync(etc.res("r0")));
});

t.test("DRBD metadata on the disk is refused (drbdadm dump-md); --force re-creates it; an earlier run's unused metadata is kept", async (t) => {
  const sim = makeSim(["alpha", "beta"]);
  const disk = loopDevice("blank-md");
  const args = initArgs(sim, "beta", { alpha: "/dev/null-alpha", beta: disk });
  sim.ctl("md", "beta", "r0", "0", "UpToDate", "7"); // metadata with a data generation: a used disk

  let n = sim.calls().length;
  const refused = cli(args, sim.env("beta"));
  t.equal(refused.code, 1);
  t.match(refused.err, new RegExp(`${disk} holds DRBD metadata \\(drbdadm dump-md\\): it belongs to a resource that existed before`));
  t.match(refused.err, /--force creates new metadata \(this node then needs a full sync\)/);
  t.same(admCalls(sim, n, "dump-md").length, 1, "asked drbdadm dump-md");
  t.same([...admCalls(sim, n, "create-md"), ...admCalls(sim, n, "up")], []);
  t.notOk(existsSync(sim.etc("beta").res("r0")));

  n = sim.calls().length;
  const forced = cli([...args, "--force"], sim.env("beta"));
  t.equal(forced.code, 0, forced.err);
  t.equal(admCalls(sim, n, "create-md").length, 1, "new metadata");
  const st = JSON.parse(sim.ctl("dump")) as { nodes: Record<string, { md: Record<string, Record<string, { disk: string; gen: number }>> }> };
  t.same(st.nodes.beta!.md.r0!["0"], { disk: "Inconsistent", gen: 0, bitmap: {} }, "fresh metadata: Inconsistent, no generation");

  // down, then the same command again: the metadata is this run's and never held data
  t.equal(sim.tool("beta", "drbdadm", ["-c", sim.etc("beta").conf, "down", "r0"]).code, 0);
  n = sim.calls().length;
  const rerun = cli(args, sim.env("beta"));
  t.equal(rerun.code, 0, rerun.err);
  t.match(rerun.out, new RegExp(`${disk}: the metadata of an earlier run, never used for data, kept\\.`));
  t.same(admCalls(sim, n, "create-md"), [], "no create-md");
  t.equal(admCalls(sim, n, "up").length, 1, "up");
});

t.test("a disk in use is refused even with --force; unknown data is refused; drbd.conf must include the file", async (t) => {
  const sim = makeSim(["alpha", "beta"]);
  const disk = loopDevice("busy");
  const args = initArgs(sim, "alpha", { alpha: disk, beta: "/dev/null-beta" });
  const fd = openSync(disk, constants.O_RDONLY | constants.O_EXCL);
  try {
    const r = cli([...args, "--force"], sim.env("alpha"));
    t.equal(r.code, 1);
    t.match(r.err, new RegExp(`${disk} is in use \\(mounted, an LV/md/dm device on it, or open exclusively\\): DRBD needs it to itself; --force does not change that`));
  } finally {
    closeSync(fd);
  }
  const w = openSync(disk, "r+");
  writeSync(w, Buffer.from("not a filesystem, but not empty either"), 0, undefined, 4096);
  closeSync(w);
  const unknown = cli(args, sim.env("alpha"));
  t.equal(unknown.code, 1);
  t.match(unknown.err, /has no known signature, but its first MiB is not zeros: unknown data/);

  const lonely = join(sim.dir, "lonely.conf");
  writeFileSync(lonely, "# includes nothing\n");
  const notIncluded = cli([...args.slice(0, -1), lonely, "--force"], sim.env("alpha"));
  t.equal(notIncluded.code, 1);
  t.match(notIncluded.err, /drbdadm -c \S+lonely\.conf does not find r0 once \S+r0\.res is written .*must include it.*The file was taken back\./);
  t.notOk(existsSync(sim.etc("alpha").res("r0")), "taken back");

  writeFileSync(join(sim.etc("alpha").res("other")), "resource other {\n  device /dev/drbd0;\n  disk /dev/sdz;\n  meta-disk internal;\n  on alpha { address 127.0.0.1:7790; }\n  on beta { address 127.0.0.2:7790; }\n}\n");
  const clash = cli([...args, "--force"], sim.env("alpha"));
  t.equal(clash.code, 1);
  t.match(clash.err, /minor 0 \(\/dev\/drbd0\) is used by resource other \(\S+other\.res:1\): choose another --device/);
  rmSync(sim.etc("alpha").res("other"));
});

t.test("first-sync: refused until the peer is Connected and Inconsistent, then this node is the source", async (t) => {
  const sim = makeSim(["alpha", "beta"]);
  sim.ctl("sync-ms", "3600000");
  const disks = { alpha: loopDevice("fs-a"), beta: loopDevice("fs-b") };
  const conf = (n: string) => ["--drbdconf", sim.etc(n).conf];
  t.equal(cli(initArgs(sim, "alpha", disks), sim.env("alpha")).code, 0);

  const early = cli(["drbd", "first-sync", "r0", ...conf("alpha")], sim.env("alpha"));
  t.equal(early.code, 1);
  t.match(early.err, /peer beta is Connecting, not Connected: run `tsstor drbd init` on it/);
  t.match(early.err, /nothing was run\./);

  t.equal(cli(initArgs(sim, "beta", disks), sim.env("beta")).code, 0);
  const notUp = cli(["drbd", "first-sync", "r9", ...conf("alpha")], sim.env("alpha"));
  t.equal(notUp.code, 1);
  t.match(notUp.err, /r9 is not up on this node/);

  const n = sim.calls().length;
  const ok = cli(["drbd", "first-sync", "r0", ...conf("alpha")], sim.env("alpha"));
  t.equal(ok.code, 0, ok.err);
  t.same(
    sim.calls().slice(n).filter((c) => /^drbdadm .* (primary|secondary) /.test(c)).map((c) => c.replace(/-c \S+ /, "")),
    ["drbdadm primary --force r0", "drbdadm secondary r0"],
  );
  t.match(ok.out, /this node's data is now the truth \(drbdadm primary --force r0\)/);
  t.match(ok.out, /back to Secondary/);
  t.match(ok.out, /beta volume 0: SyncSource Inconsistent/);
  t.match(ok.out, /`tsstor status` shows the resync with a progress bar and ETA/);
  const st = parseEvents2(sim.tool("beta", "drbdsetup", ["events2", "--now", "r0"]).stdout, "r0");
  t.equal(st.connections[0]!.peerDevices[0]!.replication, "SyncTarget", "beta syncs from alpha");
  t.equal(st.role, "Secondary");

  const twice = cli(["drbd", "first-sync", "r0", ...conf("alpha")], sim.env("alpha"));
  t.equal(twice.code, 1);
  t.match(twice.err, /volume 0 on this node is UpToDate, not Inconsistent: it holds data already/);
  t.match(twice.err, /peer beta volume 0 is in SyncSource: a resync is running already/);

  const bad = cli(["drbd", "first-sync", "r0;reboot"], sim.env("alpha"));
  t.equal(bad.code, 2);
  t.match(bad.err, /"r0;reboot" is not a DRBD resource name/);
});

t.test("first-sync: refused when the peer holds data", async (t) => {
  const sim = makeSim(["alpha", "beta"]);
  sim.ctl("sync-ms", "3600000");
  const disks = { alpha: loopDevice("pd-a"), beta: loopDevice("pd-b") };
  t.equal(cli(initArgs(sim, "alpha", disks), sim.env("alpha")).code, 0);
  t.equal(cli(initArgs(sim, "beta", disks), sim.env("beta")).code, 0);
  // beta had UpToDate data all along (e.g. metadata from before, kept): alpha becomes its SyncTarget
  sim.tool("beta", "drbdadm", ["-c", sim.etc("beta").conf, "down", "r0"]);
  sim.ctl("md", "beta", "r0", "0", "UpToDate", "9");
  sim.tool("beta", "drbdadm", ["-c", sim.etc("beta").conf, "up", "r0"]);
  const r = cli(["drbd", "first-sync", "r0", "--drbdconf", sim.etc("alpha").conf], sim.env("alpha"));
  t.equal(r.code, 1);
  t.match(r.err, /peer beta volume 0 is in SyncTarget: a resync is running already/, "alpha is beta's sync target");
  t.same(sim.calls().filter((c) => / primary /.test(c)), [], "never forced");
});

t.test("DRBD 8.4: init, then first-sync with --overwrite-data-of-peer", async (t) => {
  const sim = makeSim(["alpha", "beta"], "8.4.11");
  sim.ctl("sync-ms", "3600000");
  const disks = { alpha: loopDevice("84-a"), beta: loopDevice("84-b") };
  for (const n of ["alpha", "beta"]) {
    const r = cli(initArgs(sim, n, disks, ["8.4"]), sim.env(n));
    t.equal(r.code, 0, r.err);
  }
  t.match(readFileSync(sim.etc("alpha").res("r0"), "utf8"), /disk \{[\s\S]*fencing resource-and-stonith;[\s\S]*after-resync-target "\/usr\/lib\/drbd\/crm-unfence-peer\.sh";/);
  const n = sim.calls().length;
  const r = cli(["drbd", "first-sync", "r0", "--drbdconf", sim.etc("alpha").conf], sim.env("alpha"));
  t.equal(r.code, 0, r.err);
  t.same(
    sim.calls().slice(n).filter((c) => /^drbdadm .*(primary|secondary) /.test(c)).map((c) => c.replace(/-c \S+ /, "")),
    ["drbdadm -- --overwrite-data-of-peer primary r0", "drbdadm secondary r0"],
  );
  t.match(r.out, /peer volume 0: SyncSource Inconsistent/);
});

t.test("DRBD 9 quorum with a diskless tiebreaker: the tiebreaker needs no disk, first-sync accepts it as a peer", async (t) => {
  const sim = makeSim(["alpha", "beta", "tb"]);
  sim.ctl("sync-ms", "3600000");
  const disks = { alpha: loopDevice("q-a"), beta: loopDevice("q-b") };
  const args = (self: string) => {
    const etc = sim.etc(self);
    return [
      "drbd", "init", "--resource", "rq", "--drbd-version", "9",
      "--node", "alpha:127.0.0.1", "--node", "beta:127.0.0.2", "--diskless-tiebreaker", "tb:127.0.0.3",
      "--disk", `alpha:${disks.alpha}`, "--disk", `beta:${disks.beta}`, "--device", "/dev/drbd5",
      "--fencing", "drbd-quorum", "--on-no-quorum", "suspend-io", "--out", etc.res("rq"), "--drbdconf", etc.conf,
    ];
  };
  let n = sim.calls().length;
  const tb = cli(args("tb"), sim.env("tb"));
  t.equal(tb.code, 0, tb.err);
  t.same([...admCalls(sim, n, "create-md"), ...admCalls(sim, n, "dump-md")], [], "no disk: no metadata to check or create");
  t.equal(admCalls(sim, n, "up").length, 1);
  t.match(tb.out, /rq is up on tb: Secondary disk:client/);
  for (const self of ["alpha", "beta"]) t.equal(cli(args(self), sim.env(self)).code, 0, `init on ${self}`);
  n = sim.calls().length;
  const r = cli(["drbd", "first-sync", "rq", "--drbdconf", sim.etc("alpha").conf], sim.env("alpha"));
  t.equal(r.code, 0, r.err);
  t.match(r.out, /beta volume 0: SyncSource Inconsistent/);
  t.match(r.out, /tb volume 0: Established Diskless/);
  t.equal(admCalls(sim, n, "primary").length, 1);
});

t.test("first-sync's rule on states", async (t) => {
  const base = parseEvents2(
    [
      "exists resource name:r0 role:Secondary suspended:no force-io-failures:no may_promote:no promotion_score:0",
      "exists connection name:r0 peer-node-id:1 conn-name:beta connection:Connected role:Secondary",
      "exists connection name:r0 peer-node-id:2 conn-name:tb connection:Connected role:Secondary",
      "exists device name:r0 volume:0 minor:0 backing_dev:/dev/sdb disk:Inconsistent client:no quorum:yes",
      "exists peer-device name:r0 peer-node-id:1 conn-name:beta volume:0 replication:Established peer-disk:Inconsistent peer-client:no resync-suspended:no",
      "exists peer-device name:r0 peer-node-id:2 conn-name:tb volume:0 replication:Established peer-disk:Diskless peer-client:yes resync-suspended:no",
      "exists -",
      "",
    ].join("\n"),
    "r0",
  );
  t.same(firstSyncProblems(base), [], "a fresh pair with a diskless tiebreaker");
  const diskless = structuredClone(base);
  diskless.volumes[0]!.disk = "Diskless";
  diskless.volumes[0]!.client = true;
  t.match(firstSyncProblems(diskless).join("\n"), /the sync source must be a node with a disk/);
  const primary = structuredClone(base);
  primary.connections[0]!.peerRole = "Primary";
  t.match(firstSyncProblems(primary).join("\n"), /peer beta is Primary/);
});

// ---- the tools' own output ----------------------------------------------------------------------

t.test("parsers of wipefs, blkid and drbdmeta output", async (t) => {
  t.same(parseWipefsJson('{\n   "signatures": [\n   ]\n}\n'), []);
  t.same(parseWipefsJson(""), []);
  t.same(parseWipefsJson('{"signatures":[{"device":"loop1","offset":"0x3fff03c","type":"drbd","uuid":null,"label":null}]}'), [{ type: "drbd", offset: "0x3fff03c" }]);
  t.equal(parseWipefsJson("garbage"), undefined);
  t.same(parseBlkid(2, ""), []);
  t.same(parseBlkid(0, "DEVNAME=/dev/loop2\nUUID=8237\nTYPE=ext4\nUSAGE=filesystem\n"), [{ type: "ext4" }]);
  t.same(parseBlkid(0, "DEVNAME=/dev/sdb\nPTUUID=x\nPTTYPE=gpt\n"), [{ type: "gpt partition table" }]);
  t.match(parseBlkid(8, ""), [{ type: /several/ }]);
  t.same(parseDumpMd(1, "", "No valid meta data found\n"), { present: false });
  t.same(parseDumpMd(255, "", 'Found meta data is "unclean", please apply-al first\n'), { present: true, fresh: false });
  t.match(parseDumpMd(20, "", "open(/dev/sdz) failed: No such file or directory\n"), { error: /open\(\/dev\/sdz\) failed/ });
});

t.test("the simulator's dump-md is drbdmeta's", async (t) => {
  const sim = makeSim(["alpha", "beta"]);
  const disk = loopDevice("simmd");
  const etc = sim.etc("alpha");
  t.equal(cli(initArgs(sim, "alpha", { alpha: disk, beta: "/dev/null-beta" }), sim.env("alpha")).code, 0);
  const fake = sim.tool("alpha", "drbdadm", ["-c", etc.conf, "dump-md", "r0"]);
  t.equal(fake.code, 0);
  t.same(parseDumpMd(fake.code, fake.stdout, fake.stderr), { present: true, fresh: true });
  sim.ctl("md", "alpha", "r0", "0", "UpToDate", "3");
  const used = sim.tool("alpha", "drbdadm", ["-c", etc.conf, "dump-md", "r0"]);
  t.same(parseDumpMd(used.code, used.stdout, used.stderr), { present: true, fresh: false });

  const real = ["/usr/sbin/drbdmeta", "/usr/sbin/drbdadm"].every(existsSync);
  if (!real) {
    t.comment("drbd-utils not installed: the comparison with the real drbdmeta is skipped");
    return;
  }
  // the real drbdmeta on a real loop device, through the real drbdadm with a generated file
  const me = hostname();
  const realDisk = loopDevice("realmd");
  const text = renderResource(plan({ resource: "rmd", "drbd-version": "9", node: [`${me}:127.0.0.1`, "peer-x:127.0.0.2"], disk: [realDisk], device: "/dev/drbd0", fencing: "sbd" }));
  const f = join(tmp, "rmd.res");
  writeFileSync(f, text);
  const env = { ...process.env, LC_ALL: "C" };
  const blank = spawnSync("drbdadm", ["-c", f, "dump-md", "rmd"], { encoding: "utf8", env });
  t.same(parseDumpMd(blank.status ?? 128, blank.stdout, blank.stderr), { present: false }, "real: a blank disk");
  t.equal(spawnSync("drbdadm", ["-c", f, "create-md", "--force", "rmd"], { encoding: "utf8", env }).status, 0, "real create-md");
  const made = spawnSync("drbdadm", ["-c", f, "dump-md", "rmd"], { encoding: "utf8", env });
  t.same(parseDumpMd(made.status ?? 128, made.stdout, made.stderr), { present: true, fresh: true }, "real: fresh metadata");
  const norm = (s: string) =>
    s
      .replace(/^# \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \[\d+\]$/m, "# DATE")
      .replace(/^# \S+> drbdmeta \d+ v09 \S+ internal dump-md$/m, "# HOST> drbdmeta")
      .replace(/^# (md_size_sect|md_offset|al_offset|bm_offset) \d+$/gm, "# $1 N")
      .replace(/^device-uuid 0x[0-9A-F]{16};$/m, "device-uuid RANDOM;");
  sim.ctl("md", "alpha", "r0", "0", "Inconsistent", "0");
  const fresh = sim.tool("alpha", "drbdadm", ["-c", etc.conf, "dump-md", "r0"]);
  t.equal(norm(fresh.stdout), norm(made.stdout), "the simulator prints what drbdmeta prints (date, host, layout, random device UUID aside)");
  t.notMatch(made.stdout, /^device-uuid 0x0{16};$/m, "drbdadm create-md sets a device UUID");
  const wipefs = spawnSync("wipefs", ["--no-act", "--json", realDisk], { encoding: "utf8" });
  t.same(parseWipefsJson(wipefs.stdout)?.map((s) => s.type), ["drbd"], "wipefs sees DRBD metadata as a drbd signature");
});

t.test("the real drbdadm accepts every generated variant", async (t) => {
  if (!existsSync("/usr/sbin/drbdadm")) {
    t.comment("drbd-utils not installed: skipped");
    return;
  }
  const me = hostname();
  const env = { ...process.env, LC_ALL: "C" };
  const variants: Array<[string, InitArgs, string]> = [
    ["9, two nodes, sbd", { resource: "v9sbd", "drbd-version": "9", node: [`${me}:127.0.0.1`, "peer-x:127.0.0.2"], disk: ["/dev/sdb"], device: "/dev/drbd0", fencing: "sbd" }, "drbdadm"],
    [
      "9, three nodes, quorum, tiebreaker",
      { resource: "v9q", "drbd-version": "9", node: [`${me}:127.0.0.1`, "peer-x:127.0.0.2"], "diskless-tiebreaker": "tb-x:127.0.0.3", disk: ["/dev/sdb"], device: "/dev/drbd1", fencing: "drbd-quorum", "on-no-quorum": "io-error", "link-mbit": "10000" },
      "drbdadm",
    ],
    ["9, tiebreaker's own view", { resource: "v9tb", "drbd-version": "9", node: ["peer-x:127.0.0.1", "peer-y:127.0.0.2"], "diskless-tiebreaker": `${me}:127.0.0.3`, disk: ["/dev/sdb"], device: "/dev/drbd1", fencing: "drbd-quorum", "on-no-quorum": "suspend-io" }, "drbdadm"],
    ["9, IPv6, no fencing", { resource: "v96", "drbd-version": "9", node: [`${me}:[fd00::1]`, "peer-x:[fd00::2]:7790"], disk: ["/dev/disk/by-path/pci-0000:00:1f.2-ata-1"], device: "/dev/drbd2", fencing: "none" }, "drbdadm"],
    ["8.4, two nodes, agent", { resource: "v84", "drbd-version": "8.4", node: [`${me}:127.0.0.1`, "peer-x:127.0.0.2"], disk: ["/dev/sdb"], device: "/dev/drbd3", fencing: "agent", "link-mbit": "10000" }, "/usr/lib/drbd/drbdadm-84"],
  ];
  for (const [what, a, adm] of variants) {
    if (!existsSync(adm) && adm !== "drbdadm") {
      t.comment(`${adm} not installed: ${what} skipped`);
      continue;
    }
    const p = plan(a);
    const f = join(tmp, `${p.resource}.res`);
    writeFileSync(f, renderResource(p));
    const d = spawnSync(adm, ["-c", f, "dump", p.resource], { encoding: "utf8", env });
    t.equal(d.status, 0, `${what}: ${adm} dump: ${d.stderr.split("\n").filter((l) => !/^modinfo/.test(l)).join(" ")}`);
    t.match(d.stdout, new RegExp(`^resource ${p.resource} \\{`, "m"));
    const dry = spawnSync(adm, ["-c", f, "-d", "up", p.resource], { encoding: "utf8", env });
    t.equal(dry.status, 0, `${what}: ${adm} -d up`);
    const m = p.resync;
    t.match(dry.stdout, new RegExp(`--c-max-rate=${drbdSize(m.maxRateKiB)}`), `${what}: the controller's settings reach drbdsetup`);
    if (p.fencing === "sbd" || p.fencing === "agent") t.match(dry.stdout, /--fencing=resource-and-stonith/, `${what}: the fencing policy reaches drbdsetup`);
    if (p.fencing === "drbd-quorum") t.match(dry.stdout, new RegExp(`--quorum=majority --on-no-quorum=${p.onNoQuorum}`), `${what}: quorum reaches drbdsetup`);
  }
});
