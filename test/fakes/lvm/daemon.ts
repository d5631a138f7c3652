// The fake daemons' process (started by the fake lvmlockd, dlm_controld, sanlock, wdmd, clvmd,
// cmirrord through `BUN_BE_BUN=1 <fakes>/<name> run daemon.ts KIND PIDFILE [SOCKET]`, so the
// process is named like the real daemon). It writes its pid file, serves lvmlockd's socket,
// and on SIGTERM cleans up and exits; lvmlockd, like the real one, ignores SIGTERM while
// lockspaces are started.

import { mkdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { load, update } from "./state.js";

const [kind, pidfile, socket] = process.argv.slice(2) as [string, string, string | undefined];

function lockdDump(): string {
  const s = load();
  const lines = ["info=structs unused_action_count=31 unused_client_count=31 unused_resource_count=29 unused_lock_count=32", `info=client pid=${process.pid} fd=7 pi=2 id=1 name=.`];
  for (const [vg, ls] of Object.entries(s.lockspaces)) {
    const v = s.vgs[vg];
    lines.push(
      `info=ls ls_name=lvm_${vg || "global"} vg_name=${vg} vg_uuid=${vg ? ls.vg_uuid : ""} vg_sysid=. vg_args=${vg ? `1.0.0:${s.clusterName}` : ""} lm_type=${ls.lm_type} host_id=${ls.host_id} create_fail=0 create_done=1 thread_work=0 thread_stop=0 thread_done=0 kill_vg=0 drop_vg=0 sanlock_gl_enabled=0`,
    );
    lines.push("info=r name=VGLK type=vg mode=un sh_count=0 version=0");
    if (!vg) lines.push("info=r name=GLLK type=gl mode=un sh_count=0 version=1");
    for (const l of Object.values(v?.lvs ?? {})) {
      if (l.active !== "ex" && l.active !== "sh") continue;
      lines.push(`info=r name=${l.uuid} type=lv mode=${l.active} sh_count=${l.active === "sh" ? 1 : 0} version=0`);
      lines.push(`info=lk mode=${l.active} version=0 flags=0x1 client_id=0`);
    }
  }
  return `${lines.join("\n")}\n`;
}

function lvLocksHeld(): boolean {
  const s = load();
  return Object.keys(s.lockspaces).some((vg) => Object.values(s.vgs[vg]?.lvs ?? {}).some((l) => l.active === "ex" || l.active === "sh"));
}

function cleanup(): void {
  if (kind === "lvmlockd") update((s) => void (s.lockspaces = {}));
  try {
    unlinkSync(pidfile);
  } catch {}
  if (socket) rmSync(socket, { force: true });
}

mkdirSync(dirname(pidfile), { recursive: true });
if (socket) {
  mkdirSync(dirname(socket), { recursive: true });
  rmSync(socket, { force: true });
  Bun.listen({
    unix: socket,
    socket: {
      data(sock, data) {
        const req = data.toString().trim();
        if (req === "info") {
          sock.write(lockdDump());
          sock.end();
        } else if (req === "stop_all") {
          // the real lvmlockctl --stop-lockspaces waits while LV locks are held: never answer
          if (lvLocksHeld()) return;
          update((s) => void (s.lockspaces = {}));
          sock.write("OK\n");
          sock.end();
        } else if (req === "quit") {
          sock.write("OK\n");
          sock.end();
          if (!Object.keys(load().lockspaces).length) {
            cleanup();
            process.exit(0);
          }
        } else {
          sock.write("OK\n");
          sock.end();
        }
      },
    },
  });
}
process.on("SIGTERM", () => {
  if (kind === "lvmlockd" && (load().lockdIgnoreTerm || Object.keys(load().lockspaces).length)) return;
  cleanup();
  process.exit(0);
});
setInterval(() => {}, 1 << 30);
writeFileSync(pidfile, `${process.pid}\n`);
