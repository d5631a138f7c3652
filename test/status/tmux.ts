// A private tmux server (its own socket, killed at teardown) to drive `tsstor status --watch` on
// a real terminal: start it, read the screen (capture-pane), send keys. `prefix` runs every tmux
// command through e.g. nsenter, so the server and the program in its pane live inside a rig node
// (the pane's exit status is then the program's own).
import { spawnSync } from "node:child_process";

export class Tmux {
  readonly socket = `tsstor-status-${process.pid}`;
  constructor(private readonly prefix: string[] = []) {}

  tmux(args: string[]): { code: number; stdout: string; stderr: string } {
    const argv = [...this.prefix, "tmux", "-L", this.socket, "-f", "/dev/null", ...args];
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 20_000 });
    return { code: r.status ?? 128, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  }

  /** A detached session of `width` x `height` running argv (no shell); kept after it exits. */
  start(name: string, argv: string[], width = 120, height = 50): void {
    const r = this.tmux(["new-session", "-d", "-s", name, "-x", String(width), "-y", String(height), "--", ...argv]);
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

  keys(name: string, ...keys: string[]): void {
    this.tmux(["send-keys", "-t", name, ...keys]);
  }

  /** Our server only (its own socket, removed too). */
  kill(): void {
    this.tmux(["kill-server"]);
    spawnSync("rm", ["-f", `/tmp/tmux-${process.getuid?.() ?? 0}/${this.socket}`]);
  }
}
