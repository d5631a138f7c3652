// ocf:tsstor:iscsi: this node's iSCSI initiator session to one target through one portal
// (open-iscsi), drop-in for ocf:heartbeat:iscsi. A target reached through two portals (two paths
// for multipath) is two resources, one per portal.
//
// Differences from heartbeat iscsi: sessions are matched by target and portal address read from
// sysfs (upstream matches the portal as a text prefix and can log out another path's session);
// monitor forks nothing; start waits for the LUNs' block devices inside its timeout and says what
// it waited for (upstream's udev wait loops until Pacemaker kills it); stop refuses, naming them,
// while a LUN is mounted or held by an LV or an in-use multipath map whose last path it is
// (upstream logs out under a mounted filesystem); CHAP credentials come from root-only files and
// go into the node record, never into argv. The procedures are lib/iscsi/initiator.ts.

import { defineHandlers, type Ctx } from "../lib/ocf/runner.js";
import { defineAgent, p, plainActions } from "../lib/ocf/declaration.js";
import { OCF, fail } from "../lib/ocf/codes.js";
import { waitFor } from "../lib/ocf/budget.js";
import { readSecretFile, secretPathError } from "../lib/system/secret-file.js";
import { readMounts } from "../lib/fs/mounts.js";
import { chapError, iscsiNameError } from "../lib/iscsi/syntax.js";
import {
  byPathLink,
  chapKeys,
  describeSession,
  DISCOVERY_TYPES,
  diskUsers,
  ISCSI_ERR,
  Iscsiadm,
  iscsiadmError,
  multipathMapOf,
  nodeRecordFiles,
  iscsiDbOf,
  parseDiscovery,
  parseInitiatorPortal,
  portalArg,
  portalError,
  readSessions,
  sessionDisks,
  sessionsTo,
  setRecordKeys,
  withIdbmLock,
  type Chap,
  type InitiatorPortal,
  type Session,
} from "../lib/iscsi/initiator.js";
import { existsSync } from "node:fs";

export const decl = defineAgent({
  name: "iscsi",
  version: "1.0.0",
  shortdesc: "Manages a local iSCSI initiator and its connections to iSCSI targets",
  longdesc: `Logs this node in to one iSCSI target through one portal with open-iscsi (iscsiadm, iscsid), and out again. Drop-in for ocf:heartbeat:iscsi: same parameters and defaults. For multipath, configure one resource (usually a clone) per portal of the target.

start: discovery when open-iscsi has no record of the target at this portal yet (records are only added, never rewritten), the CHAP credentials written into the record, login, then a wait inside the start timeout until the session is logged in and every LUN it found has its block device (and, with udev=true, its /dev/disk/by-path link); on timeout the reason names what was missing.
monitor: the session's state from sysfs (/sys/class/iscsi_session, /sys/class/iscsi_connection), without forking; 7 when this node has no session to the target at this portal.
stop: logout of exactly that session. While a LUN of it is mounted, holds an active LV, or is the last live path of a multipath map in use, stop refuses and names the users: logging out under them would fail their I/O (the cluster fences the node instead).

tsstor additions: multipath=true (start also waits for each LUN's multipath map); chap_username with chap_password_file (CHAP), and chap_username_in with chap_password_in_file (mutual CHAP); the secrets are read from root-only files and written into open-iscsi's node record under its database lock.`,
  params: {
    portal: p.string({
      shortdesc: "Portal address",
      longdesc: 'The iSCSI portal: IPv4[:port] or [IPv6][:port] (port 3260 when omitted), optionally ",tpgt". An IP address, not a host name: the session is matched by the address the kernel reports.',
      required: true,
      uniqueGroup: "session",
      validate: portalError,
    }),
    target: p.string({
      shortdesc: "Target IQN",
      longdesc: "The iSCSI target name (iqn., eui. or naa. form). Unique together with portal (upstream makes it unique alone, which forbids the second path of a multipath setup).",
      required: true,
      uniqueGroup: "session",
      validate: iscsiNameError,
    }),
    discovery_type: p.select(DISCOVERY_TYPES, {
      shortdesc: "Target discovery type",
      longdesc: "How start discovers the target when open-iscsi has no record of it at this portal: sendtargets (asks the portal), isns, fw (iBFT). st is accepted for sendtargets.",
      default: "sendtargets",
      aliases: { st: "sendtargets" },
    }),
    iscsiadm: p.string({
      shortdesc: "iscsiadm binary",
      longdesc: "open-iscsi administration utility binary (a name on PATH or an absolute path).",
      default: "iscsiadm",
      validate: (v) => (/^[A-Za-z0-9_./+-]+$/.test(v) ? undefined : "must be a program name or path without white space or shell characters"),
    }),
    udev: p.boolean({
      shortdesc: "Wait for udev's links",
      longdesc: "true: start also waits for udev to create each LUN's /dev/disk/by-path link (the next resource may use it). false: the block device itself is enough. The wait always ends with the start timeout.",
      default: true,
    }),
    multipath: p.boolean({
      shortdesc: "Wait for the multipath maps (tsstor)",
      longdesc: "true: start also waits until every LUN of the session is a path of a multipath map (multipathd has made the map), so that LVM, started after this resource, finds its PVs on the map and never on a single path. The wait ends with the start timeout, and the reason names the LUN without a map.",
      default: false,
    }),
    try_recovery: p.boolean({
      shortdesc: "On error wait for iSCSI recovery in monitor",
      longdesc: "When the session exists but is not logged in (a path down), the kernel keeps trying to recover it. true: a recurring monitor waits for that recovery inside its timeout and fails only then. false: it fails at once (a probe never waits).",
      default: false,
    }),
    chap_username: p.string({
      shortdesc: "CHAP user name (tsstor)",
      longdesc: "The initiator's CHAP user name; needs chap_password_file. Unset: the record's authentication is set to None.",
      validate: chapError,
    }),
    chap_password_file: p.string({
      shortdesc: "File holding the CHAP secret (tsstor)",
      longdesc: "Absolute path of a root-only file (mode 600) whose first line is the CHAP secret: neither the CIB nor any command line holds it.",
      validate: secretPathError,
    }),
    chap_username_in: p.string({
      shortdesc: "Mutual CHAP: the target's user name (tsstor)",
      longdesc: "The user name the target must answer with (mutual CHAP); needs chap_password_in_file and CHAP.",
      validate: chapError,
    }),
    chap_password_in_file: p.string({
      shortdesc: "Mutual CHAP: file holding the target's secret (tsstor)",
      longdesc: "Absolute path of a root-only file whose first line is the target's secret (mutual CHAP).",
      validate: secretPathError,
    }),
  },
  actions: plainActions({ start: 120, stop: 120, monitor: { timeout: 30, interval: 120 }, validate: 20, metaData: 5 }),
  examples: [
    "pcs resource create san-path1 ocf:tsstor:iscsi portal=192.168.10.5 target=iqn.2026-01.com.example:array1 clone interleave=true",
    "pcs resource create san-path2 ocf:tsstor:iscsi portal=192.168.20.5 target=iqn.2026-01.com.example:array1 clone interleave=true",
  ],
});

type C = Ctx<(typeof decl)["params"]>;

// ---- helpers: the values handlers share -------------------------------------------------------

const portalOf = (ctx: C): InitiatorPortal => parseInitiatorPortal(ctx.params.portal) as InitiatorPortal;
const where = (ctx: C) => `${ctx.params.target} at ${portalArg(portalOf(ctx))}`;

function chapConfigError(pr: C["params"]): string | undefined {
  if (pr.chap_username && !pr.chap_password_file) return "chap_username is set but chap_password_file is not";
  if (!pr.chap_username && pr.chap_password_file) return "chap_password_file is set but chap_username is not";
  if (pr.chap_username_in && !pr.chap_password_in_file) return "chap_username_in is set but chap_password_in_file is not";
  if (!pr.chap_username_in && pr.chap_password_in_file) return "chap_password_in_file is set but chap_username_in is not";
  if (pr.chap_username_in && !pr.chap_username) return "mutual CHAP (chap_username_in) needs CHAP (chap_username) too";
  return undefined;
}

function readChap(pr: C["params"]): Chap | undefined {
  if (!pr.chap_username) return undefined;
  const secret = (param: string, path: string) => {
    const r = readSecretFile(path);
    if ("error" in r) throw fail.configured(`parameter ${param}: ${r.error}`);
    const bad = chapError(r.secret);
    if (bad) throw fail.configured(`parameter ${param}: the secret in ${path} ${bad}`);
    return r.secret;
  };
  const c: Chap = { username: pr.chap_username, password: secret("chap_password_file", pr.chap_password_file) };
  if (pr.chap_username_in) {
    c.usernameIn = pr.chap_username_in;
    c.passwordIn = secret("chap_password_in_file", pr.chap_password_in_file);
    if (c.passwordIn === c.password) throw fail.configured("the mutual CHAP secret must differ from the CHAP secret (RFC 7143 12.1.3)");
  }
  return c;
}

const ourSessions = (ctx: C): Session[] => sessionsTo(readSessions(ctx.env.paths.sys), ctx.params.target, portalOf(ctx));

/** What a logged-in session still lacks before its LUNs are usable; undefined when nothing. */
function missingDevices(ctx: C, s: Session): string | undefined {
  const { sys, dev } = ctx.env.paths;
  if (s.state !== "LOGGED_IN") return `${describeSession(s)} to be logged in`;
  const disks = sessionDisks(sys, s.sid);
  if (disks.length === 0) return `a LUN of session ${s.sid} (the target exports none to this initiator yet, or the SCSI scan is still running)`;
  for (const d of disks) {
    if (!existsSync(`${dev}/${d.name}`)) return `${dev}/${d.name} (LUN ${d.lun})`;
    const link = byPathLink(dev, portalOf(ctx), s.target, d.lun);
    if (ctx.params.udev && !existsSync(link)) return `udev's link ${link}`;
    if (ctx.params.multipath && multipathMapOf(sys, d.name) === undefined) return `the multipath map of LUN ${d.lun} (${d.name} is in none: is multipathd running, and the LUN not blacklisted?)`;
  }
  return undefined;
}

function waitUsable(ctx: C): Session {
  let lacking = "the session to appear in sysfs";
  const s = waitFor(ctx.budget, () => {
    const now = ourSessions(ctx)[0];
    if (!now) return undefined;
    const m = missingDevices(ctx, now);
    if (m === undefined) return now;
    lacking = m;
    return undefined;
  });
  if (!s) throw fail.generic(`${where(ctx)}: logged in, but the start timeout ran out waiting for ${lacking}`);
  return s;
}

function adm(ctx: C): Iscsiadm {
  if (!ctx.run.which(ctx.params.iscsiadm)) throw fail.installed(`${ctx.params.iscsiadm} not found: install open-iscsi`);
  return new Iscsiadm(ctx.run, ctx.params.iscsiadm);
}

function iscsidDown(code: number, text: string): boolean {
  return code === ISCSI_ERR.ISCSID_NOTCONN || /can ?not connect to iSCSI daemon/i.test(text);
}

/** A record of (target, portal) in open-iscsi's database, discovering it when there is none. */
function ensureRecord(ctx: C, a: Iscsiadm): string[] {
  const iscsiDb = ctx.env.paths.iscsiDb ?? iscsiDbOf(ctx.run.which(ctx.params.iscsiadm));
  const portal = portalOf(ctx);
  let files = nodeRecordFiles(iscsiDb, ctx.params.target, portal);
  if (files.length > 0) return files;
  const r = a.discover(ctx.params.discovery_type || "sendtargets", portal);
  if (r.code !== 0) {
    const why = iscsiadmError(r);
    if (iscsidDown(r.code, why)) throw fail.installed(`iscsid is not running and could not be started (${why}): start iscsid or enable iscsid.socket`);
    throw fail.generic(`discovery (${ctx.params.discovery_type}) at ${portalArg(portal)} failed: ${why}`);
  }
  files = nodeRecordFiles(iscsiDb, ctx.params.target, portal);
  if (files.length === 0) {
    const found = parseDiscovery(r.stdout);
    const offered = found.filter((d) => d.target.toLowerCase() === ctx.params.target.toLowerCase());
    if (offered.length) {
      throw fail.configured(`${ctx.params.target} is offered at ${offered.map((d) => `${d.address}:${d.port},${d.tpgt}`).join(", ")}, not at ${portalArg(portal)}${portal.tpgt !== undefined ? `,${portal.tpgt}` : ""}: set portal to one of those`);
    }
    throw fail.configured(`${ctx.params.target} is not offered at ${portalArg(portal)} (discovery found ${found.length ? found.map((d) => d.target).join(", ") : "no target"})`);
  }
  return files;
}

// ---- handlers ---------------------------------------------------------------------------------

export const agent = defineHandlers(decl, {
  validate(ctx) {
    const bad = chapConfigError(ctx.params);
    if (bad) throw fail.configured(bad);
    if (ctx.level >= 10) {
      if (!ctx.run.which(ctx.params.iscsiadm)) throw fail.installed(`${ctx.params.iscsiadm} not found: install open-iscsi`);
      readChap(ctx.params);
    }
  },

  start(ctx) {
    const chap = readChap(ctx.params);
    const now = ourSessions(ctx)[0];
    if (now) {
      // logged in already (a restarted start, or a session left by hand): make sure it is usable
      if (now.state !== "LOGGED_IN") ctx.log.warn(`${describeSession(now)}: waiting for the kernel's recovery`);
      waitUsable(ctx);
      return OCF.SUCCESS;
    }
    const a = adm(ctx);
    ctx.lock("iscsi-db", () => {
      const files = ensureRecord(ctx, a);
      // node.startup=manual: the cluster, not the boot-time open-iscsi service, logs this node in
      const changed = withIdbmLock(ctx.env.paths.iscsiLock, () => setRecordKeys(files, { "node.startup": "manual", ...chapKeys(chap) }));
      if (changed.length) ctx.log.info(`node record of ${where(ctx)}: set ${changed.join(", ")}`);
    });
    const r = a.login(ctx.params.target, portalOf(ctx));
    if (r.code !== 0 && r.code !== ISCSI_ERR.SESS_EXISTS) {
      const why = iscsiadmError(r);
      if (iscsidDown(r.code, why)) throw fail.installed(`iscsid is not running and could not be started (${why}): start iscsid or enable iscsid.socket`);
      if (r.code === ISCSI_ERR.LOGIN_AUTH_FAILED) throw fail.generic(`login to ${where(ctx)} refused: authentication failed (check chap_username and the secret file${chap ? "" : "; the target may require CHAP"}): ${why}`);
      if (r.code === ISCSI_ERR.FATAL_LOGIN && chap?.usernameIn) throw fail.generic(`login to ${where(ctx)} refused: the target failed the mutual CHAP check (check chap_username_in and its secret file): ${why}`);
      throw fail.generic(`login to ${where(ctx)} failed: ${why}`);
    }
    waitUsable(ctx);
  },

  stop(ctx) {
    const sessions = ourSessions(ctx);
    if (sessions.length === 0) return OCF.SUCCESS;
    const { sys, proc } = ctx.env.paths;
    const mounts = readMounts(`${proc}/self/mountinfo`);
    for (const s of sessions) {
      const disks = sessionDisks(sys, s.sid);
      const ours = new Set(disks.map((d) => d.name));
      const users = disks.flatMap((d) => diskUsers(sys, d.name, mounts, ours));
      if (users.length) throw fail.generic(`not logging out of ${where(ctx)} (session ${s.sid}): ${users.join("; ")}; stop what uses it first (order the iscsi resource before it)`);
    }
    const a = adm(ctx);
    for (const s of sessions) {
      const r = a.logout(s.sid);
      if (r.code !== 0 && r.code !== ISCSI_ERR.NO_OBJS_FOUND && r.code !== ISCSI_ERR.SESS_NOT_FOUND) throw fail.generic(`logout of ${describeSession(s)} failed: ${iscsiadmError(r)}`);
    }
    const left = waitFor(ctx.budget, () => (ourSessions(ctx).length === 0 ? true : undefined));
    if (!left) {
      const still = ourSessions(ctx);
      throw fail.generic(`logout of ${where(ctx)} asked, but ${still.map(describeSession).join(", ")} still exists when the stop timeout ends`);
    }
  },

  monitor(ctx) {
    let s = ourSessions(ctx)[0];
    if (!s) return OCF.NOT_RUNNING;
    if (s.state !== "LOGGED_IN" && ctx.params.try_recovery && !ctx.probe) {
      ctx.log.warn(`${describeSession(s)}: waiting for the kernel's recovery`);
      s = waitFor(ctx.budget, () => {
        const now = ourSessions(ctx)[0];
        return now === undefined || now.state === "LOGGED_IN" ? now : undefined;
      }, 500) ?? s;
      if (!ourSessions(ctx)[0]) return OCF.NOT_RUNNING;
    }
    if (s.state !== "LOGGED_IN") throw fail.generic(`${describeSession(s)} is not logged in (the path to the portal is down, or the target logged it out)`);
    if (sessionDisks(ctx.env.paths.sys, s.sid).length === 0) throw fail.generic(`${describeSession(s)} has no LUN: the target exports none to this initiator`);
    return OCF.SUCCESS;
  },
});
