// DRBD policies beyond fencing, for every DRBD resource a drbd primitive uses: how a split brain
// is resolved (after-sb-0pri/1pri/2pri, rr-conflict) and whether anyone hears of one (the
// split-brain handler), online verify (verify-alg), the resync rate against the replication
// link's speed, DRBD 9 quorum against the cluster's fencing and an iSCSI target on top, and
// resource files LINSTOR generates (their fixes are linstor commands). The fencing rules proper
// (drbdFencingFindings) stay in drbd.ts: these checks ask it what it already reports and never
// repeat it.
//
// The link speed comes from the host through a LinkProbe (the route to the peer in /proc/net/route
// or /proc/net/ipv6_route, then /sys/class/net/IFACE/speed, a bridge's fastest port): under --root
// the same files of the copy, and no rate check against the link when any of it is unknown.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import type { DrbdResource, NestedSection, Options, Place } from "../doctor/drbd.js";
import { shq } from "../pcs.js";
import { drbdFencingFindings, drbdMajor, fencingPolicy, isDrbd, linstorCommands, linstorIntro, linstorManaged, type DrbdSection } from "./drbd.js";
import { fencing } from "./fencing.js";
import { unavailable, type Check, type Finding, type Severity, type Sources } from "./types.js";

// ---- the replication link ----

export interface LinkProbe {
  /** this node's name (uname -n), when known */
  hostname(): string | undefined;
  /** the interface the main routing table sends to `ip` through, when known */
  routeInterface(ip: string): string | undefined;
  /** the interface's link speed in Mbit/s (a bridge: its fastest port's), undefined when unknown (down, virtual: -1) */
  speedMbps(iface: string): number | undefined;
}

const readText = (f: string): string | undefined => {
  try {
    return readFileSync(f, "utf8");
  } catch {
    return undefined;
  }
};

/** An IPv4 address as /proc/net/route prints it: the network-order bytes read as a little-endian u32. */
function ipv4Le(ip: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!m) return undefined;
  const b = m.slice(1).map(Number);
  if (b.some((x) => x > 255)) return undefined;
  return ((b[3]! << 24) | (b[2]! << 16) | (b[1]! << 8) | b[0]!) >>> 0;
}

/** An IPv6 address as 32 hex digits (the form of /proc/net/ipv6_route). */
function ipv6Hex(ip: string): string | undefined {
  const bare = ip.replace(/^\[|\]$/g, "").toLowerCase();
  if (!bare.includes(":") || !/^[0-9a-f:]+$/.test(bare)) return undefined;
  const [head, tail] = bare.split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail ? tail.split(":") : [];
  if (bare.split("::").length > 2 || (tail === undefined && h.length !== 8)) return undefined;
  const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  if (groups.length !== 8 || groups.some((g) => g.length > 4)) return undefined;
  return groups.map((g) => g.padStart(4, "0")).join("");
}

const hexBits = (hex: string) => [...hex].map((c) => parseInt(c, 16).toString(2).padStart(4, "0")).join("");

/**
 * The interface of the best (longest prefix, then lowest metric) route to `ip`, from /proc/net/route
 * or /proc/net/ipv6_route text; undefined for the default route (a peer behind the gateway: the
 * local link's speed says nothing about the path).
 */
export function routeFrom(ip: string, route: string | undefined, route6: string | undefined): string | undefined {
  let best: { iface: string; len: number; metric: number } | undefined;
  const consider = (iface: string, len: number, metric: number) => {
    if (iface === "lo") return;
    if (!best || len > best.len || (len === best.len && metric < best.metric)) best = { iface, len, metric };
  };
  const v4 = ipv4Le(ip);
  if (v4 !== undefined) {
    for (const l of (route ?? "").split("\n").slice(1)) {
      const f = l.trim().split(/\s+/);
      if (f.length < 8) continue;
      const [iface, dest, , flags, , , metric, mask] = f as [string, string, string, string, string, string, string, string];
      const d = parseInt(dest, 16);
      const m = parseInt(mask, 16);
      if (!(parseInt(flags, 16) & 1) || ((v4 & m) >>> 0) !== d) continue;
      consider(iface, m.toString(2).replace(/0/g, "").length, Number(metric));
    }
    return best && best.len > 0 ? best.iface : undefined;
  }
  const v6 = ipv6Hex(ip);
  if (v6 === undefined) return undefined;
  const bits = hexBits(v6);
  for (const l of (route6 ?? "").split("\n")) {
    const f = l.trim().split(/\s+/);
    if (f.length < 10) continue;
    const len = parseInt(f[1]!, 16);
    if (hexBits(f[0]!).slice(0, len) !== bits.slice(0, len) || parseInt(f[8]!, 16) & 0x200 /* RTF_REJECT */) continue;
    consider(f[9]!, len, parseInt(f[5]!, 16));
  }
  return best && best.len > 0 ? best.iface : undefined;
}

/** The host's files (under the doctor's root): /proc/sys/kernel/hostname, the routing tables, /sys/class/net. */
export function sysfsLinkProbe(path: (p: string) => string): LinkProbe {
  const speed = (iface: string, depth: number): number | undefined => {
    if (depth > 4 || !/^[\w.:@-]+$/.test(iface)) return undefined;
    const dir = path(`/sys/class/net/${iface}`);
    const own = Number((readText(`${dir}/speed`) ?? "").trim());
    if (Number.isInteger(own) && own > 0) return own;
    // a bridge (Proxmox's vmbrN) reports no speed: its ports do; the uplink is the fastest one
    if (!existsSync(`${dir}/bridge`)) return undefined;
    let ports: string[];
    try {
      ports = readdirSync(`${dir}/brif`);
    } catch {
      return undefined;
    }
    const known = ports.map((p) => speed(p, depth + 1)).filter((x): x is number => x !== undefined);
    return known.length ? Math.max(...known) : undefined;
  };
  return {
    hostname: () => readText(path("/proc/sys/kernel/hostname"))?.trim() || undefined,
    routeInterface: (ip) => routeFrom(ip, readText(path("/proc/net/route")), readText(path("/proc/net/ipv6_route"))),
    speedMbps: (iface) => speed(iface, 0),
  };
}

/** drbdadm's hostnames_equal(): equal, or equal short names when one of them has no domain. */
const sameHost = (a: string, b: string) => {
  const [sa, da] = [a.split(".")[0]!, a.includes(".")];
  const [sb, db] = [b.split(".")[0]!, b.includes(".")];
  return da && db ? a.toLowerCase() === b.toLowerCase() : sa.toLowerCase() === sb.toLowerCase();
};

export interface Link {
  iface: string;
  mbps: number;
  /** the peer address the route was looked up for */
  peer: string;
}

/** The replication link of `r` from this node: the slowest known link to a peer's address. */
export function replicationLink(r: DrbdResource, probe: LinkProbe): Link | undefined {
  const me = probe.hostname();
  const peers = Object.entries(r.hostAddresses)
    .filter(([h]) => !me || !sameHost(h, me))
    .flatMap(([, a]) => a);
  let best: Link | undefined;
  for (const ip of peers.length ? peers : r.addresses) {
    const iface = probe.routeInterface(ip);
    const mbps = iface === undefined ? undefined : probe.speedMbps(iface);
    if (iface !== undefined && mbps !== undefined && (!best || mbps < best.mbps)) best = { iface, mbps, peer: ip };
  }
  return best;
}

// ---- values ----

const KIB = 1024;
const MIB = 1024 * 1024;
const TIB = 1024 ** 4;
/** DRBD's defaults (drbdsetup xml-help; DRBD 8.4 and 9) */
const DEFAULT_RESYNC_RATE = "250"; // KiB/s
const DEFAULT_C_MAX_RATE = "102400"; // KiB/s
const DEFAULT_C_PLAN_AHEAD = 20; // 0.1 s; 0 (off) in DRBD 8.3

/** A DRBD rate in bytes/s: a number in KiB/s, or with the suffix s (sectors), k/K, m/M, g/G (powers of 1024). */
export function rateBytes(v: string): number | undefined {
  const m = /^(\d+)([sSkKmMgG]?)$/.exec(v.trim());
  if (!m) return undefined;
  const unit = { s: 512, k: KIB, m: MIB, g: 1024 * MIB }[(m[2] || "k").toLowerCase() as "s" | "k" | "m" | "g"];
  return Number(m[1]) * unit;
}

function fmtRate(b: number): string {
  if (b >= 1024 * MIB) return `${(b / (1024 * MIB)).toFixed(1).replace(/\.0$/, "")} GiB/s`;
  if (b >= MIB) return `${Math.round(b / MIB)} MiB/s`;
  return `${Math.round(b / KIB)} KiB/s`;
}
const linkBytes = (mbps: number) => (mbps * 1e6) / 8;
const fmtLink = (l: Link) => `${l.iface}, ${l.mbps >= 1000 ? `${l.mbps / 1000} Gbit/s` : `${l.mbps} Mbit/s`} (about ${fmtRate(linkBytes(l.mbps))})`;
/** How long a full resync of 1 TiB takes at `rate` bytes/s, in words. */
function perTiB(rate: number): string {
  const h = TIB / rate / 3600;
  return h >= 48 ? `${Math.round(h / 24)} days` : h >= 2 ? `${Math.round(h)} hours` : `${Math.max(1, Math.round(h * 60))} minutes`;
}
/** A ceiling of 90% of the link in whole MiB/s, as drbd.conf writes it (1 Gbit/s: 107M, 10 Gbit/s: 1072M). */
function suggestedRate(l: Link): string {
  return `${Math.min(4096, Math.max(1, Math.floor((linkBytes(l.mbps) * 0.9) / MIB)))}M`; // DRBD's c-max-rate ceiling: 4 GiB/s
}

// ---- where a setting is, and the fix that changes it ----

/** One place a setting applies: the resource level (its own section or the common section), or a nested net/disk section. */
interface Site {
  value: string;
  /** where it is written */
  at: Place;
  scope: "resource" | "common" | "nested";
  nested?: NestedSection;
}

/** Every value of `section.key` for `r`: the resource level's (own or common's) and each nested section that sets it. */
function sitesOf(r: DrbdResource, section: "net" | "disk", key: string): Site[] {
  const out: Site[] = [];
  const own = r[section][key];
  if (own !== undefined) {
    const at = r.origins[`${section}.${key}`] ?? { file: r.file, line: r.line };
    out.push({ value: own, at, scope: at.file !== r.file && r.common?.file === at.file ? "common" : "resource" });
  }
  for (const n of r.nested) if (n.section === section && n.options[key] !== undefined) out.push({ value: n.options[key]!, at: { file: n.file, line: n.lines[key] ?? n.line }, scope: "nested", nested: n });
  return out;
}

type Set1 = { section: DrbdSection | "syncer"; key: string; value: string };

/**
 * The fix that writes `sets` where `site` says (the resource, the common section, a connection
 * section) and applies it; for a LINSTOR resource the linstor commands instead. `adjust: false`
 * for handlers (drbdadm reads them when DRBD calls one: nothing to apply).
 */
function fixAt(r: DrbdResource, site: Pick<Site, "scope" | "at" | "nested"> | undefined, sets: Set1[], adjust = true, note?: string): string[] {
  if (linstorManaged(r)) {
    const controller = site?.scope === "common" && site.at.file === r.template; // linstor_common.conf: the controller's options
    const linstor = sets.map((x) => ({ ...x, section: (x.section === "syncer" ? "disk" : x.section) as DrbdSection }));
    return [
      linstorIntro(r),
      ...linstorCommands(r, linstor, controller),
      ...(site?.scope === "nested" ? [`# if it is set on this connection in LINSTOR: linstor resource-connection drbd-peer-options --<option> <value> <node> <node> ${shq(r.name)}`] : []),
      ...(note ? [`# ${note}`] : []),
    ];
  }
  const groups = new Map<string, string[]>();
  for (const x of sets) groups.set(x.section, [...(groups.get(x.section) ?? []), `${x.key} ${/[\s;{}"#]/.test(x.value) ? `"${x.value}"` : x.value};`]);
  const text = [...groups].map(([sec, l]) => `${sec} { ${l.join(" ")} }`).join(" ");
  const place = site ?? { scope: "resource" as const, at: { file: r.file, line: r.line } };
  const head =
    place.scope === "common"
      ? `# in the common section (${place.at.file}:${place.at.line}, every resource) on every node:`
      : place.scope === "nested"
        ? `# in resource ${r.name}, its ${place.nested!.within} section (${place.at.file}:${place.at.line}), on every node:`
        : `# in resource ${r.name} (${r.file}:${r.line}) on every node:`; // the resource's own line, as drbd.ts's fixes
  return [`${head} ${text}`, ...(note ? [`# ${note}`] : []), ...(adjust ? [`drbdadm adjust ${place.scope === "common" ? "all" : r.name}    # on every node`] : [])];
}

const siteText = (s: Site) => (s.scope === "nested" ? ` in its ${s.nested!.within} section` : s.scope === "common" ? " (from the common section)" : "");

// ---- the checks ----

export interface PolicyContext {
  /** the loaded module's version (/proc/drbd), when known */
  kernel: string | undefined;
  /** the cluster fences nodes */
  stonith: boolean;
  /** iSCSILogicalUnit resources exporting one of this resource's devices */
  luns: string[];
  /** the replication link, when its speed is known */
  link: Link | undefined;
  /** the ids drbd.ts's fencing rules report for this resource (not repeated here) */
  fencingIds: string[];
  /** the primitive using the resource, for messages */
  usedBy?: string;
}

const DISCARD_0PRI = /^(discard-younger-primary|discard-older-primary|discard-least-changes|discard-local|discard-remote|discard-node-.+)$/;

function splitBrainPolicies(r: DrbdResource, c: PolicyContext, major: 8 | 9 | undefined): Finding[] {
  const out: Finding[] = [];
  const subject = `drbd resource ${r.name}`;
  const once = new Set<string>();
  const push = (f: Finding, key: string) => {
    if (once.has(key)) return;
    once.add(key);
    out.push(f);
  };
  const p0 = r.net["after-sb-0pri"] ?? "disconnect";
  const p0Picks = p0 !== "disconnect";
  const priLost = r.handlers["pri-lost-after-sb"];
  const tail =
    "Unset, every after-sb policy is disconnect (DRBD's default): both copies stay StandAlone until someone picks the one to discard (drbdadm connect --discard-my-data on that node), which is what the fix restores.";

  for (const s of sitesOf(r, "net", "after-sb-0pri")) {
    if (!DISCARD_0PRI.test(s.value)) continue;
    const how =
      s.value === "discard-least-changes"
        ? "the node with fewer changed blocks is resynced over: its writes since the split are lost, whatever they were"
        : s.value === "discard-younger-primary" || s.value === "discard-older-primary"
          ? `the node that became Primary ${s.value === "discard-younger-primary" ? "last" : "first"} is resynced over and loses every write since the split (discard-least-changes when both were promoted independently)`
          : s.value === "discard-local" || s.value === "discard-remote"
            ? `always the ${s.value === "discard-local" ? "node whose configuration says so" : "peer of the node whose configuration says so"} is resynced over and loses its writes since the split`
            : `one fixed node (${s.value.replace(/^discard-node-/, "")}) is always resynced over and loses its writes since the split`;
    push(
      {
        id: "drbd-after-sb-0pri",
        severity: "warning",
        subject,
        message: `DRBD resource ${r.name} resolves a split brain between two Secondaries by discarding one node's data (after-sb-0pri ${s.value}${siteText(s)})`,
        reason:
          `After a split brain both copies may hold writes that applications were told are on disk. With ${s.value} ${how}, automatically, on the next connect. ` +
          "Only disconnect and discard-zero-changes (acts only when one node wrote nothing since the split) never throw a write away. " +
          tail,
        fix: fixAt(r, s, [{ section: "net", key: "after-sb-0pri", value: "disconnect" }], true, "or discard-zero-changes: resolves a split brain only when one side has no changes"),
      },
      `0:${s.value}`,
    );
  }

  for (const s of sitesOf(r, "net", "after-sb-1pri")) {
    if (s.value !== "call-pri-lost-after-sb" && s.value !== "violently-as0p") continue;
    const today = p0Picks ? "" : ` As long as after-sb-0pri is ${p0}, it picks no victim and this only disconnects; it acts once after-sb-0pri discards.`;
    push(
      {
        id: "drbd-after-sb-1pri",
        severity: "warning",
        subject,
        message: `DRBD resource ${r.name} lets a split brain with one Primary discard the Primary's data (after-sb-1pri ${s.value}${siteText(s)})`,
        reason:
          (s.value === "violently-as0p"
            ? "violently-as0p applies after-sb-0pri's verdict even to the Primary: when it loses, DRBD resyncs over the data under its open filesystem or LUN (drbd.conf: it can crash the Primary; meant only for a single-node filesystem with allow-two-primaries)."
            : `call-pri-lost-after-sb applies after-sb-0pri's verdict to the Primary: when it loses, DRBD runs the pri-lost-after-sb handler on it, which is expected to reboot the node: a Primary Pacemaker manages reboots behind the cluster's back and its writes since the split are discarded${priLost ? "" : " (no pri-lost-after-sb handler is configured: nothing reboots and DRBD disconnects, so the policy does nothing but mislead)"}.`) +
          today +
          " Safe choices keep the Primary's data: disconnect, consensus, discard-secondary. " +
          tail,
        fix: fixAt(r, s, [{ section: "net", key: "after-sb-1pri", value: "disconnect" }], true, "or consensus / discard-secondary: keep the Primary's data"),
      },
      `1:${s.value}`,
    );
  }

  for (const s of sitesOf(r, "net", "after-sb-2pri")) {
    if (s.value !== "call-pri-lost-after-sb" && s.value !== "violently-as0p") continue;
    // after-sb-0pri decides who loses; while it is disconnect nobody does and DRBD disconnects
    const acts = p0Picks && (s.value === "violently-as0p" || priLost !== undefined);
    const severity: Severity = acts ? "error" : "warning";
    push(
      {
        id: "drbd-after-sb-2pri",
        severity,
        subject,
        message: `DRBD resource ${r.name} resolves a split brain between two Primaries automatically (after-sb-2pri ${s.value}${siteText(s)})`,
        reason:
          (s.value === "violently-as0p"
            ? "violently-as0p resyncs over the Primary after-sb-0pri picks as the loser while its filesystem or LUN is open: the data changes under the application (drbd.conf: DANGEROUS, may crash the machine)."
            : "call-pri-lost-after-sb runs the pri-lost-after-sb handler on the Primary after-sb-0pri picks as the loser, unless it can demote; the handler is expected to reboot it: a Primary in use reboots behind Pacemaker's back and its writes since the split are discarded.") +
          " Both Primaries acknowledged writes: any automatic choice loses one side's. " +
          (acts
            ? `It acts here: after-sb-0pri is ${p0}${s.value === "call-pri-lost-after-sb" ? " and a pri-lost-after-sb handler is configured" : ""}.`
            : `It does not act yet, which is why this is a warning and not an error: ${!p0Picks ? `after-sb-0pri is ${p0}, so no node is picked and DRBD disconnects` : "no pri-lost-after-sb handler is configured, so nothing reboots and DRBD disconnects"}; it becomes data loss as soon as ${!p0Picks ? "after-sb-0pri discards" : "a handler is added"}.`) +
          " The only policy for two Primaries that never loses a write is disconnect.",
        fix: fixAt(r, s, [{ section: "net", key: "after-sb-2pri", value: "disconnect" }]),
      },
      `2:${s.value}`,
    );
  }

  for (const s of sitesOf(r, "net", "rr-conflict")) {
    const protocolA = (s.nested?.options.protocol ?? r.net.protocol ?? "C").toUpperCase() === "A";
    if (!["violently", "call-pri-lost"].includes(s.value) && !(s.value === "auto-discard" && protocolA)) continue;
    push(
      {
        id: "drbd-rr-conflict",
        severity: "warning",
        subject,
        message: `DRBD resource ${r.name} resolves a resync-role conflict by acting on the Primary (rr-conflict ${s.value}${siteText(s)})`,
        reason:
          "A role conflict is a resync that would overwrite the current Primary (it has the older data, e.g. it was promoted while the node with newer data was away). " +
          (s.value === "violently"
            ? "violently resyncs into the Primary anyway: the data changes under its open filesystem or LUN (drbd.conf: do not use, it is dangerous)."
            : s.value === "call-pri-lost"
              ? "call-pri-lost runs the pri-lost handler, which is expected to reboot the Primary: a node Pacemaker runs resources on reboots behind the cluster's back."
              : "auto-discard (protocol A) rolls back the last writes the crashed Primary made before the failover, automatically.") +
          ` disconnect (the default) leaves the decision to the cluster and the operator${major === 8 ? "" : "; DRBD 9 also has retry-connect (disconnect and connect again at once, which clears a conflict once Pacemaker has demoted the stale Primary)"}.`,
        fix: fixAt(r, s, [{ section: "net", key: "rr-conflict", value: "disconnect" }], true, major === 8 ? undefined : "DRBD 9: or retry-connect"),
      },
      `rr:${s.value}`,
    );
  }
  return out;
}

/** The resource is protected from split brain: fencing with a handler and STONITH, or DRBD quorum with three or more nodes. */
function protectedFromSplitBrain(r: DrbdResource, c: PolicyContext, major: 8 | 9 | undefined): boolean {
  const policy = fencingPolicy(r);
  const fenced = (policy === "resource-only" || policy === "resource-and-stonith") && !!r.handlers["fence-peer"] && c.stonith;
  const quorum = major !== 8 && r.options.quorum !== undefined && r.options.quorum !== "off" && r.options["on-no-quorum"] !== undefined && r.hosts.length >= 3;
  return fenced || quorum;
}

function noticeAndVerify(r: DrbdResource, c: PolicyContext, major: 8 | 9 | undefined): Finding[] {
  const out: Finding[] = [];
  const subject = `drbd resource ${r.name}`;
  const commonSite = r.common && !linstorManaged(r) ? { scope: "common" as const, at: r.common } : undefined;
  if (!r.handlers["split-brain"] && !r.handlers["initial-split-brain"]) {
    const guarded = protectedFromSplitBrain(r, c, major);
    const handler = "/usr/lib/drbd/notify-split-brain.sh root";
    out.push({
      id: "drbd-no-split-brain-handler",
      severity: guarded ? "info" : "warning",
      subject,
      message: `DRBD resource ${r.name} has no split-brain handler: nobody is told when DRBD finds a split brain`,
      reason:
        "On a split brain DRBD (with the default after-sb policies) disconnects and leaves both copies StandAlone: replication stops, Pacemaker's monitor does not fail on it, and the cluster runs on one copy while the other node's writes since the split wait for someone to merge or discard them. " +
        "The split-brain handler is the only notice (notify-split-brain.sh mails the address it is given). " +
        (guarded
          ? "Fencing or DRBD quorum keeps split brains rare here (a failed fence, drbdadm primary --force), so this is informational."
          : "Nothing here prevents a split brain (no fencing policy working with STONITH, no DRBD quorum with three or more nodes): expect them."),
      fix: fixAt(r, commonSite, [{ section: "handlers", key: "split-brain", value: handler }], false, "mails root (use your on-call address); drbdadm reads handlers when DRBD runs one: nothing to adjust"),
    });
  }
  const verify = r.net["verify-alg"] ?? r.nested.find((n) => n.section === "net" && n.options["verify-alg"])?.options["verify-alg"];
  if (!verify) {
    const alg = "crc32c";
    out.push({
      id: "drbd-no-verify-alg",
      severity: "info",
      subject,
      message: `DRBD resource ${r.name} has no verify-alg: online verify (drbdadm verify) cannot run`,
      reason:
        "Online verify compares the nodes' copies block by block (checksums over the link) and marks differences out of sync, the only way to find silent divergence (a disk that returned wrong data, a bug, a resync interrupted by hand) before a failover serves it. DRBD refuses drbdadm verify without a verify-alg. " +
        "The DRBD guide recommends a verify about once a month in a quiet period.",
      fix: [
        ...fixAt(r, commonSite, [{ section: r.syncer ? "syncer" : "net", key: "verify-alg", value: alg }], true, "any hash in /proc/crypto (crc32c is cheap; sha256 stronger)"),
        `drbdadm verify ${r.name}    # then monthly from cron or a systemd timer; drbdadm status / dmesg show the out-of-sync blocks, a disconnect/connect resyncs them`,
      ],
    });
  }
  return out;
}

function resyncRate(r: DrbdResource, c: PolicyContext, major: 8 | 9 | undefined): Finding[] {
  const out: Finding[] = [];
  const subject = `drbd resource ${r.name}`;
  const v83 = c.kernel?.startsWith("8.3") ?? false;
  // each nested disk section that sets a rate (DRBD 9 per-connection/volume peer-device options) over
  // the resource level; the resource level itself unless connections set the rates (LINSTOR does, per connection)
  const RATE_KEYS = ["resync-rate", "c-plan-ahead", "c-max-rate"];
  const nestedRates = r.nested.filter((n) => n.section === "disk" && RATE_KEYS.some((k) => n.options[k] !== undefined));
  const levels: Array<{ disk: Options; site: (key: string) => Site | undefined }> = [
    ...(nestedRates.some((n) => n.within.startsWith("connection")) ? [] : [{ disk: r.disk, site: (k: string) => sitesOf(r, "disk", k).find((x) => x.scope !== "nested") }]),
    ...nestedRates.map((n) => ({ disk: { ...r.disk, ...n.options }, site: (k: string) => sitesOf(r, "disk", k).find((x) => x.nested === n) ?? sitesOf(r, "disk", k).find((x) => x.scope !== "nested") })),
  ];
  const once = new Set<string>();
  const sec = r.syncer ? ("syncer" as const) : ("disk" as const);
  const rateKey = r.syncer ? "rate" : "resync-rate";
  const linkText = c.link ? `the replication link (${fmtLink(c.link)}, the route to ${c.link.peer})` : "";
  for (const { disk, site } of levels) {
    const planAhead = disk["c-plan-ahead"] !== undefined ? Number(disk["c-plan-ahead"]) : v83 ? 0 : DEFAULT_C_PLAN_AHEAD;
    const fixedSet = disk["resync-rate"] !== undefined;
    const fixed = rateBytes(disk["resync-rate"] ?? DEFAULT_RESYNC_RATE);
    const maxSet = disk["c-max-rate"] !== undefined;
    const cmax = rateBytes(disk["c-max-rate"] ?? DEFAULT_C_MAX_RATE);
    const where = (k: string) => site(k) ?? site("c-plan-ahead");
    if (planAhead === 0 && fixed !== undefined) {
      const what = `a fixed resync rate of ${fmtRate(fixed)} (${fixedSet ? `${rateKey} ${disk["resync-rate"]}` : "DRBD's default 250 KiB/s"}) with the dynamic controller off (${disk["c-plan-ahead"] !== undefined ? "c-plan-ahead 0" : "DRBD 8.3's default"})`;
      const cap = c.link ? linkBytes(c.link.mbps) : undefined;
      if (cap !== undefined && fixed > cap && !once.has("high")) {
        once.add("high");
        out.push({
          id: "drbd-resync-rate-high",
          severity: "warning",
          subject,
          message: `DRBD resource ${r.name} resyncs at ${what}, more than ${linkText} carries`,
          reason:
            "With the controller off DRBD sends resync data at the fixed rate whatever else uses the link; above the link's capacity the resync fills it and the replicated application writes (protocol C waits for the peer) queue behind it: write latency jumps for the whole resync. " +
            "The dynamic controller (c-plan-ahead > 0) adapts to the link and to application I/O (c-fill-target, c-min-rate), with c-max-rate as its ceiling.",
          fix: fixAt(r, where("c-plan-ahead"), [
            { section: sec, key: "c-plan-ahead", value: "20" },
            { section: sec, key: "c-max-rate", value: suggestedRate(c.link!) },
          ]),
        });
      }
      const floor = cap ?? linkBytes(1000); // link unknown: below a tenth of even 1 Gbit/s
      if (fixed < floor / 10 && !once.has("low")) {
        once.add("low");
        out.push({
          id: "drbd-resync-rate-low",
          severity: "warning",
          subject,
          message: `DRBD resource ${r.name} resyncs at ${what}, ${c.link ? `under a tenth of ${linkText}` : "under a tenth of even a 1 Gbit/s link (this link's speed is not known here)"}`,
          reason:
            `A full resync of 1 TiB takes ${perTiB(fixed)} at that rate, and until it ends the sync target is Inconsistent: the data exists on one node only, and losing that node loses it. ` +
            "The dynamic controller (c-plan-ahead > 0, the default since DRBD 8.4) resyncs as fast as the link and the disks allow while application I/O stays first (c-min-rate), up to c-max-rate.",
          fix: fixAt(r, where("c-plan-ahead"), [
            { section: sec, key: "c-plan-ahead", value: "20" },
            { section: sec, key: "c-max-rate", value: c.link ? suggestedRate(c.link) : "100M" },
          ]),
        });
      }
    }
    if (planAhead > 0 && cmax !== undefined && cmax > 0 && c.link) {
      const cap = linkBytes(c.link.mbps);
      const what = maxSet ? `c-max-rate ${disk["c-max-rate"]}` : "c-max-rate unset: DRBD's default";
      if (cmax > cap && !once.has("high")) {
        once.add("high");
        out.push({
          id: "drbd-resync-rate-high",
          severity: "info",
          subject,
          message: `DRBD resource ${r.name} caps the resync at ${fmtRate(cmax)} (${what}), more than ${linkText} carries`,
          reason:
            "c-max-rate is the dynamic controller's ceiling; above the link's capacity it limits nothing and the link is the cap. The controller still backs off for application I/O (c-fill-target, c-min-rate), so this is not harmful by itself, but the ceiling should be what the link (or the disks, when slower) can take, as the DRBD guide says.",
          fix: fixAt(r, where("c-max-rate"), [{ section: sec, key: "c-max-rate", value: suggestedRate(c.link) }]),
        });
      } else if (cmax < cap / 10 && !once.has("low")) {
        once.add("low");
        out.push({
          id: "drbd-resync-rate-low",
          severity: "info",
          subject,
          message: `DRBD resource ${r.name} caps the resync at ${fmtRate(cmax)} (${what}), under a tenth of ${linkText}`,
          reason:
            `A full resync of 1 TiB takes at least ${perTiB(cmax)} at that ceiling instead of about ${perTiB(cap * 0.9)} at the link's speed, and the sync target is Inconsistent meanwhile: one node holds the only good copy. ` +
            "The controller keeps application I/O first (c-min-rate), so a ceiling near the link's (or the disks') capacity is safe.",
          fix: fixAt(r, where("c-max-rate"), [{ section: sec, key: "c-max-rate", value: suggestedRate(c.link) }]),
        });
      }
    }
  }
  return out;
}

function quorumChecks(r: DrbdResource, c: PolicyContext, major: 8 | 9 | undefined): Finding[] {
  const out: Finding[] = [];
  if (major === 8) return out; // DRBD 8.4 has no quorum (drbdFencingFindings says so where it matters)
  const subject = `drbd resource ${r.name}`;
  const quorum = r.options.quorum;
  const on = quorum !== undefined && quorum !== "off";
  const onNoQuorum = r.options["on-no-quorum"];
  const policy = fencingPolicy(r);
  const usedBy = c.usedBy ? ` (used by ${c.usedBy})` : "";
  const resource = { scope: "resource" as const, at: { file: r.file, line: r.line } };

  // quorum with two nodes and no tiebreaker, where drbd.ts's quorum rule did not already say so:
  // with a fencing policy the fence-peer handler outdates the lost peer, and a partition whose
  // missing nodes are all outdated keeps quorum (drbd.conf(5), quorum)
  if (on && r.hosts.length < 3 && (policy === undefined || policy === "dont-care") && !c.fencingIds.includes("drbd-quorum-two-nodes"))
    out.push({
      id: "drbd-quorum-no-tiebreaker",
      severity: "warning",
      subject,
      message: `DRBD resource ${r.name}${usedBy} uses quorum (${quorum}) with ${r.hosts.length} node(s) and no tiebreaker: it loses quorum whenever one node goes`,
      reason:
        "A majority of two is both nodes. A node that leaves cleanly is marked outdated and does not count, but a crash or a cut link leaves the survivor without quorum: " +
        `its I/O ${onNoQuorum === "io-error" ? "fails (on-no-quorum io-error)" : "freezes (on-no-quorum suspend-io, the default)"} and Pacemaker cannot promote it, so one failure stops the service that replication was meant to keep. ` +
        "A third node, even a diskless tiebreaker, keeps a majority through one failure; with STONITH a fencing policy and the crm-fence-peer handlers also work (the fenced peer counts as outdated).",
      fix: linstorManaged(r)
        ? [linstorIntro(r), `linstor resource-definition auto-place --drbd-diskless --place-count 1 ${shq(r.name)}    # a diskless tiebreaker on a third node`]
        : [
            `# in resource ${r.name} (${r.file}:${r.line}) on every node, a third node without a disk:`,
            `#   on "<tiebreaker>" { node-id ${r.hosts.length}; volume 0 { device minor ${r.minors[0] ?? 0}; disk none; } address <ip>:7789; }`,
            `#   connection-mesh { hosts ${[...r.hosts, "<tiebreaker>"].join(" ")}; }    # or a connection section per pair`,
            `drbdadm adjust ${r.name}    # on every node, the tiebreaker too`,
          ],
    });

  // quorum failing I/O under an iSCSI target (drbd.ts reports an on-no-quorum that is neither value)
  if (on && onNoQuorum === "io-error" && c.luns.length && !c.fencingIds.includes("drbd-on-no-quorum"))
    out.push({
      id: "drbd-quorum-io-error-iscsi",
      severity: "warning",
      subject,
      message: `DRBD resource ${r.name} fails I/O when it loses quorum (on-no-quorum io-error) and is exported by the iSCSI LUN${c.luns.length > 1 ? "s" : ""} ${c.luns.join(", ")}`,
      reason:
        "When the Primary loses quorum every pending and new write fails, and the target passes the errors to the initiators: their filesystems go read-only, VMs see failed disk writes, databases stop, even for a quorum loss of seconds (a link flap, a peer reboot) and although the LUN moves to a quorate node moments later. " +
        "With suspend-io the I/O freezes instead: initiators retry (SCSI command timeout, iSCSI replacement_timeout) and carry on when quorum returns or the LUN comes back on the other node. " +
        "io-error suits a filesystem Pacemaker mounts on the node itself, where the failing I/O makes the stop succeed; tsstor stack --fencing drbd-quorum uses suspend-io for iSCSI.",
      fix: fixAt(r, resource, [{ section: "options", key: "on-no-quorum", value: "suspend-io" }], true, "DRBD >= 9.1.7: also on-suspended-primary-outdated force-secondary, so a frozen Primary that finds a newer Primary demotes"),
    });

  // three or more nodes, no quorum, no node fencing: drbd.ts reports a missing fencing policy itself
  if (!on && r.hosts.length >= 3 && !c.stonith && !c.fencingIds.includes("drbd-no-fencing"))
    out.push({
      id: "drbd-quorum-off",
      severity: "warning",
      subject,
      message: `DRBD resource ${r.name}${usedBy} has ${r.hosts.length} nodes and no DRBD quorum${quorum === "off" ? " (quorum off)" : ""}, and the cluster cannot fence nodes`,
      reason:
        `Its fencing policy (fencing ${policy}) relies on node fencing: crm-fence-peer only keeps Pacemaker from promoting the other side, and with resource-and-stonith a Primary that loses its peers freezes until a fence that never comes. A partitioned node can still be promoted by hand, by auto-promote or by another cluster manager and write. ` +
        "With three or more DRBD nodes, DRBD quorum protects the data without STONITH: a partition without a majority can neither be promoted nor write. (STONITH is still what recovers a failed stop.)",
      fix: fixAt(r, resource, [
        { section: "options", key: "quorum", value: "majority" },
        { section: "options", key: "on-no-quorum", value: c.luns.length ? "suspend-io" : "io-error" },
      ]),
    });
  return out;
}

function linstorNote(r: DrbdResource): Finding[] {
  if (!linstorManaged(r)) return [];
  return [
    {
      id: "drbd-linstor-managed",
      severity: "info",
      subject: `drbd resource ${r.name}`,
      message: `DRBD resource ${r.name} is managed by LINSTOR (${r.file}${r.generatedBy ? `, generated by ${r.generatedBy}` : ""}): do not edit it by hand`,
      reason:
        "The LINSTOR satellite writes this file from the controller's database and rewrites it whenever the resource changes and when the satellite starts: an edit by hand is lost then, and until then drbdadm adjust may have applied it on one node only. " +
        `Options belong in LINSTOR (resource definition, resource group or controller level; the most specific wins)${r.template ? `; this file takes the controller's options from ${r.template} (template-file)` : ""}. The fixes of the other findings for this resource are linstor commands.`,
      fix: [
        `linstor resource-definition drbd-options --<option> <value> ${shq(r.name)}    # net, disk, peer-device and resource options (linstor controller drbd-options: every resource)`,
        `linstor resource-definition set-property ${shq(r.name)} DrbdOptions/Handlers/<handler> '<command>'    # handlers`,
        `linstor resource-definition list-properties ${shq(r.name)}    # what is set on the definition`,
      ],
    },
  ];
}

/** Every finding of this module for one DRBD resource. */
export function drbdPolicyFindings(r: DrbdResource, c: PolicyContext): Finding[] {
  // 8.3's `syncer { rate }` exists on DRBD 8 only (drbd-utils 9's drbdadm refuses it)
  const major = drbdMajor(r, c.kernel) ?? (r.syncer && r.disk["resync-rate"] !== undefined ? 8 : undefined);
  return [...splitBrainPolicies(r, c, major), ...noticeAndVerify(r, c, major), ...resyncRate(r, c, major), ...quorumChecks(r, c, major), ...linstorNote(r)];
}

/** iSCSILogicalUnit resources whose path is one of `r`'s devices (/dev/drbdN, a named device, /dev/drbd/by-res/NAME[/VOL]). */
function lunsOn(s: Sources, r: DrbdResource): string[] {
  const byRes = `/dev/drbd/by-res/${r.name}`;
  return s.cib.primitives
    .filter((p) => p.class === "ocf" && p.type === "iSCSILogicalUnit")
    .filter((p) => {
      const path = p.params.path ?? "";
      return r.devices.includes(path) || path === byRes || path.startsWith(`${byRes}/`);
    })
    .map((p) => p.id);
}

/** The check with a given link probe (tests); checkDrbdPolicy reads the host's files under --root. */
export function checkDrbdPolicyWith(probe: (s: Sources) => LinkProbe): Check {
  return (s) => {
    const out: Finding[] = [];
    const stonith = fencing(s.cib).effective;
    const done = new Set<DrbdResource>();
    for (const p of s.cib.primitives.filter(isDrbd)) {
      const conf = s.drbdConf(p);
      const r = unavailable(conf) ? undefined : conf.resources.get(p.params.drbd_resource ?? "");
      if (!r || done.has(r)) continue; // unreadable or missing: drbd.ts reports it
      done.add(r);
      out.push(
        ...drbdPolicyFindings(r, {
          kernel: s.drbdKernel,
          stonith,
          luns: lunsOn(s, r),
          link: replicationLink(r, probe(s)),
          fencingIds: drbdFencingFindings(r, { kernel: s.drbdKernel, stonith }).map((f) => f.id),
          usedBy: p.id,
        }),
      );
    }
    return out;
  };
}

export const checkDrbdPolicy: Check = checkDrbdPolicyWith((s) => sysfsLinkProbe(s.path));
