// The processes of test/net/tickle.test.ts, run with Bun inside the test's namespaces
// (`ip netns exec NS bun tickle-helper.ts MODE ...`). Every event is one JSON line on stdout
// with `t`, wall-clock milliseconds with a fraction, comparable across the processes.
//
//   server IP PORT       accept connections and discard what they send
//   client IP PORT       connect, send a byte every 100 ms, report "connected" and "error"/"close"
//   established IP PORT  print formatConns(established(IP, PORT)) of this namespace
//   tickle [REPEAT]      read formatConns() text on stdin, send the tickles, report the result

import { createServer, connect } from "node:net";
import { established, formatConns, parseConns, tickle } from "../../lib/net/tickle.js";

const now = () => performance.timeOrigin + performance.now();
const say = (ev: string, o: Record<string, unknown> = {}) => process.stdout.write(JSON.stringify({ ev, t: now(), ...o }) + "\n");

const [mode, ip, portText] = process.argv.slice(2);
const port = Number(portText);

switch (mode) {
  case "server": {
    const srv = createServer((s) => {
      s.on("data", () => {});
      s.on("error", () => {});
    });
    srv.listen({ host: ip, port }, () => say("listening"));
    break;
  }
  case "client": {
    const s = connect({ host: ip!, port });
    s.setNoDelay(true);
    let timer: ReturnType<typeof setInterval> | undefined;
    s.on("connect", () => {
      say("connected", { localAddress: s.localAddress, localPort: s.localPort });
      timer = setInterval(() => s.write("x"), 100);
    });
    s.on("error", (e: NodeJS.ErrnoException) => {
      say("error", { code: e.code ?? e.message });
      clearInterval(timer);
      process.exit(0);
    });
    s.on("close", () => {
      say("close");
      clearInterval(timer);
      process.exit(0);
    });
    break;
  }
  case "established":
    process.stdout.write(formatConns(established(ip!, port)));
    break;
  case "tickle": {
    const conns = parseConns(await Bun.stdin.text());
    const repeat = ip === undefined ? undefined : Number(ip); // `tickle [REPEAT]`: the first argument
    const t = now();
    const r = tickle(conns, repeat === undefined ? {} : { repeat });
    say("tickled", { start: t, sent: r.sent, errors: r.errors });
    break;
  }
  default:
    process.stderr.write(`unknown mode ${mode}\n`);
    process.exit(2);
}
