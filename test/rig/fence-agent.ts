// fence_tsstor_rig: the fence agent of tsstor's namespace test cluster, following the
// fence-agents conventions so pacemaker-fenced, stonith_admin and pcs treat it as any other:
// options as key=value lines on stdin (or -o/--action, -n/--plug, --socket on the command line),
// actions on, off, reboot, status, list, monitor, metadata, validate-all; exit 0 on success,
// status 0 = on, 2 = off, 1 = failure. It powers a rig node off the way the rig's hard kill does
// (the whole node's PID namespace SIGKILLed, cables unplugged), through the rig's power switch
// (power.ts) on a UNIX socket in the rig's state directory.
import { connect } from "node:net";
import { hostname } from "node:os";
import { readFileSync } from "node:fs";

const NAME = "fence_tsstor_rig";
const ACTIONS = ["on", "off", "reboot", "status", "list", "list-status", "monitor", "metadata", "validate-all"];

const METADATA = `<?xml version="1.0" ?>
<resource-agent name="${NAME}" shortdesc="Fence agent for tsstor's namespace test cluster">
<longdesc>Powers a node of tsstor's test rig (a Pacemaker node in network, mount and PID namespaces on one machine) off or on through the rig's power switch socket. Off kills the node's whole PID namespace and unplugs its links, like a power cut.</longdesc>
<vendor-url>https://example.invalid/tsstor</vendor-url>
<parameters>
\t<parameter name="action" unique="0" required="1">
\t\t<getopt mixed="-o, --action=[action]" />
\t\t<content type="string" default="reboot"  />
\t\t<shortdesc lang="en">Fencing action</shortdesc>
\t</parameter>
\t<parameter name="plug" unique="0" required="1" obsoletes="port">
\t\t<getopt mixed="-n, --plug=[id]" />
\t\t<content type="string"  />
\t\t<shortdesc lang="en">Node name of the rig node (its outlet on the power switch)</shortdesc>
\t</parameter>
\t<parameter name="port" unique="0" required="0" deprecated="1">
\t\t<getopt mixed="-n, --plug=[id]" />
\t\t<content type="string"  />
\t\t<shortdesc lang="en">Node name of the rig node (its outlet on the power switch)</shortdesc>
\t</parameter>
\t<parameter name="socket" unique="0" required="1">
\t\t<getopt mixed="--socket=[path]" />
\t\t<content type="string"  />
\t\t<shortdesc lang="en">Path of the rig's power switch socket</shortdesc>
\t</parameter>
\t<parameter name="power_timeout" unique="0" required="0">
\t\t<getopt mixed="--power-timeout=[seconds]" />
\t\t<content type="second" default="20"  />
\t\t<shortdesc lang="en">Seconds to wait for the power switch to answer</shortdesc>
\t</parameter>
</parameters>
<actions>
\t<action name="on" automatic="0"/>
\t<action name="off" />
\t<action name="reboot" />
\t<action name="status" />
\t<action name="list" />
\t<action name="list-status" />
\t<action name="monitor" />
\t<action name="metadata" />
\t<action name="validate-all" />
</actions>
</resource-agent>
`;

function fail(msg: string): never {
  process.stderr.write(`${NAME}: ${msg}\n`);
  process.exit(1);
}

/** Options from argv, or from stdin (key=value lines) when there are no arguments. */
function options(argv: string[]): Map<string, string> {
  const o = new Map<string, string>();
  if (argv.length === 0) {
    let text = "";
    try {
      text = readFileSync(0, "utf8");
    } catch {
      /* no stdin */
    }
    for (const line of text.split("\n")) {
      const l = line.trim();
      if (!l || l.startsWith("#")) continue;
      const eq = l.indexOf("=");
      if (eq > 0) o.set(l.slice(0, eq).trim(), l.slice(eq + 1).trim());
    }
    return o;
  }
  const long: Record<string, string> = { action: "action", plug: "plug", socket: "socket", "power-timeout": "power_timeout" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (a === "-o" || a === "-n") o.set(a === "-o" ? "action" : "plug", argv[++i] ?? "");
    else if (m && long[m[1]!]) o.set(long[m[1]!]!, m[2] ?? argv[++i] ?? "");
    else fail(`unknown option ${a}`);
  }
  return o;
}

function ask(socket: string, req: Record<string, string>, timeoutS: number): Promise<{ ok: boolean; status?: string; error?: string; plugs?: string[] }> {
  return new Promise((resolve) => {
    const s = connect(socket);
    let buf = "";
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ ok: false, error: `the power switch did not answer within ${timeoutS} s` });
    }, timeoutS * 1000);
    s.setEncoding("utf8");
    s.on("connect", () => s.write(`${JSON.stringify(req)}\n`));
    s.on("data", (d: string) => (buf += d));
    s.on("error", (e) => {
      clearTimeout(timer);
      resolve({ ok: false, error: `power switch ${socket}: ${e.message}` });
    });
    s.on("close", () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buf.trim()));
      } catch {
        resolve({ ok: false, error: "the power switch closed without an answer" });
      }
    });
  });
}

async function main(): Promise<number> {
  const o = options(process.argv.slice(2));
  const action = o.get("action") || o.get("option") || "reboot";
  if (!ACTIONS.includes(action)) fail(`unsupported action "${action}"`);
  if (action === "metadata") {
    process.stdout.write(METADATA);
    return 0;
  }
  const socket = o.get("socket") ?? "";
  if (!socket.startsWith("/")) fail("socket: an absolute path is required");
  const plug = o.get("plug") || o.get("port") || o.get("nodename") || "";
  const timeout = Number(o.get("power_timeout") ?? "20");
  if (!(timeout > 0 && timeout <= 600)) fail(`power_timeout: "${o.get("power_timeout")}" is not 1-600 seconds`);
  const needsPlug = !["list", "list-status", "monitor", "validate-all"].includes(action);
  if (needsPlug && !plug) fail("plug: the node to act on is required");
  if (action === "validate-all") return 0;
  const ans = await ask(socket, { from: hostname(), action: action === "list-status" ? "list" : action, plug }, timeout);
  if (!ans.ok) fail(ans.error ?? "failed");
  if (action === "list" || action === "list-status") {
    for (const p of ans.plugs ?? []) process.stdout.write(action === "list" ? `${p},${p}\n` : `${p},${p},on\n`);
    return 0;
  }
  if (action === "status") {
    process.stdout.write(`Status: ${ans.status === "on" ? "ON" : "OFF"}\n`);
    return ans.status === "on" ? 0 : 2;
  }
  if (action === "off" && ans.status !== "off") fail(`${plug} is still on`);
  if (action === "on" && ans.status !== "on") fail(`${plug} did not power on`);
  return 0;
}

void main().then((code) => process.exit(code));
