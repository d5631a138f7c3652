// iSCSITarget: an iSCSI target (LIO through targetcli, or tgt), drop-in for ocf:heartbeat:iSCSITarget.
// The work is in lib/iscsi/lio.ts and lib/iscsi/tgt.ts; this file is the declaration, the checks that need
// no system access, and the dispatch.

import { defineHandlers, type Ctx } from "../lib/ocf/runner.js";
import { defineAgent, p, plainActions } from "../lib/ocf/declaration.js";
import { chapError, chapPairError, IMPLEMENTATIONS, initiatorsError, iscsiNameError, iserMatches, iserPortalsError, lioName, nameValuesError, ownPortalsClash, parseNameValues, parsePortals, portalsError, splitWords, SUPPORTED, type Implementation } from "../lib/iscsi/syntax.js";
import type { TargetSpec } from "../lib/iscsi/spec.js";
import { checkInstalled, detect, driver, monitorCode, monitored, required } from "../lib/iscsi/driver.js";
import { OCF, fail } from "../lib/ocf/codes.js";
import { readSecretFile, secretPathError } from "../lib/system/secret-file.js";

const DEFAULT_PORTALS = "0.0.0.0:3260";

export const decl = defineAgent({
  name: "iSCSITarget",
  version: "1.0.0",
  shortdesc: "iSCSI target export agent",
  longdesc: `Manages an iSCSI target: LIO (implementation lio-t, configured with one targetcli process per
action and read straight from configfs) or the userspace tgt daemon (implementation tgt, through
tgtadm). Drop-in for ocf:heartbeat:iSCSITarget: same parameters and defaults.

Start creates what is missing and corrects what differs (portals, ACLs, CHAP, parameters), then
checks the result; monitor checks the same from configfs (lio-t) or one tgtadm call (tgt) and
names any drift. The configuration is not saved (no saveconfig): the cluster recreates it.
Changing allowed_initiators or the CHAP credentials reloads the target in place.

tsstor additions: the CHAP secrets can come from files (incoming_password_file,
outgoing_password_file; then neither the CIB nor any command line holds them), and mutual CHAP
(outgoing_username: initiators authenticate the target too).`,
  params: {
    implementation: p.select(IMPLEMENTATIONS, {
      shortdesc: "iSCSI target implementation (lio-t or tgt)",
      longdesc: `lio-t (LIO, the kernel target, through targetcli) or tgt (the tgtd daemon, through tgtadm).
Unset: lio-t where targetcli is installed, else tgt where tgtadm is. The upstream names iet, lio
and scst are not supported.`,
    }),
    iqn: p.string({
      shortdesc: "iSCSI target IQN",
      longdesc: 'The target name: "iqn.yyyy-mm.<reversed domain name>[:identifier]", or eui./naa. form.',
      required: true,
      uniqueGroup: "iqn",
      validate: iscsiNameError,
    }),
    tid: p.integer({
      shortdesc: "iSCSI target ID (tgt)",
      longdesc: "The tgt target id. Unset: the target's existing id, else the lowest free one. Ignored by lio-t.",
      min: 1,
      uniqueGroup: "tid",
    }),
    portals: p.string({
      shortdesc: "iSCSI portal addresses",
      longdesc: `Space-separated listen addresses: IPv4[:port] or [IPv6][:port] (port 3260 when omitted).
lio-t creates exactly these portals on the target (the default 0.0.0.0:3260 listens on every
IPv4 address). tgt portals belong to the daemon: addresses other than the default are added to
tgtd when missing and left there at stop; the default keeps tgtd's own.`,
      default: DEFAULT_PORTALS,
      validate: portalsError,
    }),
    iser_portals: p.string({
      shortdesc: "iSCSI iSER enabled portal addresses",
      longdesc: "Portals (address, or address:port) among portals on which lio-t enables iSER. Not supported by tgt.",
      validate: iserPortalsError,
    }),
    allowed_initiators: p.string({
      shortdesc: "Initiators allowed to connect",
      longdesc: `Space-separated initiator names allowed to log in. Empty: any initiator (LIO demo mode; tgt
binds ALL). tgt also takes addresses (IP, IP/prefix). Changing it reloads the ACLs in place.`,
      default: "",
      reloadable: true,
      validate: initiatorsError,
    }),
    incoming_username: p.string({
      shortdesc: "Incoming account username",
      longdesc: "CHAP user name initiators must log in with. Unset: no authentication.",
      uniqueGroup: "incoming_username",
      reloadable: true,
      validate: chapError,
    }),
    incoming_password: p.string({
      shortdesc: "Incoming account password",
      longdesc: "CHAP secret. Never on a command line or in a log: LIO gets it through configfs, tgtd through its socket.",
      secret: true,
      reloadable: true,
      validate: chapError,
    }),
    incoming_password_file: p.string({
      shortdesc: "File holding the incoming CHAP secret",
      longdesc: `tsstor addition. Path of a file, on every node, whose first line is the CHAP secret; root
only (mode 0600: the agent refuses a file group or others can access). Use it instead of
incoming_password, which the CIB stores where the haclient group and \`pcs resource config\`
show it. Read at every start, reload and monitor: change the file, then reload.`,
      reloadable: true,
      validate: secretPathError,
    }),
    outgoing_username: p.string({
      shortdesc: "Outgoing (mutual CHAP) account username",
      longdesc: `tsstor addition. Mutual CHAP: the user name the target answers initiators with, so that
initiators authenticate the target as well. Needs incoming CHAP and outgoing_password_file.`,
      reloadable: true,
      validate: chapError,
    }),
    outgoing_password_file: p.string({
      shortdesc: "File holding the outgoing (mutual CHAP) secret",
      longdesc: `tsstor addition. Path of a root-only file (mode 0600) whose first line is the mutual CHAP
secret; it must differ from the incoming secret (RFC 7143 12.1.3).`,
      reloadable: true,
      validate: secretPathError,
    }),
    additional_parameters: p.string({
      shortdesc: "List of iSCSI target parameters",
      longdesc: `Space-separated name=value pairs: iSCSI parameters (MaxRecvDataSegmentLength=65536) or, for
lio-t, TPG attributes (login_timeout=10). Names unknown to the system are logged and ignored.`,
      validate: nameValuesError,
    }),
  },
  actions: plainActions({ start: 20, stop: 20, monitor: { timeout: 20, interval: 10 }, reloadAgent: 20, validate: 20, metaData: 5 }),
});

type TCtx = Ctx<typeof decl.params>;

/**
 * What a secret file holds. "need" (start, reload): an unusable file fails the action with 5
 * (this node lacks it; another node may have it). "check" (lio-t monitor): the running target keeps
 * serving, the secret is not compared, and the log says why. "none" (stop, tgt monitor): not read.
 */
type Secrets = "need" | "check" | "none";

function secretOf(ctx: TCtx, param: string, file: string, inline: string, mode: Secrets): string | undefined {
  if (!file) return inline;
  if (mode === "none") return undefined;
  const r = readSecretFile(file);
  if ("secret" in r) {
    const bad = chapError(r.secret);
    if (!bad) return r.secret;
    if (mode === "need") throw fail.configured(`${param}: the secret in ${file} ${bad}`);
    ctx.log.warn(`${param}: the secret in ${file} ${bad}; not compared`);
    return undefined;
  }
  if (mode === "need") throw fail.installed(`${param}: ${r.error}`);
  ctx.log.warn(`${param}: ${r.error}; the running target's secret is not compared`);
  return undefined;
}

function spec(ctx: TCtx, impl: Implementation, secrets: Secrets): TargetSpec {
  const P = ctx.params;
  const lower = impl === "lio-t" ? lioName : (x: string) => x;
  const portals = parsePortals(P.portals);
  const extra = parseNameValues(P.additional_parameters);
  const chap = P.incoming_username ? { user: P.incoming_username, password: secretOf(ctx, "incoming_password_file", P.incoming_password_file, P.incoming_password, secrets) } : undefined;
  const mutual = P.outgoing_username ? { user: P.outgoing_username, password: secretOf(ctx, "outgoing_password_file", P.outgoing_password_file, "", secrets) } : undefined;
  if (secrets === "need") {
    const bad = chapPairError(impl, chap, mutual);
    if (bad) throw fail.configured(bad);
  }
  return {
    iqn: lower(P.iqn),
    tid: P.tid,
    portals: typeof portals === "string" ? [] : portals,
    defaultPortals: P.portals === DEFAULT_PORTALS,
    iser: splitWords(P.iser_portals),
    initiators: splitWords(P.allowed_initiators).map(lower),
    chap,
    mutual,
    extra: typeof extra === "string" ? [] : extra,
  };
}

export const agent = defineHandlers(decl, {
  validate(ctx) {
    const P = ctx.params;
    const i = P.implementation;
    if (i && !SUPPORTED.includes(i)) throw fail.configured(`implementation ${i} is not supported (use lio-t or tgt)`);
    if (P.incoming_password && P.incoming_password_file) throw fail.configured("incoming_password and incoming_password_file exclude each other");
    const inSecret = P.incoming_password || P.incoming_password_file;
    if (P.incoming_username && !inSecret) throw fail.configured("incoming_username is set but neither incoming_password nor incoming_password_file is");
    if (inSecret && !P.incoming_username) throw fail.configured(`${P.incoming_password ? "incoming_password" : "incoming_password_file"} is set but incoming_username is not`);
    if (P.outgoing_username && !P.outgoing_password_file) throw fail.configured("outgoing_username is set but outgoing_password_file is not");
    if (P.outgoing_password_file && !P.outgoing_username) throw fail.configured("outgoing_password_file is set but outgoing_username is not");
    if (P.outgoing_username && !P.incoming_username) throw fail.configured("mutual CHAP (outgoing_username) needs incoming CHAP (incoming_username): the initiator authenticates first");
    // the secrets in files are compared at start (spec), where they are read
    const pair = chapPairError(i, P.incoming_username ? { user: P.incoming_username, password: P.incoming_password || undefined } : undefined, P.outgoing_username ? { user: P.outgoing_username } : undefined);
    if (pair) throw fail.configured(pair);
    const portals = parsePortals(P.portals);
    if (typeof portals !== "string") {
      for (const x of splitWords(P.iser_portals)) {
        if (!portals.some((p) => iserMatches(x, p))) throw fail.configured(`iser_portals entry ${x} is not among portals`);
      }
      if (portals.length === 0) throw fail.configured("portals is empty");
      const clash = i === "lio-t" ? ownPortalsClash(portals) : undefined;
      if (clash) throw fail.configured(clash);
    }
    if (i === "lio-t" && ctx.given.has("tid")) ctx.log.warn("tid is not used by lio-t and is ignored");
    if (i === "tgt" && P.iser_portals) ctx.log.warn("iser_portals is not supported by tgt and is ignored");
    if (ctx.level >= 10) checkInstalled(ctx);
  },
  start(ctx) {
    const { impl, m } = required(ctx);
    const s = spec(ctx, impl, "need");
    const c = m.checkTarget(ctx, s);
    if (!c.absent && c.problems.length === 0) return;
    m.applyTarget(ctx, s);
  },
  stop(ctx) {
    const i = detect(ctx);
    if (i === undefined) return; // nothing can run without an implementation
    driver(i).removeTarget(ctx, spec(ctx, i, "none"));
  },
  monitor(ctx) {
    const d = monitored(ctx);
    if (!d) return OCF.NOT_RUNNING;
    // tgt cannot show a secret, so its monitor has nothing to compare: no file read, no warning
    return monitorCode(d.m.checkTarget(ctx, spec(ctx, d.impl, d.impl === "lio-t" ? "check" : "none")));
  },
  "reload-agent"(ctx) {
    const { impl, m } = required(ctx);
    const s = spec(ctx, impl, "need");
    const c = m.checkTarget(ctx, s);
    if (c.absent) throw fail.generic(`target ${s.iqn} is not running here; cannot reload it`);
    // always apply: tgt cannot show a CHAP secret, so a changed one is not visible as drift
    m.applyTarget(ctx, s);
  },
});
