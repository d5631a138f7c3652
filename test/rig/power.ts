// The rig's power switch: what a PDU or a BMC is to a real cluster. Nodes reach it through a
// UNIX socket in the rig's state directory (the host filesystem every node shares; no network
// of the rig is involved, as a BMC sits on its own management network), and the rig's fence
// agent (fence-agent.ts, installed as /usr/sbin/fence_tsstor_rig) speaks to it.
//
// Protocol: one JSON line each way. Request {from, action, plug}; answer {ok, status?, error?,
// plugs?}. Requests are carried out one at a time, in arrival order, as one switch does. A
// request from a node that has been powered off (or rebooted) since it asked is refused: a dead
// machine cannot send, so when both halves of a cut cluster fence each other at once exactly
// one of them survives, whatever the delays.
import { createServer, type Server, type Socket } from "node:net";
import { chmodSync, rmSync } from "node:fs";

export type PowerAction = "on" | "off" | "reboot" | "status" | "list" | "monitor";

export interface FenceEvent {
  /** Date.now() when the action completed */
  at: number;
  from: string;
  action: PowerAction;
  plug: string;
  ok: boolean;
  error?: string;
}

/** What the switch acts on: the rig's nodes. */
export interface Outlets {
  names(): string[];
  isOn(name: string): boolean;
  /** changes each time the node is powered on, to tell a rebooted requester from a live one */
  generation(name: string): number;
  powerOff(name: string): Promise<void>;
  powerOn(name: string): Promise<void>;
}

interface Request {
  from?: unknown;
  action?: unknown;
  plug?: unknown;
}

const ACTIONS: readonly string[] = ["on", "off", "reboot", "status", "list", "monitor"];

export class PowerSwitch {
  readonly events: FenceEvent[] = [];
  private server: Server | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly outlets: Outlets,
    private readonly log: (m: string) => void = () => {},
  ) {}

  async start(): Promise<void> {
    rmSync(this.path, { force: true });
    const server = createServer((sock) => this.serve(sock));
    await new Promise<void>((res, rej) => {
      server.once("error", rej);
      server.listen(this.path, () => res());
    });
    chmodSync(this.path, 0o600);
    this.server = server;
  }

  close(): void {
    this.server?.close();
    this.server = undefined;
    rmSync(this.path, { force: true });
  }

  /** Power actions that changed something (off, on, reboot), in order. */
  fencings(): FenceEvent[] {
    return this.events.filter((e) => e.action === "off" || e.action === "on" || e.action === "reboot");
  }

  private serve(sock: Socket): void {
    let buf = "";
    sock.setEncoding("utf8");
    sock.on("error", () => {});
    sock.on("data", (d: string) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl < 0) {
        if (buf.length > 4096) sock.destroy();
        return;
      }
      let req: Request;
      try {
        req = JSON.parse(buf.slice(0, nl)) as Request;
      } catch {
        sock.end(`${JSON.stringify({ ok: false, error: "not a JSON request" })}\n`);
        return;
      }
      // the requester's identity is taken when the request arrives, not when it is carried out
      const from = typeof req.from === "string" ? req.from : "";
      const gen = this.outlets.names().includes(from) ? this.outlets.generation(from) : -1;
      this.queue = this.queue.then(() => this.handle(req, from, gen)).then(
        (ans) => sock.end(`${JSON.stringify(ans)}\n`),
        (e: Error) => sock.end(`${JSON.stringify({ ok: false, error: e.message })}\n`),
      );
    });
  }

  private async handle(req: Request, from: string, gen: number): Promise<Record<string, unknown>> {
    const action = String(req.action ?? "");
    const plug = typeof req.plug === "string" ? req.plug : "";
    if (!ACTIONS.includes(action)) return { ok: false, error: `unknown action "${action}"` };
    if (action === "list") return { ok: true, plugs: this.outlets.names() };
    if (action === "monitor") return { ok: true };
    if (!this.outlets.names().includes(plug)) return { ok: false, error: `no outlet "${plug}"` };
    if (action === "status") return { ok: true, status: this.outlets.isOn(plug) ? "on" : "off" };
    const event: FenceEvent = { at: 0, from, action: action as PowerAction, plug, ok: true };
    // a node (not the host: from "") that went down or rebooted after it asked cannot have asked
    if (gen >= 0 && (!this.outlets.isOn(from) || this.outlets.generation(from) !== gen)) {
      event.ok = false;
      event.error = `requester ${from} was powered off after it asked`;
    } else {
      if (action === "off" || action === "reboot") await this.outlets.powerOff(plug);
      if (action === "on" || action === "reboot") await this.outlets.powerOn(plug);
    }
    event.at = Date.now();
    this.events.push(event);
    this.log(event.ok ? `power switch: ${action} ${plug} (asked by ${from || "the host"})` : `power switch: refused ${action} ${plug}: ${event.error}`);
    return event.ok ? { ok: true, status: this.outlets.isOn(plug) ? "on" : "off" } : { ok: false, error: event.error };
  }
}
