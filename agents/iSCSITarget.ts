// iSCSITarget: an iSCSI target (LIO through targetcli, or tgt), drop-in for ocf:heartbeat:iSCSITarget.
// The work is in lib/lio.ts and lib/tgt.ts; this file is the declaration, the checks that need
// no system access, and the dispatch.

import { defineHandlers, type Ctx } from "../lib/agent.js";
import { defineAgent, p } from "../lib/declaration.js";
import { chapError, IMPLEMENTATIONS, initiatorsError, iscsiNameError, iserMatches, iserPortalsError, lioName, nameValuesError, ownPortalsClash, parseNameValues, parsePortals, portalsError, splitWords, SUPPORTED, type Implementation } from "../lib/iscsi.js";
import type { TargetSpec } from "../lib/iscsi-spec.js";
import { checkInstalled, detect, driver, monitorCode, monitored, required } from "../lib/iscsi-driver.js";
import { OCF, fail } from "../lib/ocf.js";

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
Changing allowed_initiators or the CHAP credentials reloads the target in place.`,
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
    additional_parameters: p.string({
      shortdesc: "List of iSCSI target parameters",
      longdesc: `Space-separated name=value pairs: iSCSI parameters (MaxRecvDataSegmentLength=65536) or, for
lio-t, TPG attributes (login_timeout=10). Names unknown to the system are logged and ignored.`,
      validate: nameValuesError,
    }),
  },
  actions: [
    { name: "start", timeout: 20 },
    { name: "stop", timeout: 20 },
    { name: "monitor", timeout: 20, interval: 10, depth: 0 },
    { name: "reload-agent", timeout: 20 },
    { name: "validate-all", timeout: 20 },
    { name: "meta-data", timeout: 5 },
  ],
});

type TCtx = Ctx<typeof decl.params>;

function spec(ctx: TCtx, impl: Implementation): TargetSpec {
  const P = ctx.params;
  const lower = impl === "lio-t" ? lioName : (x: string) => x;
  const portals = parsePortals(P.portals);
  const extra = parseNameValues(P.additional_parameters);
  return {
    iqn: lower(P.iqn),
    tid: P.tid,
    portals: typeof portals === "string" ? [] : portals,
    defaultPortals: P.portals === DEFAULT_PORTALS,
    iser: splitWords(P.iser_portals),
    initiators: splitWords(P.allowed_initiators).map(lower),
    chap: P.incoming_username ? { user: P.incoming_username, password: P.incoming_password } : undefined,
    extra: typeof extra === "string" ? [] : extra,
  };
}

export const agent = defineHandlers(decl, {
  validate(ctx) {
    const P = ctx.params;
    const i = P.implementation;
    if (i && !SUPPORTED.includes(i)) throw fail.configured(`implementation ${i} is not supported (use lio-t or tgt)`);
    if (P.incoming_username && !P.incoming_password) throw fail.configured("incoming_username is set but incoming_password is not");
    if (P.incoming_password && !P.incoming_username) throw fail.configured("incoming_password is set but incoming_username is not");
    if (i === "tgt" && (P.incoming_username.includes(",") || P.incoming_password.includes(","))) {
      throw fail.configured("tgt cannot take a ',' in incoming_username or incoming_password");
    }
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
    const s = spec(ctx, impl);
    const c = m.checkTarget(ctx, s);
    if (!c.absent && c.problems.length === 0) return;
    m.applyTarget(ctx, s);
  },
  stop(ctx) {
    const i = detect(ctx);
    if (i === undefined) return; // nothing can run without an implementation
    driver(i).removeTarget(ctx, spec(ctx, i));
  },
  monitor(ctx) {
    const d = monitored(ctx);
    if (!d) return OCF.NOT_RUNNING;
    return monitorCode(d.m.checkTarget(ctx, spec(ctx, d.impl)));
  },
  "reload-agent"(ctx) {
    const { impl, m } = required(ctx);
    const s = spec(ctx, impl);
    const c = m.checkTarget(ctx, s);
    if (c.absent) throw fail.generic(`target ${s.iqn} is not running here; cannot reload it`);
    // always apply: tgt cannot show a CHAP secret, so a changed one is not visible as drift
    m.applyTarget(ctx, s);
  },
});
