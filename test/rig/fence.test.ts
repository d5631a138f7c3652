// The rig's fence device: fence_tsstor_rig follows the fence-agents conventions (Pacemaker's own
// tools read its metadata, options on stdin, status 0/2), the power switch carries out one
// request at a time and refuses a requester that was powered off after it asked; and on a live
// 2-node cluster with stonith-enabled=true a cut cluster link ends with exactly one node fenced,
// one Promoted and one node answering ARP for the VIP, where the unfenced rig (rig.test.ts) shows
// both nodes Promoted.
import t from "tap";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { BUILD, scratchDir } from "../lib/harness.js";
import { installFenceAgent } from "../lib/install.js";
import { PowerSwitch, type Outlets } from "./power.js";
import { startRig, where, type Rig } from "./rig.js";
import { sleep } from "./exec.js";

const AGENT = join(BUILD, "test", "fence_tsstor_rig");
const other = (n: string) => (n === "n1" ? "n2" : "n1");

function agent(input: string | undefined, args: string[] = []) {
  const r = spawnSync(AGENT, args, { encoding: "utf8", input: input ?? "" });
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** Outlets of a pretend machine room: n1, n2 on; power changes take `ms`. */
function room(ms = 0): Outlets & { on: Map<string, boolean>; gens: Map<string, number> } {
  const on = new Map([["n1", true], ["n2", true]]);
  const gens = new Map([["n1", 1], ["n2", 1]]);
  return {
    on,
    gens,
    names: () => [...on.keys()],
    isOn: (n) => on.get(n) ?? false,
    generation: (n) => gens.get(n) ?? 0,
    powerOff: async (n) => {
      await sleep(ms);
      on.set(n, false);
    },
    powerOn: async (n) => {
      await sleep(ms);
      on.set(n, true);
      gens.set(n, (gens.get(n) ?? 0) + 1);
    },
  };
}

t.test("fence-agents conventions: metadata for Pacemaker's tools, stdin options, exit codes", async (t) => {
  installFenceAgent();
  const md = agent("action=metadata\n");
  t.equal(md.code, 0);
  t.equal(spawnSync("xmllint", ["--noout", "-"], { input: md.stdout }).status, 0, "metadata is well-formed XML");
  const sa = spawnSync("stonith_admin", ["--metadata", "--agent", "fence_tsstor_rig"], { encoding: "utf8" });
  t.equal(sa.status, 0, sa.stderr);
  t.match(sa.stdout, /<parameter name="socket"/, "stonith_admin reads it");
  const pd = spawnSync("pcs", ["stonith", "describe", "fence_tsstor_rig"], { encoding: "utf8" });
  t.equal(pd.status, 0, pd.stderr);
  t.match(pd.stdout, /socket/, "pcs describes it");

  const room1 = room();
  const sock = join(scratchDir("power"), "power.sock");
  const sw = new PowerSwitch(sock, room1);
  await sw.start();
  t.teardown(() => sw.close());
  // the switch runs in this process: the agent must run without blocking its event loop
  const runAsync = (input: string, args: string[] = []) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((res) => {
      const c = spawn(AGENT, args, { stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      c.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
      c.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      c.stdin.end(input);
      c.on("close", (code) => res({ code: code ?? 128, stdout, stderr }));
    });
  let r = await runAsync(`# comment\naction=status\nport=n1\nsocket=${sock}\n`);
  t.equal(r.code, 0, "status of a node that is on: 0");
  t.match(r.stdout, /Status: ON/);
  r = await runAsync(`action=off\nplug=n1\nsocket=${sock}\n`);
  t.equal(r.code, 0, r.stderr);
  t.equal(room1.on.get("n1"), false, "off powered the outlet off");
  r = await runAsync("", ["-o", "status", "-n", "n1", `--socket=${sock}`]);
  t.equal(r.code, 2, "status of a node that is off: 2 (command-line options)");
  r = await runAsync(`action=list\nsocket=${sock}\n`);
  t.equal(r.code, 0);
  t.equal(r.stdout, "n1,n1\nn2,n2\n", "list: plug,alias per line");
  r = await runAsync(`action=monitor\nsocket=${sock}\n`);
  t.equal(r.code, 0, "monitor: the switch answers");
  r = await runAsync(`action=on\nplug=n1\nsocket=${sock}\n`);
  t.equal(r.code, 0);
  t.equal(room1.on.get("n1"), true, "on powered it on again");
  r = await runAsync(`action=off\nplug=n9\nsocket=${sock}\n`);
  t.equal(r.code, 1, "an outlet that does not exist fails");
  t.match(r.stderr, /no outlet "n9"/);
  r = await runAsync(`action=explode\nplug=n1\nsocket=${sock}\n`);
  t.equal(r.code, 1);
  t.match(r.stderr, /unsupported action "explode"/);
  r = await runAsync("action=off\nplug=n1\n");
  t.equal(r.code, 1, "no socket: fails before anything is done");
  r = await runAsync(`action=monitor\nsocket=${sock}.missing\n`);
  t.equal(r.code, 1, "a switch that is not there fails the monitor");
  t.equal(room1.on.get("n1"), true, "nothing was powered off by the failed requests");
});

t.test("power switch: one request at a time; a requester powered off since it asked is refused", async (t) => {
  const r = room(50);
  const sock = join(scratchDir("power"), "power.sock");
  const sw = new PowerSwitch(sock, r);
  await sw.start();
  t.teardown(() => sw.close());
  const { connect } = await import("node:net");
  const send = (req: object) =>
    new Promise<{ ok: boolean; error?: string }>((res) => {
      const s = connect(sock);
      let buf = "";
      s.setEncoding("utf8").on("data", (d: string) => (buf += d));
      s.on("connect", () => s.write(`${JSON.stringify(req)}\n`));
      s.on("close", () => res(JSON.parse(buf)));
    });
  // both halves of a cut cluster fence each other at the same moment
  const [a, b] = await Promise.all([send({ from: "n1", action: "off", plug: "n2" }), send({ from: "n2", action: "off", plug: "n1" })]);
  t.same([a.ok, b.ok], [true, false], "the first request wins");
  t.match(b.error, /requester n2 was powered off after it asked/);
  t.same([r.on.get("n1"), r.on.get("n2")], [true, false], "exactly one node is off");
  t.equal(sw.fencings().filter((e) => e.ok).length, 1);
  // a node rebooted since it asked did not ask (its old self did): n2 asks while the host's
  // reboot of n2 (off, then on: 100 ms) is being carried out
  const reboot = send({ action: "reboot", plug: "n2" });
  await sleep(25);
  const stale = send({ from: "n2", action: "off", plug: "n1" });
  t.ok((await reboot).ok, "the host's reboot of n2");
  t.notOk((await stale).ok, "a request from a node's previous boot is refused");
  t.equal(r.on.get("n1"), true, "n1 stays on");
  const bad = await send({ from: "n1", action: "off" });
  t.notOk(bad.ok, "no plug: refused");
});

t.test("live 2-node cluster with fencing", async (t) => {
  let rig: Rig | undefined;
  t.teardown(() => rig?.stop());
  rig = await startRig({ nodes: 2, clients: 1, fencing: true, log: (m) => t.comment(m) });
  const r = rig;
  const s0 = await r.status();
  t.same(where(s0, "rig-fence", "Started").length, 1, "the fence device runs");
  const p = await r.statefulWithVip();

  await t.test("hard kill of the Promoted node: the survivor fences it, then promotes", async (t) => {
    const survivor = other(p!);
    const killed = await r.hardKill(p!);
    await r.waitResource("vip", { node: survivor, on: survivor, timeoutMs: 60_000 });
    const ev = r.fenceEvents().filter((e) => e.ok && e.plug === p);
    t.equal(ev.length, 1, `one fencing of ${p}`);
    t.equal(ev[0]?.from, survivor, "asked by the survivor");
    t.comment(`fenced ${ev[0] ? ev[0].at - killed : "?"} ms after the kill; promote + VIP ${Date.now() - killed} ms after it`);
    t.same(await r.arpOwners(r.vip()), [r.mac(survivor)], "only the survivor answers for the VIP");
    await r.restart(p!);
    await r.waitResource("st-clone", { role: "Unpromoted", node: p });
  });

  await t.test("cluster link cut: exactly one node fenced, one Promoted, one VIP owner", async (t) => {
    const before = r.fenceEvents().length;
    r.cut("n1");
    const fenced = await r.waitFor("a node fenced", () => r.fenceEvents().slice(before).find((e) => e.ok)?.plug, { on: "n1", timeoutMs: 60_000 }).catch(async () =>
      r.waitFor("a node fenced", () => r.fenceEvents().slice(before).find((e) => e.ok)?.plug, { on: "n2", timeoutMs: 10_000 }),
    );
    const survivor = other(fenced);
    const ok = r.fenceEvents().slice(before).filter((e) => e.ok);
    t.equal(ok.length, 1, `exactly one node fenced (${fenced}, asked by ${ok[0]?.from})`);
    t.notOk(r.node(fenced).up, `${fenced} is powered off`);
    await r.waitResource("vip", { node: survivor, on: survivor, timeoutMs: 60_000 });
    const s = await r.status(survivor);
    t.same(where(s, "st-clone", "Promoted"), [survivor], "one Promoted: the survivor");
    t.same(await r.arpOwners(r.vip()), [r.mac(survivor)], "one node answers ARP for the VIP");
    // tsstor status shows the method, the device and this fencing (Pacemaker records the action
    // asked for, reboot, which the device carries out as off: pcmk_reboot_action=off)
    const st = await r.node(survivor).run(join(BUILD, "tsstor"), ["status", "--json"], { timeoutMs: 60_000 });
    const f = (JSON.parse(st.stdout) as { cluster: { fencing: { method: string; devices: Array<{ id: string; agent: string }>; last?: Record<string, string> } } }).cluster.fencing;
    t.equal(f.method, "agent", "status: fencing by a fence agent");
    t.same(f.devices.map((d) => `${d.id} ${d.agent}`), ["rig-fence fence_tsstor_rig"], "status: the device");
    t.match(f.last, { action: "reboot", target: fenced, by: survivor, status: "success" }, "status: the last fencing event");
    const text = await r.node(survivor).run(join(BUILD, "tsstor"), ["status"], { timeoutMs: 60_000, env: { NO_COLOR: "1" } });
    t.ok(text.stdout.includes(`\nFencing: agent: rig-fence (fence_tsstor_rig) on ${survivor}; last: ${fenced} reboot by ${survivor}, success at `), `status text: one Fencing line\n${text.stdout}`);
    r.heal();
    await r.restart(fenced);
    await r.waitResource("st-clone", { role: "Unpromoted", node: fenced });
    const [p2] = await r.waitResource("st-clone", { role: "Promoted", count: 1 });
    t.equal(p2, survivor, "the rejoined node comes back Unpromoted");
  });
});
