// systemd unit enablement read from the unit directory alone (no systemctl, works on a CIB
// host that is not the node and on fixture trees): a unit is enabled when a link with its name
// sits in some <target>.wants/ or .requires/ directory, masked when <dir>/<unit> links to /dev/null.
// Ordering an administrator added is read from the same directory: a full copy of the unit there
// (a regular file <dir>/<unit>) and its drop-ins <dir>/<unit>.d/*.conf.
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";

export class UnitDir {
  private links: Array<{ dir: string; name: string }> | undefined;
  constructor(readonly dir: string) {}

  private all(): Array<{ dir: string; name: string }> {
    if (this.links) return this.links;
    this.links = [];
    let entries: string[] = [];
    try {
      entries = readdirSync(this.dir);
    } catch {
      return this.links;
    }
    for (const d of entries.filter((e) => e.endsWith(".wants") || e.endsWith(".requires"))) {
      try {
        for (const name of readdirSync(join(this.dir, d))) this.links.push({ dir: d, name });
      } catch {
        /* not a directory */
      }
    }
    return this.links;
  }

  /** The .wants/.requires links that enable `unit` (a name, or a prefix ending in "@" for instances). */
  enabledBy(unit: string): string[] {
    const match = unit.endsWith("@") ? (n: string) => n.startsWith(unit) : (n: string) => n === unit;
    return this.masked(unit) ? [] : this.all().filter((l) => match(l.name)).map((l) => join(this.dir, l.dir, l.name));
  }

  masked(unit: string): boolean {
    try {
      return readlinkSync(join(this.dir, unit)) === "/dev/null";
    } catch {
      return false;
    }
  }

  /** Whether the directory itself is there (a CIB host that is not a node may have none). */
  exists(): boolean {
    return existsSync(this.dir);
  }

  /** The files that add to `unit` here: a full copy <dir>/<unit> (a regular file), then <dir>/<unit>.d/*.conf in name order. */
  unitFiles(unit: string): string[] {
    const out: string[] = [];
    const own = join(this.dir, unit);
    try {
      if (lstatSync(own).isFile()) out.push(own);
    } catch {
      /* no copy */
    }
    const d = join(this.dir, `${unit}.d`);
    try {
      out.push(...readdirSync(d).filter((f) => f.endsWith(".conf")).sort().map((f) => join(d, f)));
    } catch {
      /* no drop-ins */
    }
    return out;
  }

  /**
   * The values of `key` (e.g. "After") in the [section] of those files, one entry per unit name
   * listed, with file and line. systemd.syntax(7): "#"/";" comments, "\" continues a line.
   */
  directives(unit: string, key: string, section = "Unit"): Array<{ value: string; file: string; line: number }> {
    const out: Array<{ value: string; file: string; line: number }> = [];
    for (const file of this.unitFiles(unit)) {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch {
        continue;
      }
      let current = "";
      const lines = text.split("\n");
      for (let i = 0; i < lines.length; i++) {
        const start = i + 1;
        let l = lines[i]!.trim();
        if (l.startsWith("#") || l.startsWith(";")) continue;
        while (l.endsWith("\\") && i + 1 < lines.length) l = `${l.slice(0, -1)} ${lines[++i]!.trim()}`;
        const sec = /^\[([^\]]+)\]$/.exec(l);
        if (sec) {
          current = sec[1]!;
          continue;
        }
        const eq = l.indexOf("=");
        if (current !== section || eq < 0 || l.slice(0, eq).trim() !== key) continue;
        for (const v of l.slice(eq + 1).trim().split(/\s+/).filter(Boolean)) out.push({ value: v, file, line: start });
      }
    }
    return out;
  }

  /** The units `unit` is ordered after by the administrator's copy and drop-ins (After=). */
  dropInAfter(unit: string): Array<{ value: string; file: string; line: number }> {
    return this.directives(unit, "After");
  }
}
