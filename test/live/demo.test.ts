// `tsstor demo` end to end (the README's main command), and interrupted with Ctrl-C (SIGINT)
// in the middle: nothing may be left behind (namespaces, daemons, rig claims, demo files).
import t from "tap";
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUILD } from "../lib/harness.js";
import { netnsList, readClaims } from "../rig/net.js";
import { clientToolsMissing } from "../rig/iscsi.js";

const CLI = join(BUILD, "tsstor");
const missing = (await clientToolsMissing()) ?? (existsSync(CLI) ? undefined : "build/tsstor not built");
const demoDirs = () => new Set(readdirSync(tmpdir()).filter((f) => f.startsWith("tsstor-demo-")));

function demo(stopAt?: RegExp): Promise<{ code: number | null; signal: string | null; out: string; prefix: string | undefined }> {
  return new Promise((resolve) => {
    const child = spawn(CLI, ["demo"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let sent = false;
    const on = (d: Buffer) => {
      out += d.toString();
      if (stopAt && !sent && stopAt.test(out)) {
        sent = true;
        child.kill("SIGINT");
      }
    };
    child.stdout.on("data", on);
    child.stderr.on("data", on);
    child.on("exit", (code, signal) => resolve({ code, signal, out, prefix: /starting 2 nodes \((tsr\d*)-n1/.exec(out)?.[1] }));
  });
}

t.test("the demo runs to the end", { skip: missing ?? false }, async (t) => {
  const before = demoDirs();
  const r = await demo();
  if (!t.equal(r.code, 0, "the demo exits 0")) t.comment(r.out);
  for (const m of [/\[8\/8\] Tearing everything down/, /failover time: \d+\.\d\d s from the hard kill/, /acknowledged writes read back: all correct/, /\(same disk\)/, /Online: \[ n1 n2 \]/, /OFFLINE: \[ n1 \]|OFFLINE: \[ n2 \]/, /fencing: n\d had n\d powered off \(stonith device rig-fence, fence_tsstor_rig\) before taking over/]) t.match(r.out, m);
  t.ok(r.prefix, "rig prefix seen");
  t.notOk(netnsList().some((n) => n.startsWith(`${r.prefix}-`)), "no namespaces left");
  t.same([...demoDirs()].filter((d) => !before.has(d)), [], "no demo files left");
});

t.test("Ctrl-C in the middle leaves nothing behind", { skip: missing ?? false }, async (t) => {
  const before = demoDirs();
  const r = await demo(/\[4\/8\]/);
  t.equal(r.code, 130, "exit 130 after SIGINT");
  t.ok(r.prefix);
  t.notOk(netnsList().some((n) => n.startsWith(`${r.prefix}-`)), "no namespaces left");
  t.notOk(readClaims().some((c) => c.prefix === r.prefix), "no rig claim left");
  t.same([...demoDirs()].filter((d) => !before.has(d)), [], "no demo files left");
});
