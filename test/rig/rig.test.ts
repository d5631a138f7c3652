// The rig itself, on a real 2-node Pacemaker + Corosync cluster in namespaces: start, node
// commands, crm_mon parsing, a Dummy and a promotable Stateful clone with a virtual IP, hard-kill
// failover, restart, the split brain a link cut causes without fencing, and teardown that leaves
// nothing behind even when the owner is interrupted or killed.
import t from "tap";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startRig, where, isZombie, type Rig } from "./rig.js";
import { cleanupLeftovers } from "./cleanup.js";
import { PLATFORMS } from "./platform.js";
import { netnsList, readClaims } from "./net.js";
import { REPO } from "../lib/xml.js";

const BUN = join(REPO, "node_modules/@oven/bun-linux-x64-baseline/bin/bun");
const other = (n: string) => (n === "n1" ? "n2" : "n1");

let rig: Rig;
t.before(async () => {
  rig = await startRig({ nodes: 2, clients: 1, log: (m) => t.comment(m) });
});
t.teardown(() => rig?.stop());

t.test("two nodes online with a DC; private hostname, /run and network", async (t) => {
  const s = await rig.status();
  t.same(s.nodes.map((n) => [n.name, n.online]), [["n1", true], ["n2", true]]);
  t.ok(s.dc, `DC elected: ${s.dc}`);
  t.equal(s.quorum, true);
  t.equal((await rig.node("n2").run("hostname")).stdout.trim(), "n2");
  // the last line is the mount on top: a host whose /run is itself a tmpfs lists that one first
  const mounts = (await rig.node("n1").run("findmnt", ["-n", "-o", "SOURCE", "/run"])).stdout.trim().split("\n");
  t.equal(mounts.pop(), "tsr-run", "/run is the node's own tmpfs");
  t.equal((await rig.node("n1").run("ip", ["-br", "-4", "addr", "show", "eth1"])).stdout.includes("10.233.1.1/24"), true);
  t.same(await rig.arpOwners(rig.node("n2").addr(), 0, 1), [rig.mac("n2")], "the client reaches n2 on the service network");
  // the cluster stack is the chosen platform's (TSSTOR_RIG_PLATFORM): Debian 13's from its root
  const want = { debian12: /^Pacemaker 2\.1\./, debian13: /^Pacemaker 3\.0\./ }[rig.platform];
  for (const n of ["n1", "n2"]) t.match((await rig.node(n).run("pacemakerd", ["--version"])).stdout, want, `${n} runs ${PLATFORMS[rig.platform]}'s Pacemaker`);
  t.match((await rig.node("n1").run("pcs", ["--version"])).stdout, { debian12: /^0\.11\./, debian13: /^0\.12\./ }[rig.platform], "and its pcs");
});

t.test("Dummy: hard kill of its node moves it to the survivor; the node restarts and rejoins", async (t) => {
  await rig.pcsOk(["resource", "create", "d1", "ocf:pacemaker:Dummy", "op", "monitor", "interval=5s"]);
  const [first] = await rig.waitResource("d1");
  const survivor = other(first!);
  const killed = await rig.hardKill(first!);
  t.ok(isZombie(rig.node(first!).initPid), "the node's PID 1 is gone");
  const at = await rig.waitResource("d1", { node: survivor, on: survivor, timeoutMs: 30_000 });
  t.same(at, [survivor]);
  t.comment(`Dummy failover after hard kill: ${Date.now() - killed} ms`);
  const s = await rig.status(survivor);
  t.equal(s.nodes.find((n) => n.name === first)!.online, false, `${first} is offline for ${survivor}`);
  await rig.restart(first!);
  await rig.waitOnline(["n1", "n2"]);
  t.same(await rig.waitResource("d1", { on: first }), [survivor], "no move back on rejoin (no stickiness needed for one resource)");
  await rig.pcsOk(["resource", "delete", "d1"]);
});

t.test("promotable Stateful clone with a virtual IP: hard kill of the Promoted node", async (t) => {
  const p = await rig.statefulWithVip();
  t.same(await rig.arpOwners(rig.vip()), [rig.mac(p!)], `the VIP answers from ${p}`);
  const survivor = other(p!);
  const killed = await rig.hardKill(p!);
  await rig.waitResource("vip", { node: survivor, on: survivor, timeoutMs: 30_000 });
  const s = await rig.status(survivor);
  t.same(where(s, "st-clone", "Promoted"), [survivor], "the survivor promoted");
  t.comment(`promote + VIP failover after hard kill: ${Date.now() - killed} ms`);
  t.same(await rig.arpOwners(rig.vip()), [rig.mac(survivor)], "only the survivor answers for the VIP");
  await rig.restart(p!);
  await rig.waitResource("st-clone", { role: "Unpromoted", node: p });
});

t.test("link cut without fencing: both nodes promote (split brain), heal recovers one", async (t) => {
  rig.cut("n1");
  await Promise.all(
    ["n1", "n2"].map((n) => rig.waitResource("st-clone", { role: "Promoted", node: n, on: n, timeoutMs: 30_000 })),
  );
  for (const n of ["n1", "n2"]) {
    const s = await rig.status(n);
    t.same(where(s, "st-clone", "Promoted"), [n], `${n} sees itself alone and Promoted`);
    t.equal(s.nodes.find((x) => x.name === other(n))!.online, false);
  }
  await Promise.all(["n1", "n2"].map((n) => rig.waitResource("vip", { node: n, on: n })));
  const owners = await rig.arpOwners(rig.vip());
  t.same(owners, [rig.mac("n1"), rig.mac("n2")].sort(), "both nodes answer ARP for the VIP: split brain");
  rig.heal();
  await rig.waitOnline(["n1", "n2"]);
  const [p] = await rig.waitResource("st-clone", { role: "Promoted", count: 1, timeoutMs: 60_000 });
  await rig.waitResource("vip", { node: p });
  t.same(await rig.arpOwners(rig.vip()), [rig.mac(p!)], "after heal one node owns the VIP again");
});

t.test("orderly stop (pacemakerd --shutdown): resources move first, the node leaves cleanly", async (t) => {
  const [p] = await rig.waitResource("st-clone", { role: "Promoted" });
  const survivor = other(p!);
  await rig.stopNode(p!);
  await rig.waitResource("vip", { node: survivor, on: survivor });
  const s = await rig.status(survivor);
  t.same(where(s, "st-clone", "Promoted"), [survivor], "promoted on the survivor");
  t.same(where(s, "vip"), [survivor]);
  t.equal(s.nodes.find((n) => n.name === p)!.online, false);
  t.same(s.failures, [], "no failed operations");
  await rig.restart(p!);
  await rig.waitResource("st-clone", { role: "Unpromoted", node: p });
});

function holdRig(): Promise<{ child: ReturnType<typeof spawn>; prefix: string; dir: string; inits: number[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(BUN, [join(REPO, "test/rig/fixtures/hold-rig.ts")], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /READY (\S+) (\S+) (\S+)/.exec(out);
      if (m) resolve({ child, prefix: m[1]!, dir: m[2]!, inits: m[3]!.split(",").map(Number) });
    });
    child.on("exit", (c) => reject(new Error(`hold-rig exited ${c}: ${out}`)));
  });
}

const gone = (prefix: string, inits: number[]) =>
  !netnsList().some((n) => n.startsWith(`${prefix}-`)) && !readClaims().some((c) => c.prefix === prefix) && inits.every(isZombie);

t.test("an interrupted owner (SIGTERM) tears its rig down", async (t) => {
  const h = await holdRig();
  t.ok(netnsList().includes(`${h.prefix}-n1`));
  h.child.kill("SIGTERM");
  await new Promise((r) => h.child.on("exit", r));
  t.ok(gone(h.prefix, h.inits), "namespaces, claim and node processes gone");
  t.notOk(existsSync(h.dir), "state directory removed");
});

t.test("a SIGKILLed owner's rig is removed by the cleanup command", async (t) => {
  const h = await holdRig();
  h.child.kill("SIGKILL");
  await new Promise((r) => h.child.on("exit", r));
  t.ok(netnsList().includes(`${h.prefix}-n1`), "leftovers exist after SIGKILL");
  const r = cleanupLeftovers();
  t.ok(r.rigs.includes(h.prefix), `cleanup took ${h.prefix}`);
  t.notOk(r.rigs.includes(rig.prefix), "the live rig of this test was left alone");
  t.ok(netnsList().includes(`${rig.prefix}-n1`));
  t.ok(gone(h.prefix, h.inits), "namespaces, claim and node processes gone");
  t.notOk(existsSync(h.dir));
});
