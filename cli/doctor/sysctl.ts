// sysctl.d(5): the kernel parameters a node sets at boot, as systemd-sysctl applies them — files
// named *.conf in /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d,
// /lib/sysctl.d (a name in an earlier directory hides the same name in a later one), read in
// file-name order, then /etc/sysctl.conf; the last setting of a key wins.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

export const SYSCTL_DIRS = ["/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d"];

/** key ("net.ipv4.ip_nonlocal_bind", slashes normalised to dots) -> value and the file that set it. */
export type Sysctl = Map<string, { value: string; file: string }>;

/** `key = value` lines; "#" and ";" start comments; a leading "-" (ignore errors) is dropped. */
export function parseSysctl(text: string, file: string, into: Sysctl = new Map()): Sysctl {
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim().replace(/^-/, "").replace(/\//g, ".");
    into.set(key, { value: line.slice(eq + 1).trim(), file });
  }
  return into;
}

/** The boot-time settings of the node whose files `rooted` maps to. Unreadable files are skipped. */
export function readSysctl(rooted: (p: string) => string): Sysctl {
  const chosen = new Map<string, string>();
  for (const d of SYSCTL_DIRS) {
    let names: string[];
    try {
      names = readdirSync(rooted(d));
    } catch {
      continue;
    }
    for (const n of names) if (n.endsWith(".conf") && !chosen.has(n)) chosen.set(n, join(d, n));
  }
  const files = [...chosen.keys()].sort().map((n) => chosen.get(n)!);
  files.push("/etc/sysctl.conf");
  const out: Sysctl = new Map();
  for (const f of files) {
    let text;
    try {
      text = readFileSync(rooted(f), "utf8");
    } catch {
      continue;
    }
    parseSysctl(text, f, out);
  }
  return out;
}
