// systemd unit enablement read from the unit directory alone (no systemctl, works on a CIB
// host that is not the node and on fixture trees): a unit is enabled when a link with its name
// sits in some <target>.wants/ or .requires/ directory, masked when <dir>/<unit> links to /dev/null.
import { readdirSync, readlinkSync } from "node:fs";
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
}
