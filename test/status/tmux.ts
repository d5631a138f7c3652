// A private tmux server (its own socket, killed at teardown) to drive `tsstor status --watch` on
// a real terminal: start it, read the screen (capture-pane), send keys. `prefix` runs every tmux
// command through e.g. nsenter, so the server and the program in its pane live inside a rig node.
//
// The program's exit status is written to a file by a bash around it, not read from tmux's
// #{pane_dead_status}: tmux 3.3a runs libutempter's helper synchronously when a pane's terminal
// closes, with SIGCHLD set to SIG_DFL meanwhile, so a pane process exiting in that window is never
// reaped (a zombie; pane_dead_status stays empty). bash keeps going after a Ctrl-C its child
// handled (it only dies of SIGINT when the child did), so the file holds the child's own status.
import { spawnSync } from "node:child_process";

export class Tmux {
  readonly socket = `tsstor-status-${process.pid}`;
  constructor(private readonly prefix: string[] = []) {}

  tmux(args: string[]): { code: number; stdout: string; stderr: string } {
    return this.run(["tmux", "-L", this.socket, "-f", "/dev/null", ...args]);
  }

  private run(cmd: string[]): { code: number; stdout: string; stderr: string } {
    const argv = [...this.prefix, ...cmd];
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 20_000 });
    return { code: r.status ?? 128, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  }

  private rcFile = (name: string) => `/tmp/${this.socket}-${name}.rc`;
  private readonly names = new Set<string>();

  /** A detached session of `width` x `height` running argv (no shell parses it); kept after it exits. */
  start(name: string, argv: string[], width = 120, height = 50): void {
    this.names.add(name);
    this.run(["rm", "-f", this.rcFile(name)]); // never an earlier run's status
    const wrapped = ["bash", "-c", '"$@"; echo $? >"$0"', this.rcFile(name), ...argv];
    const r = this.tmux(["new-session", "-d", "-s", name, "-x", String(width), "-y", String(height), "--", ...wrapped]);
    if (r.code !== 0) throw new Error(`tmux new-session: ${r.stderr}`);
    this.tmux(["set-option", "-t", name, "remain-on-exit", "on"]);
  }

  /** The visible screen; with escapes: colours as SGR sequences. */
  capture(name: string, escapes = false): string {
    return this.tmux(["capture-pane", "-p", ...(escapes ? ["-e"] : []), "-t", name]).stdout;
  }

  display(name: string, format: string): string {
    return this.tmux(["display-message", "-p", "-t", name, format]).stdout.trim();
  }

  /** The program's exit status once it has ended, else undefined. */
  exitStatus(name: string): number | undefined {
    const r = this.run(["cat", this.rcFile(name)]);
    return r.code === 0 && /^\d+\n$/.test(r.stdout) ? Number(r.stdout) : undefined;
  }

  keys(name: string, ...keys: string[]): void {
    this.tmux(["send-keys", "-t", name, ...keys]);
  }

  /** Our server only (its own socket, removed too). */
  kill(): void {
    this.tmux(["kill-server"]);
    this.run(["rm", "-f", ...[...this.names].map(this.rcFile)]);
    spawnSync("rm", ["-f", `/tmp/tmux-${process.getuid?.() ?? 0}/${this.socket}`]);
  }
}
