// A storage array and this node's initiator, emulated for the iscsi agent on a host without an
// iSCSI initiator in its kernel: the fake iscsiadm (test/fakes/iscsiadm.ts) over an emulated
// sysfs, /dev and node database in a scratch directory. Tests change the world between actions:
// a portal goes down, a session fails, a LUN gets mounted or held by device-mapper.

import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUILD, scratchDir } from "../lib/harness.js";

export const IQN = "iqn.2026-01.org.tsstor.test:array";

export interface ArrayTarget {
  iqn: string;
  tpgt: number;
  portals: string[];
  luns: number[];
  chap?: { username: string; password: string; usernameIn?: string; passwordIn?: string };
}

export class InitiatorWorld {
  readonly dir: string;
  readonly sys: string;
  readonly dev: string;
  readonly db: string;
  readonly log: string;
  private readonly worldFile: string;
  private state: { targets: ArrayTarget[]; down: string[]; iscsid?: boolean };

  constructor(name: string, targets: ArrayTarget[] = [{ iqn: IQN, tpgt: 1, portals: ["127.0.0.1:3260", "127.0.0.2:3260"], luns: [1] }]) {
    this.dir = scratchDir(`ini-${name}`);
    this.sys = join(this.dir, "sys");
    this.dev = join(this.dir, "dev");
    this.db = join(this.dir, "iscsi");
    this.log = join(this.dir, "argv.log");
    for (const d of [this.sys, this.dev, this.db, join(this.dir, "proc/self"), join(this.dir, "rsc"), join(this.dir, "lock")]) mkdirSync(d, { recursive: true });
    writeFileSync(join(this.dir, "proc/self/mountinfo"), "");
    this.worldFile = join(this.dir, "array.json");
    this.state = { targets, down: [] };
    this.save();
  }

  private save(): void {
    writeFileSync(this.worldFile, JSON.stringify(this.state));
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: `${join(BUILD, "test", "fakes")}:/usr/sbin:/usr/bin:/sbin:/bin`,
      HA_RSCTMP: join(this.dir, "rsc"),
      TSSTOR_SYS_ROOT: this.sys,
      TSSTOR_DEV_ROOT: this.dev,
      TSSTOR_PROC_ROOT: join(this.dir, "proc"),
      TSSTOR_ISCSI_DB: this.db,
      TSSTOR_ISCSI_LOCK_DIR: join(this.dir, "lock"),
      TSSTOR_FAKE_ISCSI_WORLD: this.worldFile,
      TSSTOR_FAKE_LOG: this.log,
      ...extra,
    };
  }

  setDown(portal: string, down = true): void {
    this.state.down = this.state.down.filter((p) => p !== portal);
    if (down) this.state.down.push(portal);
    this.save();
  }

  setIscsid(running: boolean): void {
    this.state.iscsid = running;
    this.save();
  }

  setTargets(targets: ArrayTarget[]): void {
    this.state.targets = targets;
    this.save();
  }

  /** Sessions as sysfs shows them: sid, portal, state. */
  sessions(): Array<{ sid: number; portal: string; state: string; target: string }> {
    const dir = join(this.sys, "class/iscsi_session");
    if (!existsSync(dir)) return [];
    return readdirSync(dir).map((n) => {
      const sid = Number(n.slice("session".length));
      const c = join(this.sys, `class/iscsi_connection/connection${sid}:0`);
      return {
        sid,
        target: readFileSync(join(dir, n, "targetname"), "utf8").trim(),
        state: readFileSync(join(dir, n, "state"), "utf8").trim(),
        portal: `${readFileSync(join(c, "persistent_address"), "utf8").trim()}:${readFileSync(join(c, "persistent_port"), "utf8").trim()}`,
      };
    });
  }

  sessionOf(portal: string): number {
    const s = this.sessions().find((x) => x.portal === portal);
    if (!s) throw new Error(`no session at ${portal}`);
    return s.sid;
  }

  /** The kernel's session state (LOGGED_IN, FAILED) and the connection's (up, down). */
  setState(sid: number, state: string, conn = state === "LOGGED_IN" ? "up" : "failed"): void {
    writeFileSync(join(this.sys, `class/iscsi_session/session${sid}/state`), `${state}\n`);
    writeFileSync(join(this.sys, `class/iscsi_connection/connection${sid}:0/state`), `${conn}\n`);
  }

  /** The disks (sdX) of a session. */
  disks(sid: number): string[] {
    const d = join(this.sys, `class/iscsi_session/session${sid}/device`);
    const out: string[] = [];
    for (const t of readdirSync(d).filter((e) => e.startsWith("target"))) {
      for (const h of readdirSync(join(d, t)).filter((e) => /^\d+:/.test(e))) out.push(...readdirSync(join(d, t, h, "block")));
    }
    return out;
  }

  private devNo(kname: string): string {
    return readFileSync(join(this.sys, "class/block", kname, "dev"), "utf8").trim();
  }

  /** A mount of the block device kname on dir (a mountinfo line). */
  mount(kname: string, dir: string, fstype = "ext4"): void {
    const id = 100 + readFileSync(join(this.dir, "proc/self/mountinfo"), "utf8").split("\n").length;
    appendFileSync(join(this.dir, "proc/self/mountinfo"), `${id} 1 ${this.devNo(kname)} / ${dir} rw,relatime shared:${id} - ${fstype} /dev/${kname} rw\n`);
  }

  unmountAll(): void {
    writeFileSync(join(this.dir, "proc/self/mountinfo"), "");
  }

  /**
   * A device-mapper device dm-N stacked on `slaves` (a multipath map: uuid mpath-WWID; an LV:
   * uuid LVM-...), as the kernel links it: holders/ of each slave, slaves/ of the map.
   */
  holder(n: number, name: string, uuid: string, slaves: string[]): string {
    const k = `dm-${n}`;
    const d = join(this.sys, "devices/virtual/block", k);
    mkdirSync(join(d, "dm"), { recursive: true });
    mkdirSync(join(d, "holders"), { recursive: true });
    mkdirSync(join(d, "slaves"), { recursive: true });
    writeFileSync(join(d, "dm/name"), `${name}\n`);
    writeFileSync(join(d, "dm/uuid"), `${uuid}\n`);
    writeFileSync(join(d, "dev"), `254:${n}\n`);
    if (!existsSync(join(this.sys, "class/block", k))) symlinkSync(`../../devices/virtual/block/${k}`, join(this.sys, "class/block", k));
    for (const s of slaves) {
      const sd = join(this.sys, "class/block", s);
      // absolute links: readers only list these directories and follow class/block/NAME
      symlinkSync(d, join(sd, "holders", k));
      symlinkSync(realpathSync(sd), join(d, "slaves", s));
    }
    return k;
  }

  removeHolders(): void {
    const v = join(this.sys, "devices/virtual/block");
    if (!existsSync(v)) return;
    for (const k of readdirSync(v)) {
      rmSync(join(this.sys, "class/block", k), { force: true });
      rmSync(join(v, k), { recursive: true, force: true });
    }
    for (const b of readdirSync(join(this.sys, "class/block"))) {
      const h = join(this.sys, "class/block", b, "holders");
      if (existsSync(h)) for (const x of readdirSync(h)) rmSync(join(h, x), { force: true });
    }
  }

  /** The SCSI device state of a disk (running, offline, transport-offline). */
  setDiskState(kname: string, state: string): void {
    writeFileSync(join(this.sys, "class/block", kname, "device/state"), `${state}\n`);
  }

  /** The record file of (target, portal), as the fake iscsiadm wrote it. */
  record(portal: string, iqn = IQN, tpgt = 1): string {
    const [a, p] = portal.split(":");
    return join(this.db, "nodes", iqn, `${a},${p},${tpgt}`, "default");
  }

  /** argv of every fake call so far. */
  calls(): string[][] {
    if (!existsSync(this.log)) return [];
    return readFileSync(this.log, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { argv: string[] }).argv);
  }

  destroy(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
