// A fake targetcli (targetcli-fb 2.1.53 on rtslib-fb 2.1.75) that mutates the configfs emulation
// of test/lib/lio-emulation.ts the way rtslib mutates /sys/kernel/config, with targetcli's
// messages: info on stdout, errors on stderr, "This X already exists in configFS" and friends.
//
// Modes, as the real one: `targetcli CMD...` (argv joined, errors exit 1) and the shell reading
// commands on stdin (prompt "/> " before each line, an error does not stop the batch, exit 0,
// and `saveconfig` on exit unless the auto_save_on_exit preference is false).
// Root: $TSSTOR_CONFIGFS_ROOT (default /sys/kernel/config). Preferences: $TARGETCLI_HOME or
// ~/.targetcli (prefs.bin holds JSON here, a pickle in the real one). saveconfig writes
// <root>.saveconfig.json so tests can assert it never happens.

import { appendFileSync, closeSync, existsSync, ftruncateSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { randomUUID } from "node:crypto";
import { isIP } from "node:net";
import { err, out, stdinLines, type FakeMain } from "./lib.js";
import * as emu from "../lib/lio-emulation.js";
import { Lio } from "../../lib/iscsi/configfs.js";
import { portalsClash, samePortal } from "../../lib/iscsi/syntax.js";

const VERSION = "2.1.53";

class ExecError extends Error {}

const DEFAULT_PREFS: Record<string, unknown> = {
  export_backstore_name_as_model: true,
  auto_enable_tpgt: true,
  auto_add_mapped_luns: true,
  auto_cd_after_create: false,
  auto_save_on_exit: true,
  auto_add_default_portal: true,
  max_backup_files: "10",
  auto_use_daemon: false,
  daemon_use_batch_mode: false,
  color_mode: true,
  loglevel_console: "info",
  loglevel_file: "debug",
  prompt_length: 30,
};
const BOOL_PREFS = new Set(["export_backstore_name_as_model", "auto_enable_tpgt", "auto_add_mapped_luns", "auto_cd_after_create", "auto_save_on_exit", "auto_add_default_portal", "auto_use_daemon", "daemon_use_batch_mode", "color_mode"]);

// ---- the command line grammar of configshell (pyparsing, no parseAll: it stops silently) ------

const VAR = /^[A-Za-z0-9?;&*$!#,=_+/.<>()~@:\-%[\]]+/;
const KEYWORD_KV = /^([A-Za-z0-9_-]+)=([A-Za-z0-9?;&*$!#,=_+/.<>()~@:\-%[\]]*)/;
const PATH = /^(@[A-Za-z0-9:_.-]+|[A-Za-z0-9:_.[\]-]*\/[A-Za-z0-9:_.[\]/-]*|\.\.|\.|\*)/;

interface Parsed {
  path: string;
  command: string;
  pparams: string[];
  kparams: Record<string, string>;
}

export function parseLine(line: string): Parsed {
  let s = line.replace(/^\s+/, "");
  const r: Parsed = { path: "", command: "", pparams: [], kparams: {} };
  // pyparsing needs no whitespace between tokens: "tsstor-barrier" is the command "tsstor" with
  // the parameter "-barrier", as configshell parses it
  let m = PATH.exec(s);
  if (m) {
    r.path = m[0];
    s = s.slice(m[0].length).replace(/^\s+/, "");
  }
  m = /^[A-Za-z0-9_]+/.exec(s);
  if (m) {
    r.command = m[0];
    s = s.slice(m[0].length).replace(/^\s+/, "");
  }
  while (s.length) {
    const kv = KEYWORD_KV.exec(s);
    if (kv) {
      r.kparams[kv[1]!] = kv[2]!;
      s = s.slice(kv[0].length).replace(/^\s+/, "");
      continue;
    }
    const v = VAR.exec(s);
    if (!v) break; // the rest is ignored, as pyparsing does
    r.pparams.push(v[0]);
    s = s.slice(v[0].length).replace(/^\s+/, "");
  }
  return r;
}

// ---- the shell ---------------------------------------------------------------------------------

/**
 * The preferences, as targetcli's shell object loads them before anything else (even --version):
 * a missing prefs.bin gets configshell's warning on stdout, then the defaults are autosaved.
 */
function loadPrefs(home: string): Record<string, unknown> {
  mkdirSync(home, { recursive: true });
  const pf = join(home, "prefs.bin");
  if (!existsSync(pf)) {
    out(`Warning: Could not load preferences file ${pf}.\n`);
    writeFileSync(pf, JSON.stringify(DEFAULT_PREFS));
  }
  return { ...DEFAULT_PREFS, ...(JSON.parse(readFileSync(pf, "utf8")) as Record<string, unknown>) };
}

class Shell {
  readonly t: string;
  cwd = "/";
  exit = false;

  constructor(
    readonly configfs: string,
    readonly home: string,
    readonly prefs: Record<string, unknown>,
  ) {
    this.t = emu.ensureTargetCore(configfs);
    if (!existsSync(join(home, "history.txt"))) writeFileSync(join(home, "history.txt"), "");
  }

  info(s: string): void {
    out(`${s}\n`);
    this.logFile("INFO", s);
  }
  warning(s: string): void {
    out(`${s}\n`);
    this.logFile("WARNING", s);
  }
  private logFile(level: string, s: string): void {
    appendFileSync(join(this.home, "log.txt"), `[${level}] ${s}\n`);
  }
  savePrefs(): void {
    writeFileSync(join(this.home, "prefs.bin"), JSON.stringify(this.prefs));
  }
  history(line: string): void {
    appendFileSync(join(this.home, "history.txt"), `${line}\n`);
  }

  prompt(): string {
    let p = this.cwd;
    const len = Number(this.prefs.prompt_length);
    if (len && len < p.length) {
      const half = Math.floor((len - 3) / 2);
      p = `${p.slice(0, half)}...${p.slice(-half)}`;
    }
    return `${p}> `;
  }

  run(line: string): void {
    if (!line.trim()) return;
    this.logFile("VERBOSE", `Running command line '${line}'.`);
    const p = parseLine(line);
    let path = p.path || ".";
    let command = p.command;
    let pparams = p.pparams;
    if (!command) {
      command = "cd";
      pparams = [path];
      path = ".";
    }
    const target = this.resolve(path);
    this.execute(target, command, pparams, p.kparams);
  }

  // Paths -------------------------------------------------------------------------------------
  /** An absolute node path; a relative one starts at `from` (the node a command runs on). */
  resolve(path: string, from = this.cwd): string {
    if (path.startsWith("@")) {
      const b = (this.prefs.bookmarks as Record<string, string> | undefined)?.[path.slice(1)];
      if (!b) throw new ExecError(`No such bookmark ${path.slice(1)}`);
      path = b;
    }
    const segs = path.startsWith("/") ? [] : from.split("/").filter(Boolean);
    let cur = segs;
    for (const part of path.replace(/\/+/g, "/").split("/").filter(Boolean)) {
      if (part === ".") continue;
      if (part === "..") {
        cur = cur.slice(0, -1);
        continue;
      }
      const here = `/${cur.join("/")}`;
      if (!this.children(here).includes(part)) throw new ExecError(`No such path ${here === "/" ? "" : here}/${part}`);
      cur = [...cur, part];
    }
    return `/${cur.join("/")}`;
  }

  children(path: string): string[] {
    const s = path.split("/").filter(Boolean);
    if (s.length === 0) return ["backstores", "iscsi", "loopback", "vhost", "xen-pvscsi"];
    if (s[0] === "backstores") {
      if (s.length === 1) return ["block", "fileio", "pscsi", "ramdisk"];
      if (s.length === 2) return emu.storageObjects(this.t).filter((o) => o.plugin === pluginDir(s[1]!)).map((o) => o.name);
      return [];
    }
    if (s[0] === "iscsi") {
      if (s.length === 1) return this.targets();
      const td = emu.targetDir(this.t, s[1]!);
      if (s.length === 2) return readdirSync(td).filter((n) => n.startsWith("tpgt_")).map((n) => `tpg${n.slice(5)}`);
      const tpg = join(td, `tpgt_${s[2]!.slice(3)}`);
      if (s.length === 3) return ["acls", "luns", "portals"];
      if (s.length === 4 && s[3] === "luns") return readdirSync(join(tpg, "lun")).map((n) => `lun${n.slice(4)}`);
      if (s.length === 4 && s[3] === "portals") return readdirSync(join(tpg, "np"));
      if (s.length === 4 && s[3] === "acls") return readdirSync(join(tpg, "acls"));
      if (s.length === 5 && s[3] === "acls") return readdirSync(join(tpg, "acls", s[4]!)).filter((n) => /^lun_\d+$/.test(n)).map((n) => `mapped_lun${n.slice(4)}`);
      return [];
    }
    return [];
  }

  targets(): string[] {
    const d = join(this.t, "iscsi");
    return readdirSync(d).filter((n) => n !== "discovery_auth" && lstatSync(join(d, n)).isDirectory());
  }

  // Commands ----------------------------------------------------------------------------------
  execute(path: string, command: string, pp: string[], kp: Record<string, string>): void {
    const s = path.split("/").filter(Boolean);
    const bind = (req: string[], opt: string[]): Record<string, string | undefined> => bindParams(req, opt, pp, kp);
    switch (command) {
      case "exit":
        bind([], []);
        this.exit = true;
        return;
      case "cd": {
        const a = bind([], ["path"]);
        this.cwd = this.resolve(a.path ?? "/");
        return;
      }
      case "pwd":
        out(`${this.cwd}\n`);
        return;
      case "refresh":
      case "help":
        return;
      case "ls": {
        // the tree itself is not drawn (nothing here reads it); a missing path fails as for real
        const a = bind([], ["path", "depth"]);
        this.resolve(a.path ?? ".", path);
        return;
      }
      case "set":
        return this.set(path, s, pp, kp);
      case "get":
        return;
      case "saveconfig":
        bind([], ["savefile"]);
        return this.saveconfig();
      case "version":
        out(`Target CLI version ${VERSION}\n`);
        return;
    }
    const fn = this.commandFor(s, command);
    if (!fn) throw new ExecError(`Command not found ${command}`);
    fn(bind);
  }

  commandFor(s: string[], command: string): ((bind: (req: string[], opt: string[]) => Record<string, string | undefined>) => void) | undefined {
    const k = s.length === 0 ? "root" : s[0] === "backstores" ? ["backstores", "backstore", "so"][s.length - 1] : s[0] === "iscsi" ? ["iscsi", "target", "tpg", s[3], s[3] === "acls" ? "acl" : s[3] === "luns" ? "lun" : "portal", "mlun"][s.length - 1] : undefined;
    const key = `${k}:${command}`;
    const iqn = s[1]!;
    const tag = s[2] ? Number(s[2].slice(3)) : 1;
    const tpg = emu.tpgDir(this.t, iqn ?? "", tag);
    switch (key) {
      case "root:clearconfig":
        return (b) => {
          // rtslib clear_existing: targets first (they hold the storage objects), discovery auth, storage objects
          if (!evalBool(b([], ["confirm"]).confirm, false)) throw new ExecError("As a precaution, confirm=True needs to be set");
          for (const w of this.targets()) this.deleteTarget(emu.targetDir(this.t, w));
          const da = join(this.t, "iscsi", "discovery_auth");
          for (const f of ["password_mutual", "userid_mutual", "password", "userid"]) writeFileSync(join(da, f), "NULL");
          writeFileSync(join(da, "enforce_discovery_auth"), "0");
          for (const so of emu.storageObjects(this.t)) emu.removeStorageObject(so.dir);
          this.info("All configuration cleared");
        };
      case "iscsi:create":
        return (b) => this.createTarget(b([], ["wwn"]).wwn);
      case "iscsi:delete":
        return (b) => {
          const w = b(["wwn"], []).wwn!;
          const d = emu.targetDir(this.t, w);
          if (!existsSync(d)) throw new ExecError(`No such Target in configfs: ${d}`);
          this.deleteTarget(d);
          this.info(`Deleted Target ${w}.`);
        };
      case "target:create":
        return (b) => {
          let t = b([], ["tag"]).tag;
          if (t?.startsWith("tpg")) t = t.slice(3);
          const n = t === undefined ? this.freeTag(iqn) : Number(t);
          if (!Number.isInteger(n)) throw new ExecError("Tag argument must be a number.");
          this.createTpg(iqn, n);
        };
      case "target:delete":
        return (b) => {
          let t = b(["tag"], []).tag!;
          if (t.startsWith("tpg")) t = t.slice(3);
          const d = emu.tpgDir(this.t, iqn, Number(t));
          if (!existsSync(d)) throw new ExecError(`No such TPG in configfs: ${d}`);
          this.deleteTpg(d);
          this.info(`Deleted TPGT ${t}.`);
        };
      case "tpg:enable":
        return (b) => {
          b([], []);
          if (read(join(tpg, "enable")) === "1") return this.info("The TPGT is already enabled.");
          writeFileSync(join(tpg, "enable"), "1\n");
          this.info("The TPGT has been enabled.");
        };
      case "tpg:disable":
        return (b) => {
          b([], []);
          if (read(join(tpg, "enable")) !== "1") return this.info("The TPGT is already disabled.");
          writeFileSync(join(tpg, "enable"), "0\n");
          this.info("The TPGT has been disabled.");
        };
      case "portals:create":
        return (b) => {
          const a = b([], ["ip_address", "ip_port"]);
          const ip = a.ip_address ?? "0.0.0.0";
          const port = a.ip_port === undefined ? 3260 : Number(a.ip_port);
          if (!Number.isInteger(port)) throw new ExecError(`Syntax error, '${a.ip_port}' is not a number.`);
          if (port === 3260) this.info(`Using default IP port ${port}`);
          if (ip === "0.0.0.0") this.info("Binding to INADDR_ANY (0.0.0.0)");
          const name = npName(ip, port);
          if (existsSync(join(tpg, "np", name))) throw new ExecError("This NetworkPortal already exists in configFS");
          if (!this.kernelTakesPortal(iqn, tpg, ip, port)) throw new ExecError("Could not create NetworkPortal in configFS");
          emu.createPortal(tpg, name);
          this.info(`Created network portal ${ip}:${port}.`);
        };
      case "portals:delete":
        return (b) => {
          const a = b(["ip_address", "ip_port"], []);
          const name = npName(a.ip_address!, Number(a.ip_port));
          const d = join(tpg, "np", name);
          if (!existsSync(d)) throw new ExecError(`No such NetworkPortal in configfs: ${d}`);
          emu.rmTree(d);
          this.info(`Deleted network portal ${a.ip_address}:${a.ip_port}`);
        };
      case "acls:create":
        return (b) => {
          const a = b(["wwn"], ["add_mapped_luns"]);
          const add = evalBool(a.add_mapped_luns, this.prefs.auto_add_mapped_luns as boolean);
          const w = normalizeWwn(a.wwn!);
          if (existsSync(join(tpg, "acls", w))) throw new ExecError("This NodeACL already exists in configFS");
          const acl = emu.createAcl(tpg, w);
          this.info(`Created Node ACL for ${w}`);
          if (add) {
            for (const l of lunIndexes(tpg)) {
              emu.createMappedLun(acl, l, join(tpg, "lun", `lun_${l}`), alias(), false);
              this.info(`Created mapped LUN ${l}.`);
            }
          }
        };
      case "acls:delete":
        return (b) => {
          const w = normalizeWwn(b(["wwn"], []).wwn!);
          const d = join(tpg, "acls", w);
          if (!existsSync(d)) throw new ExecError(`No such NodeACL in configfs: ${d}`);
          emu.rmTree(d);
          this.info(`Deleted Node ACL ${w}.`);
        };
      case "acl:create":
        return (b) => {
          const a = b(["mapped_lun", "tpg_lun_or_backstore"], ["write_protect"]);
          const m = Number(a.mapped_lun);
          if (!/^\d+$/.test(a.mapped_lun!)) throw new ExecError("mapped_lun must be an integer");
          let src = a.tpg_lun_or_backstore!;
          if (src.startsWith("lun")) src = src.slice(3);
          let l: number;
          if (/^\d+$/.test(src)) l = Number(src);
          else {
            // a storage object: the TPG LUN exporting it, else a new one (rtslib's first free
            // index). A file or device path would create a storage object first: not modelled.
            const so = this.soByPath(a.tpg_lun_or_backstore!);
            if (!so) throw new ExecError("LUN, storage object, or path not valid");
            const found = lunExporting(tpg, so.dir);
            if (found !== undefined) l = found;
            else {
              l = freeLun(tpg);
              emu.createLun(tpg, l, so.dir, alias());
              this.info(`Created LUN ${l}.`);
            }
          }
          if (m < 0 || m > 255) throw new ExecError("Mapped LUN must be 0 to 255");
          const acl = join(tpg, "acls", s[4]!);
          const lunDir = join(tpg, "lun", `lun_${l}`);
          if (existsSync(lunDir) && readdirSync(acl).some((n) => /^lun_\d+$/.test(n) && emu.linkTarget(join(acl, n))?.target === lunDir)) {
            this.warning(`Warning: TPG LUN ${l} already mapped to this NodeACL`);
          }
          if (existsSync(join(acl, `lun_${m}`))) throw new ExecError("This MappedLUN already exists in configFS");
          if (!existsSync(lunDir)) throw new ExecError(`LUN ${l} does not exist in this TPG`);
          emu.createMappedLun(acl, m, lunDir, alias(), a.write_protect !== undefined && Number(a.write_protect) > 0);
          this.info(`Created Mapped LUN ${m}.`);
        };
      case "acl:delete":
        return (b) => {
          const m = b(["mapped_lun"], []).mapped_lun!;
          const d = join(tpg, "acls", s[4]!, `lun_${Number(m)}`);
          if (!existsSync(d)) throw new ExecError(`No such MappedLUN in configfs: ${d}`);
          emu.rmTree(d);
          this.info(`Deleted Mapped LUN ${m}.`);
        };
      case "luns:create":
        return (b) => {
          const a = b(["storage_object"], ["lun", "add_mapped_luns"]);
          const add = evalBool(a.add_mapped_luns, this.prefs.auto_add_mapped_luns as boolean);
          const so = this.soByPath(a.storage_object!);
          if (!so) throw new ExecError("storage object or path not valid");
          if (lunExporting(tpg, so.dir) !== undefined) throw new ExecError(`lun for storage object ${pluginName(so.plugin)}/${so.name} already exists`);
          let ls = a.lun;
          if (ls && ls.toLowerCase().startsWith("lun")) ls = ls.slice(3);
          let lun: number;
          if (ls === undefined) lun = freeLun(tpg);
          else {
            lun = Number(ls);
            if (!Number.isInteger(lun)) throw new ExecError(`invalid literal for int() with base 10: '${ls}'`);
            if (lun < 0 || lun > 65535) throw new ExecError("LUN must be 0 to 65535");
          }
          if (existsSync(join(tpg, "lun", `lun_${lun}`))) throw new ExecError("This LUN already exists in configFS");
          const ld = emu.createLun(tpg, lun, so.dir, alias());
          this.info(`Created LUN ${lun}.`);
          if (add) {
            for (const acl of readdirSync(join(tpg, "acls"))) {
              const existing = new Set(readdirSync(join(tpg, "acls", acl)).filter((n) => /^lun_\d+$/.test(n)).map((n) => Number(n.slice(4))));
              let m: number | undefined = ls !== undefined ? lun : 0;
              if (existing.has(m)) {
                m = undefined;
                for (let i = 0; i < 255; i++) if (!existing.has(i)) {
                  m = i;
                  break;
                }
              }
              if (m === undefined) {
                this.warning(`Cannot map new lun ${lun} into ACL ${acl}`);
                continue;
              }
              emu.createMappedLun(join(tpg, "acls", acl), m, ld, alias(), false);
              this.info(`Created LUN ${lun}->${m} mapping in node ACL ${acl}`);
            }
          }
        };
      case "luns:delete":
        return (b) => {
          let l = b(["lun"], []).lun!;
          if (l.toLowerCase().startsWith("lun")) l = l.slice(3);
          const d = join(tpg, "lun", `lun_${l}`);
          if (!/^\d+$/.test(l) || !existsSync(d)) throw new ExecError("Invalid LUN");
          emu.removeLun(tpg, d);
          this.info(`Deleted LUN ${l}.`);
        };
      case "backstore:create":
        return (b) => this.createBackstore(s[1]!, b);
      case "backstore:delete":
        return (b) => {
          const a = b(["name"], ["save"]);
          const so = emu.storageObjects(this.t).find((o) => o.plugin === pluginDir(s[1]!) && o.name === a.name);
          if (!so) throw new ExecError(`No storage object named ${a.name}.`);
          for (const l of emu.lunsOf(this.t, so.dir)) emu.removeLun(resolve(l, "..", ".."), l);
          emu.removeStorageObject(so.dir);
          this.info(`Deleted storage object ${a.name}.`);
        };
    }
    return undefined;
  }

  soByPath(p: string) {
    const m = /^\/backstores\/([^/]+)\/([^/]+)\/?$/.exec(p.replace(/\/+/g, "/"));
    if (!m) return undefined;
    return emu.storageObjects(this.t).find((o) => o.plugin === pluginDir(m[1]!) && o.name === m[2]);
  }

  freeTag(iqn: string): number {
    const used = new Set(readdirSync(emu.targetDir(this.t, iqn)).filter((n) => n.startsWith("tpgt_")).map((n) => Number(n.slice(5))));
    let n = 1;
    while (used.has(n)) n++;
    return n;
  }

  createTarget(wwnIn: string | undefined): void {
    const wwn = wwnIn === undefined ? `iqn.2003-01.org.linux-iscsi.tsstor.x8664:sn.${randomUUID().slice(24)}` : normalizeWwn(wwnIn);
    if (existsSync(emu.targetDir(this.t, wwn))) throw new ExecError("This Target already exists in configFS");
    emu.createTarget(this.t, wwn);
    this.info(`Created target ${wwn}.`);
    this.createTpg(wwn, 1);
  }

  /**
   * Whether the kernel's mkdir of np/<ip:port> succeeds. It parses the address (targetcli
   * brackets anything without a dot, so "[::1]" becomes "[[::1]]" and fails); refuses an ip:port
   * another TPG of the same target has; shares one listening socket between targets with the same
   * ip:port; and cannot bind next to a wildcard on the same port (0.0.0.0 covers IPv4, [::] both
   * families), nor a wildcard next to a specific address (EADDRINUSE). The address is not checked
   * against the host's interfaces.
   */
  kernelTakesPortal(iqn: string, tpg: string, ip: string, port: number): boolean {
    if (!isIP(ip) || port < 1 || port > 65535) return false;
    const name = npName(ip, port);
    const tag = basename(tpg);
    for (const o of new Lio(this.configfs).allPortals()) {
      // the same address on another TPG of this target (EEXIST), or a listener it cannot bind beside
      if (o.iqn === iqn && o.tpg !== tag && samePortal(o.portal, name)) return false;
      if (portalsClash(name, o.portal)) return false;
    }
    return true;
  }

  createTpg(wwn: string, tag: number): void {
    const d = emu.tpgDir(this.t, wwn, tag);
    if (existsSync(d)) throw new ExecError("This TPG already exists in configFS");
    emu.createTpg(this.t, wwn, tag);
    if (this.prefs.auto_enable_tpgt) writeFileSync(join(d, "enable"), "1");
    setTpgAttribute(d, "authentication", "0");
    this.info(`Created TPG ${tag}.`);
    if (this.prefs.auto_add_default_portal) {
      if (!this.kernelTakesPortal(wwn, d, "0.0.0.0", 3260)) {
        this.info("Default portal not created, TPGs within a target cannot share ip:port.");
      } else {
        emu.createPortal(d, "0.0.0.0:3260");
        this.info("Global pref auto_add_default_portal=true");
        this.info("Created default portal listening on all IPs (0.0.0.0), port 3260.");
      }
    }
  }

  deleteTarget(d: string): void {
    for (const tp of readdirSync(d).filter((n) => n.startsWith("tpgt_"))) this.deleteTpg(join(d, tp));
    emu.rmTree(d);
  }

  deleteTpg(d: string): void {
    writeFileSync(join(d, "enable"), "0");
    for (const a of readdirSync(join(d, "acls"))) emu.rmTree(join(d, "acls", a));
    for (const l of readdirSync(join(d, "lun"))) emu.removeLun(d, join(d, "lun", l));
    emu.rmTree(d);
  }

  createBackstore(type: string, b: (req: string[], opt: string[]) => Record<string, string | undefined>): void {
    const plugin = pluginDir(type) as emu.Plugin;
    const so = emu.storageObjects(this.t);
    const mustBeNew = (name: string) => {
      if (so.some((o) => o.plugin === plugin && o.name === name)) throw new ExecError(`Storage object ${type}/${name} exists`);
    };
    const create = (name: string, dev: string, wwn: string | undefined): string => {
      mustBeNew(name);
      const used = new Set(emu.hbaDirs(this.t).map((h) => h.index));
      let idx = 0;
      while (used.has(idx)) idx++;
      const dir = emu.createStorageObject(this.t, plugin, idx, name);
      writeFileSync(join(dir, "udev_path"), dev);
      writeFileSync(join(dir, "enable"), "1\n");
      writeFileSync(join(dir, "wwn", "vpd_unit_serial"), `T10 VPD Unit Serial Number: ${wwn ?? randomUUID()}\n`);
      if (this.prefs.export_backstore_name_as_model) {
        writeFileSync(join(dir, "attrib", "emulate_model_alias"), "1\n");
        writeFileSync(join(dir, "wwn", "product_id"), `${name.slice(0, 16)}\n`);
      }
      return dir;
    };
    const inUse = (dev: string): string | undefined => {
      const real = safeRealpath(dev);
      return so.find((o) => {
        const u = read(join(o.dir, "udev_path"));
        return u && safeRealpath(u) === real;
      })?.name;
    };
    if (type === "block") {
      const a = b(["name", "dev"], ["readonly", "wwn"]);
      const dev = a.dev!;
      // rtslib's order: targetcli's read-only probe (only without readonly=), the name, the
      // device type, then whether another storage object holds the device
      if (a.readonly === undefined) {
        try {
          closeSync(openSync(dev, "r"));
        } catch {
          throw new ExecError(`Could not open ${dev}`);
        }
      }
      mustBeNew(a.name!);
      if (!existsSync(dev) || !statSync(dev).isBlockDevice()) throw new ExecError(`Device ${dev} is not a TYPE_DISK block device`);
      if (inUse(dev)) throw new ExecError(`Cannot configure StorageObject because device ${dev} is already in use`);
      const dir = create(a.name!, dev, a.wwn);
      writeFileSync(join(dir, "info"), `Status: DEACTIVATED  Max Queue Depth: 0  SectorSize: 512  HwMaxSectors: 1024\n        iBlock device: ${dev.split("/").pop()}  UDEV PATH: ${dev}  readonly: ${evalBool(a.readonly, false) ? 1 : 0}\n        Major: 7 Minor: 0  CLAIMED: IBLOCK\n`);
      this.info(`Created block storage object ${a.name} using ${dev}.`);
      return;
    }
    if (type === "fileio") {
      const a = b(["name", "file_or_dev"], ["size", "write_back", "sparse", "wwn"]);
      const path = a.file_or_dev!;
      const writeBack = evalBool(a.write_back, true);
      if (existsSync(path)) {
        const other = inUse(path);
        if (other) throw new ExecError(`storage object for ${path} already exists: ${other}`);
      }
      let size: number;
      const st = existsSync(path) ? statSync(path) : undefined;
      if (st?.isBlockDevice()) {
        if (a.size) this.info("Block device, size parameter ignored");
        this.info("Note: block backstore preferred for best results");
        size = 0;
      } else if (st?.isFile()) {
        if (a.size) this.info(`${path} exists, using its size (${st.size} bytes) instead`);
        size = st.size;
      } else if (st) {
        throw new ExecError(`Path ${path} exists but is not a file`);
      } else {
        if (!a.size) throw new ExecError("Attempting to create file for new fileio backstore, need a size");
        size = humanToBytes(a.size);
        try {
          writeFileSync(path, "");
        } catch {
          throw new ExecError(`Could not open ${path}`);
        }
        const fd = openSync(path, "r+");
        ftruncateSync(fd, size);
        closeSync(fd);
      }
      const dir = create(a.name!, path, a.wwn);
      if (writeBack) writeFileSync(join(dir, "attrib", "emulate_write_cache"), "1\n");
      writeFileSync(join(dir, "info"), `Status: DEACTIVATED  Max Queue Depth: 0  SectorSize: 512  HwMaxSectors: 16384\n        TCM FILEIO ID: 0        File: ${path}  Size: ${size}  Mode: ${writeBack ? "Buffered-WCE" : "O_DSYNC"} Async: 0\n`);
      this.info(`Created fileio ${a.name} with size ${size}`);
      return;
    }
    if (type === "pscsi") {
      const a = b(["name", "dev"], []);
      // No SCSI devices behind an emulation: rtslib's own failure for a non-SCSI path.
      throw new ExecError(`Cannot find SCSI device by path, and dev parameter not in H:C:T:L format: ${a.dev}`);
    }
    throw new ExecError(`Command not found create`);
  }

  set(path: string, s: string[], pp: string[], kp: Record<string, string>): void {
    const group = pp[0];
    if (group === undefined) return;
    if (group === "global") {
      for (const [k, v] of Object.entries(kp)) {
        if (!(k in DEFAULT_PREFS)) throw new ExecError(`Unknown parameter ${k} in group 'global'.`);
        let val: unknown = v;
        if (BOOL_PREFS.has(k)) {
          if (!/^(true|false)$/i.test(v)) throw new ExecError(`Not setting ${k}! Syntax error, '${v}' is not true|false.`);
          val = v.toLowerCase() === "true";
        }
        this.prefs[k] = val;
        this.savePrefs();
        out(`Parameter ${k} is now '${v.toLowerCase()}'.\n`);
      }
      return;
    }
    const dir = this.cfsDir(s);
    if (!dir) throw new ExecError(`Unknown configuration group: ${group}`);
    for (const [k, v] of Object.entries(kp)) {
      if (group === "attribute") {
        if (!existsSync(join(dir, "attrib", k))) throw new ExecError(`Cannot find attribute: ${k}`);
        if (s[0] === "iscsi") setTpgAttribute(dir, k, v);
        else writeFileSync(join(dir, "attrib", k), v);
        if (k === "emulate_model_alias" && v === "1") writeFileSync(join(dir, "wwn", "product_id"), `${s[2]!.slice(0, 16)}\n`);
      } else if (group === "parameter") {
        if (!existsSync(join(dir, "param", k))) throw new ExecError(`Cannot find parameter: ${k}`);
        writeFileSync(join(dir, "param", k), `${v}\n`);
      } else if (group === "auth") {
        const file = { userid: "userid", password: "password", mutual_userid: "userid_mutual", mutual_password: "password_mutual" }[k];
        if (!file) throw new ExecError(`Unknown parameter ${k} in group 'auth'.`);
        if (v === "NULL") throw new ExecError("'NULL' is not a permitted value");
        writeFileSync(join(dir, "auth", file), v === "" ? "NULL" : v);
      } else {
        throw new ExecError(`Unknown configuration group: ${group}`);
      }
      out(`Parameter ${k} is now '${v}'.\n`);
    }
    void path;
  }

  cfsDir(s: string[]): string | undefined {
    if (s[0] === "iscsi" && s.length === 3) return emu.tpgDir(this.t, s[1]!, Number(s[2]!.slice(3)));
    if (s[0] === "iscsi" && s.length === 5 && s[3] === "acls") return join(emu.tpgDir(this.t, s[1]!, Number(s[2]!.slice(3))), "acls", s[4]!);
    if (s[0] === "backstores" && s.length === 3) return emu.storageObjects(this.t).find((o) => o.plugin === pluginDir(s[1]!) && o.name === s[2])?.dir;
    return undefined;
  }

  saveconfig(): void {
    const f = `${this.configfs.replace(/\/+$/, "")}.saveconfig.json`;
    writeFileSync(f, JSON.stringify({ saved: new Date().toISOString(), targets: this.targets() }));
    this.info(`Configuration saved to ${f}`);
  }
}

// ---- helpers -----------------------------------------------------------------------------------

function read(p: string): string | undefined {
  try {
    return readFileSync(p, "utf8").trim();
  } catch {
    return undefined;
  }
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

const pluginDir = (t: string): string => ({ block: "iblock", ramdisk: "rd_mcp" })[t] ?? t;
const pluginName = (p: string): string => ({ iblock: "block", rd_mcp: "ramdisk" })[p] ?? p;
const alias = (): string => randomUUID().slice(-10);

function lunIndexes(tpg: string): number[] {
  return readdirSync(join(tpg, "lun"))
    .map((n) => Number(n.slice(4)))
    .sort((a, b) => a - b);
}

/** The TPG LUN exporting a storage object, if any. */
function lunExporting(tpg: string, soDir: string): number | undefined {
  return lunIndexes(tpg).find((l) => emu.linkTarget(join(tpg, "lun", `lun_${l}`))?.target === soDir);
}

/** rtslib's index for a LUN created without one: the lowest free. */
function freeLun(tpg: string): number {
  const used = new Set(lunIndexes(tpg));
  let l = 0;
  while (used.has(l)) l++;
  return l;
}

/** rtslib normalize_wwn for the iSCSI fabric (iqn, naa, eui). */
function normalizeWwn(w: string): string {
  const c = w.trim().toLowerCase();
  if (/^iqn\.[0-9]{4}-[0-1][0-9]\..*\..*/.test(c) && !c.includes(" ") && !c.includes("_")) return c;
  if (/^naa\.[125][0-9a-f]{15}$/.test(c) || /^eui\.[0-9a-f]{16}$/.test(c)) return c;
  throw new ExecError("WWN not valid as: iqn, naa, eui");
}

/** The kernel's side effect of the authentication attribute on AuthMethod. */
function setTpgAttribute(tpg: string, k: string, v: string): void {
  writeFileSync(join(tpg, "attrib", k), v);
  if (k === "authentication") writeFileSync(join(tpg, "param", "AuthMethod"), v === "1" ? "CHAP\n" : "CHAP,None\n");
}

/** The np directory rtslib makes for a portal: targetcli brackets any address without a dot. */
const npName = (ip: string, port: number) => `${ip.includes(".") ? ip : `[${ip}]`}:${port}`;

function evalBool(v: string | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (/^true$/i.test(v)) return true;
  if (/^false$/i.test(v)) return false;
  throw new ExecError(`Syntax error, '${v}' is not true|false.`);
}

function humanToBytes(s: string): number {
  const m = /^(\d+)([kKmMgGtT]?)[bB]?$/.exec(s);
  if (!m) throw new ExecError(`Cannot interpret size: ${s}`);
  const unit = m[2] ? "kmgt".indexOf(m[2].toLowerCase()) + 1 : 0;
  return Number(m[1]) * 1024 ** unit;
}

/** configshell's assert_params, with its messages. */
function bindParams(req: string[], opt: string[], pp: string[], kp: Record<string, string>): Record<string, string | undefined> {
  const args = [...req, ...opt];
  const unexpected = Object.keys(kp).filter((k) => !args.includes(k)).sort();
  const missing = args.slice(pp.length).filter((a) => !opt.includes(a) && !(a in kp)).sort();
  if (missing.length === 1) throw new ExecError(`Missing required parameter ${missing[0]}`);
  if (missing.length > 1) throw new ExecError(`Missing required parameters ${missing.map((m) => `'${m}'`).join(", ")}`);
  if (unexpected.length === 1) throw new ExecError(`Unexpected keyword parameter '${unexpected[0]}'.`);
  if (unexpected.length > 1) throw new ExecError(`Unexpected keyword parameters ${unexpected.map((m) => `'${m}'`).join(", ")}.`);
  const all = [...args.slice(0, pp.length), ...Object.keys(kp)];
  for (const a of all) if (all.filter((x) => x === a).length > 1) throw new ExecError(`Duplicate parameter ${a}.`);
  const std = pp.length + Object.keys(kp).filter((k) => args.includes(k)).length;
  if (opt.length === 0 && std !== req.length) throw new ExecError(`Got ${std} positionnal parameters, expected exactly ${req.length}.`);
  if (std > args.length) throw new ExecError(`Got ${std} positionnal parameters, expected at most ${args.length}.`);
  const r: Record<string, string | undefined> = {};
  args.forEach((a, i) => (r[a] = i < pp.length ? pp[i] : kp[a]));
  return r;
}

// ---- entry ------------------------------------------------------------------------------------

function main(args: string[]): number {
  const home = process.env.TARGETCLI_HOME || join(process.env.HOME || "/root", ".targetcli");
  const prefs = loadPrefs(home);
  if (args[0] === "--version" || args[0] === "version" || args[0] === "-v") {
    err(`/usr/bin/targetcli version ${VERSION}\n`);
    return 0;
  }
  if (args[0] === "--help" || args[0] === "help" || args[0] === "-h") {
    err("Usage: /usr/bin/targetcli [--version|--help|CMD|--disable-daemon]\n");
    return 255;
  }
  const configfs = process.env.TSSTOR_CONFIGFS_ROOT || "/sys/kernel/config";
  if (!existsSync(configfs)) {
    out("Cannot mount configfs\n");
    return 255;
  }
  let sh: Shell;
  try {
    sh = new Shell(configfs, home, prefs);
  } catch (e) {
    out(`${(e as Error).message}\n`);
    return 255;
  }
  if (args.length) {
    try {
      sh.run(args.join(" "));
    } catch (e) {
      err(`${(e as Error).message}\n`);
      return 1;
    }
    return 0;
  }
  out(`targetcli shell version ${VERSION}\nCopyright 2011-2013 by Datera, Inc and others.\nFor help on commands, type 'help'.\n\n`);
  const lines = stdinLines();
  while (!sh.exit) {
    out(sh.prompt());
    const next = lines.next();
    if (next.done) {
      out("exit\n");
      sh.exit = true;
      break;
    }
    const line = next.value.trim();
    sh.history(line);
    try {
      sh.run(line);
    } catch (e) {
      if (!(e instanceof ExecError)) throw e;
      err(`${e.message}\n`);
    }
  }
  if (sh.prefs.auto_save_on_exit) {
    sh.info("Global pref auto_save_on_exit=true");
    sh.saveconfig();
  }
  return 0;
}

export const fakes: Record<string, FakeMain> = { targetcli: main };
