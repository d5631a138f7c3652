// DRBD under Pacemaker: the promotable clone's meta attributes, and the DRBD side of the
// configuration for every resource a drbd primitive manages (fencing policy and handlers,
// auto-promote, dual-primary) plus the drbd.service that must stay disabled.
import { cloneMeta, cloneOf, isTrue, type Primitive } from "../doctor/cib.js";
import type { DrbdConfig, DrbdResource } from "../doctor/drbd.js";
import { shq } from "../pcs.js";
import { fencing } from "./fencing.js";
import { unavailable, type Check, type Finding, type Sources } from "./types.js";

export const isDrbd = (p: Primitive) => p.class === "ocf" && (p.provider === "linbit" || p.provider === "tsstor") && p.type === "drbd";

/**
 * The DRBD major version for this resource: the loaded module's (/proc/drbd), else what the
 * config syntax implies (node-id, connection sections, .9.sh handlers, DRBD 9-only options), else
 * undefined (a plain two-node config reads the same for 8.4 and 9). `handlers: false` leaves the
 * handler names out of the evidence (to judge whether they are the right version's).
 */
export function drbdMajor(r: DrbdResource, kernel: string | undefined, handlers = true): 8 | 9 | undefined {
  if (kernel) return kernel.startsWith("8.") ? 8 : 9;
  const h = handlers ? Object.values(r.handlers).join(" ") : "";
  if (r.drbd9Syntax || /\.9\.sh/.test(h) || "auto-promote" in r.options || "quorum" in r.options || r.net.fencing !== undefined) return 9;
  if (/crm-fence-peer\.sh/.test(h) || r.disk.fencing !== undefined) return 8;
  return undefined;
}

const fencingPolicy = (r: DrbdResource): string | undefined =>
  // DRBD 9: net section (or per connection); 8.4: disk section
  r.net.fencing ?? r.connectionNets.find((n) => n.fencing)?.fencing ?? r.disk.fencing;

function where(r: DrbdResource): string {
  return `${r.file}:${r.line}`;
}

// ---- the DRBD half of fencing: one rule for `tsstor doctor` and `tsstor stack` ----

export type OnNoQuorum = "io-error" | "suspend-io";

/** Every id drbdFencingFindings can report; `tsstor stack` refuses a DRBD config with any of them. */
export const DRBD_FENCING_IDS = [
  "drbd-no-fencing",
  "drbd-no-fence-handler",
  "drbd-fence-handler-version",
  "drbd-no-unfence-handler",
  "drbd-resource-only",
  "drbd-on-no-quorum",
  "drbd-quorum-two-nodes",
] as const;

export interface DrbdFencingContext {
  /** the loaded module's version (/proc/drbd), when known */
  kernel: string | undefined;
  /** the cluster fences nodes (a stonith device, or watchdog SBD) */
  stonith: boolean;
  /**
   * DRBD quorum is the protection (tsstor stack --fencing drbd-quorum), with this on-no-quorum.
   * Without it, quorum is judged only where the doctor finds it configured on an unfenced cluster.
   */
  quorum?: OnNoQuorum;
  /** the primitive using the resource, for messages */
  usedBy?: string;
}

/** The handler lines of one DRBD version (9, or 8.4), as drbd.conf wants them. */
export function handlerLines(v9: boolean) {
  return {
    fence: v9 ? "/usr/lib/drbd/crm-fence-peer.9.sh" : "/usr/lib/drbd/crm-fence-peer.sh",
    unfence: v9 ? `unfence-peer "/usr/lib/drbd/crm-unfence-peer.9.sh";` : `after-resync-target "/usr/lib/drbd/crm-unfence-peer.sh";`,
  };
}

/**
 * The DRBD side of fencing for one resource. With STONITH: `fencing resource-and-stonith` and the
 * crm-fence-peer / crm-unfence-peer handlers of the resource's DRBD version. With DRBD quorum
 * instead (no STONITH): `quorum` with an explicit `on-no-quorum`, DRBD 9, three or more nodes
 * (a diskless tiebreaker counts). Without either: a fencing policy with its handler.
 */
export function drbdFencingFindings(r: DrbdResource, c: DrbdFencingContext): Finding[] {
  const out: Finding[] = [];
  const subject = `drbd resource ${r.name}`;
  const major = drbdMajor(r, c.kernel);
  const v9 = major !== 8;
  const { fence, unfence } = handlerLines(v9);
  const section = major === 9 ? "net" : major === 8 ? "disk" : "net (DRBD 8.4: disk)";
  const at = `# in resource ${r.name} (${where(r)}) on every node:`;
  const edit = (...lines: string[]) => [...(lines.length === 1 ? [`${at} ${lines[0]}`] : [at, ...lines.map((l) => `#   ${l}`)]), `drbdadm adjust ${r.name}    # on every node`];
  const policy = fencingPolicy(r);
  const quorumSet = r.options.quorum !== undefined && r.options.quorum !== "off";
  const onNoQuorum = r.options["on-no-quorum"];
  const usedBy = c.usedBy ? ` (used by ${c.usedBy})` : "";

  if (c.quorum !== undefined || (!c.stonith && quorumSet && (policy === undefined || policy === "dont-care"))) {
    const want = c.quorum ?? "io-error";
    if (major === 8 || !quorumSet || onNoQuorum === undefined) {
      out.push({
        id: "drbd-no-fencing",
        severity: "error",
        subject,
        message:
          major === 8
            ? `DRBD resource ${r.name}${usedBy} runs on DRBD ${c.kernel ?? "8.4"}, which has no quorum`
            : !quorumSet
              ? `DRBD resource ${r.name}${usedBy} has no DRBD quorum (options { quorum ...; })`
              : `DRBD resource ${r.name}${usedBy} has quorum but no explicit on-no-quorum`,
        reason:
          "Without node fencing, only DRBD quorum keeps a node that lost its peers from writing: with `quorum majority` a partition without a majority of the DRBD nodes cannot be promoted, and `on-no-quorum` says what a Primary does with I/O when it loses quorum (written out: the default changed between DRBD releases).",
        fix:
          major === 8
            ? [`# DRBD 8.4 has no quorum: use node fencing (tsstor stack --fencing sbd|agent) with`, ...edit(`${section} { fencing resource-and-stonith; }`, `handlers { fence-peer "${fence}"; ${unfence} }`)]
            : edit(`options { ${quorumSet ? "" : "quorum majority; "}on-no-quorum ${want}; }`),
      });
      return out;
    }
    if (onNoQuorum !== want && (c.quorum !== undefined || !["io-error", "suspend-io"].includes(onNoQuorum)))
      out.push({
        id: "drbd-on-no-quorum",
        severity: "error",
        subject,
        message: `DRBD resource ${r.name} has "on-no-quorum ${onNoQuorum}", this stack needs ${want}`,
        reason:
          want === "io-error"
            ? "A Primary that loses quorum must fail its I/O so the filesystem and service above it fail and Pacemaker can stop them; frozen I/O (suspend-io) leaves the stop hanging."
            : "A frozen iSCSI target (suspend-io) makes initiators retry until quorum returns; I/O errors (io-error) reach the initiators' filesystems and VMs.",
        fix: edit(`options { on-no-quorum ${want}; }`),
      });
    if (r.hosts.length < 3)
      out.push({
        id: "drbd-quorum-two-nodes",
        severity: "warning",
        subject,
        message: `DRBD resource ${r.name} relies on quorum with ${r.hosts.length} node(s)`,
        reason:
          "A majority of two is both: when either node dies the survivor loses quorum, its I/O stops or fails and nothing can be promoted. A third node, a diskless tiebreaker (disk none) is enough, keeps a majority through one failure.",
        fix: edit(`on "<tiebreaker>" { node-id ${r.hosts.length}; disk none; address <ip>:7789; }    # and connection-mesh { hosts ${[...r.hosts, "<tiebreaker>"].join(" ")}; }`),
      });
    return out;
  }

  const handler = r.handlers["fence-peer"];
  if (policy === undefined || policy === "dont-care") {
    // with STONITH, DRBD quorum alone still leaves the cluster's fencing unused by DRBD
    const quorumOnly = quorumSet && onNoQuorum !== undefined && major !== 8;
    out.push({
      id: "drbd-no-fencing",
      severity: quorumOnly ? "warning" : "error",
      subject,
      message: `DRBD resource ${r.name}${usedBy} has no fencing policy${policy ? " (fencing dont-care)" : ""}${quorumOnly ? " although the cluster has STONITH (DRBD quorum only)" : ""}`,
      reason:
        "When the replication link breaks, a Secondary with outdated data may be promoted while the other node is still Primary and writing: two diverging copies, and after reconnection one side's writes are thrown away. " +
        "The fence-peer handler (crm-fence-peer) stops Pacemaker from promoting the outdated side; resource-and-stonith also freezes I/O until the peer is fenced.",
      fix: edit(`${section} { fencing resource-and-stonith; }`, `handlers { fence-peer "${fence}"; ${unfence} }`),
    });
    return out;
  }
  if (!handler) {
    out.push({
      id: "drbd-no-fence-handler",
      severity: "error",
      subject,
      message: `DRBD resource ${r.name} has "fencing ${policy}" but no fence-peer handler`,
      reason:
        policy === "resource-and-stonith"
          ? "On a lost connection the Primary freezes I/O and calls the fence-peer handler; with none configured nothing resolves the freeze and I/O stays suspended until someone runs drbdadm resume-io."
          : "The policy calls the fence-peer handler, and there is none: nothing outdates the peer or stops Pacemaker from promoting it, so the policy does nothing.",
      fix: edit(`handlers { fence-peer "${fence}"; ${unfence} }`),
    });
    return out;
  }
  if (/crm-fence-peer/.test(handler)) {
    const unfenceHook = `${r.handlers["unfence-peer"] ?? ""} ${r.handlers["after-resync-target"] ?? ""}`;
    // judged on evidence other than the handler names themselves
    const known = drbdMajor(r, c.kernel, false);
    const scripts = `${handler} ${unfenceHook}`;
    if (known !== undefined && (known === 9 ? /crm-(un)?fence-peer\.sh/.test(scripts) : /crm-(un)?fence-peer\.9\.sh/.test(scripts)))
      out.push({
        id: "drbd-fence-handler-version",
        severity: "error",
        subject,
        message: `DRBD resource ${r.name} uses the crm-fence-peer handlers of DRBD ${known === 9 ? "8.4" : "9"} on DRBD ${known === 9 ? "9" : "8.4"}`,
        reason:
          "Each DRBD version has its own handler (crm-fence-peer.9.sh reads DRBD 9's multi-peer state, crm-fence-peer.sh 8.4's /proc/drbd). The other version's handler fails, and with resource-and-stonith a failed fence-peer leaves I/O frozen.",
        fix: edit(`handlers { fence-peer "${handlerLines(known === 9).fence}"; ${handlerLines(known === 9).unfence} }`),
      });
    else if (!/crm-unfence-peer/.test(unfenceHook))
      out.push({
        id: "drbd-no-unfence-handler",
        severity: "warning",
        subject,
        message: `DRBD resource ${r.name} fences with crm-fence-peer but never removes the constraint (no crm-unfence-peer handler)`,
        reason: `crm-fence-peer places a location constraint (drbd-fence-by-handler-${r.name}-...) that forbids promoting the peer; only the unfence handler removes it after the resync. Without it, the next failover to that node is blocked until someone deletes the constraint by hand.`,
        fix: edit(`handlers { ${unfence} }`),
      });
  }
  if (policy === "resource-only" && c.stonith)
    out.push({
      id: "drbd-resource-only",
      severity: "warning",
      subject,
      message: `DRBD resource ${r.name} uses "fencing resource-only" although the cluster has STONITH`,
      reason:
        "resource-only keeps the Primary writing while the fence-peer handler runs; if the peer is unreachable but alive, writes it will never see are acknowledged. With STONITH available, resource-and-stonith freezes I/O until the peer is outdated or fenced (what ocf:linbit:drbd's documentation asks for).",
      fix: edit(`${section} { fencing resource-and-stonith; }`),
    });
  return out;
}

/**
 * Every DRBD resource of the CIB is protected by DRBD quorum (what `tsstor stack --fencing
 * drbd-quorum` sets up), and nothing in the CIB needs node fencing by itself (DLM, GFS2).
 */
export function reliesOnDrbdQuorum(s: Sources): boolean {
  const prims = s.cib.primitives.filter(isDrbd);
  if (!prims.length || s.cib.primitives.some((p) => p.type === "controld" || (p.type === "Filesystem" && p.params.fstype === "gfs2"))) return false;
  return prims.every((p) => {
    const conf = s.drbdConf(p);
    const r = unavailable(conf) ? undefined : conf.resources.get(p.params.drbd_resource ?? "");
    const q = r?.options["on-no-quorum"];
    return r !== undefined && (q === "io-error" || q === "suspend-io") && drbdFencingFindings(r, { kernel: s.drbdKernel, stonith: false, quorum: q }).length === 0;
  });
}

function clonechecks(s: Sources, p: Primitive, out: Finding[], conf: DrbdConfig | undefined): void {
  const c = cloneOf(p);
  if (!c || !c.promotable) {
    out.push({
      id: "drbd-not-promotable",
      severity: "error",
      subject: `resource ${p.id}`,
      message: `DRBD resource ${p.id} is not in a promotable clone`,
      reason: "The DRBD agent only works as a promotable clone (one instance per node, Primary = Promoted); as a plain resource it can never be promoted, so nothing can use the device.",
      fix: [`pcs resource promotable ${shq(p.id)} promoted-max=1 promoted-node-max=1 clone-max=2 clone-node-max=1 notify=true`],
    });
    return;
  }
  const notify = cloneMeta(s.cib, c, "notify");
  if (!isTrue(notify))
    out.push({
      id: "drbd-clone-notify",
      severity: "error",
      subject: `resource ${c.id}`,
      message: `DRBD clone ${c.id} runs without notify=true`,
      reason: "The DRBD agent needs the pre/post notifications to track its peers' state and adjust promotion scores; ocf:linbit:drbd and ocf:tsstor:drbd refuse to start without them.",
      fix: [`pcs resource meta ${shq(c.id)} notify=true`],
    });
  const promotedMax = Number(cloneMeta(s.cib, c, "promoted-max") ?? "1");
  const r = conf?.resources.get(p.params.drbd_resource ?? "");
  const dual = r !== undefined && isTrue(r.net["allow-two-primaries"] ?? r.connectionNets.find((n) => n["allow-two-primaries"])?.["allow-two-primaries"]);
  if (promotedMax > 1 && r !== undefined && !dual)
    out.push({
      id: "drbd-promoted-max",
      severity: "error",
      subject: `resource ${c.id}`,
      message: `DRBD clone ${c.id} has promoted-max=${promotedMax} but DRBD resource ${r.name} does not allow two primaries`,
      reason:
        "Pacemaker will try to promote a second node, and DRBD refuses (\"Multiple primaries not allowed by config\"): the promote fails, fail counts grow and the clone ends up banned. Dual-primary is only for cluster filesystems (GFS2/OCFS2) with fencing.",
      fix: [`pcs resource meta ${shq(c.id)} promoted-max=1`, `# or, for a cluster filesystem on top, in ${where(r)}: net { allow-two-primaries yes; }, then: drbdadm adjust ${r.name}`],
    });
  for (const m of ["promoted-node-max", "clone-node-max"]) {
    const v = Number(cloneMeta(s.cib, c, m) ?? "1");
    if (v > 1)
      out.push({
        id: "drbd-node-max",
        severity: "error",
        subject: `resource ${c.id}`,
        message: `DRBD clone ${c.id} has ${m}=${v}`,
        reason: "A DRBD resource exists once per node: a second instance on the same node cannot start (the agent refuses clone-node-max or promoted-node-max above 1).",
        fix: [`pcs resource meta ${shq(c.id)} ${m}=1`],
      });
  }
}

function confchecks(s: Sources, p: Primitive, r: DrbdResource, out: Finding[]): void {
  const subject = `drbd resource ${r.name}`;
  out.push(...drbdFencingFindings(r, { kernel: s.drbdKernel, stonith: fencing(s.cib).effective, usedBy: p.id }));
  const major = drbdMajor(r, s.drbdKernel);
  if (major === 9 && !["no", "false", "off"].includes((r.options["auto-promote"] ?? "yes").toLowerCase()))
    out.push({
      id: "drbd-auto-promote",
      severity: "warning",
      subject,
      message: `DRBD resource ${r.name} has auto-promote ${"auto-promote" in r.options ? "yes" : "on (the DRBD 9 default)"} under Pacemaker`,
      reason:
        "With auto-promote, any process opening the device for writing makes the node Primary behind Pacemaker's back: an fstab mount, an LVM activation, or the LIO restore service re-creating a backstore at boot. " +
        "Pacemaker then finds a Primary it did not promote and recovers the clone (demote/stop), or, while the peer is down, the wrong node holds the data. Under Pacemaker only the agent should promote.",
      fix: [`# in resource ${r.name} (${where(r)}) on every node: options { auto-promote no; }`, `drbdadm adjust ${r.name}    # on every node`],
    });
}

export const checkDrbd: Check = (s) => {
  const out: Finding[] = [];
  const prims = s.cib.primitives.filter(isDrbd);
  for (const p of prims) {
    const conf = s.drbdConf(p);
    const c = unavailable(conf) ? undefined : conf;
    clonechecks(s, p, out, c);
    const name = p.params.drbd_resource;
    if (!name) continue;
    if (!c) {
      out.push({
        id: "drbd-conf-unreadable",
        severity: "info",
        subject: `resource ${p.id}`,
        message: `DRBD checks of ${name} skipped: ${(conf as { error: string }).error}`,
        reason: "The fencing policy, handlers and auto-promote live in drbd.conf on the nodes; run tsstor doctor on a DRBD node or point --drbd-conf at a copy.",
        fix: [],
      });
      continue;
    }
    const r = c.resources.get(name);
    if (!r) {
      out.push({
        id: "drbd-resource-missing",
        severity: "warning",
        subject: `resource ${p.id}`,
        message: `DRBD resource "${name}" (drbd_resource of ${p.id}) is not defined in ${c.path}`,
        reason: "The agent runs drbdadm on this name: on a node where drbd.conf lacks it, start fails (not configured) and the node cannot take over.",
        fix: [`drbdadm -c ${shq(c.path)} dump ${shq(name)}    # shows what drbdadm sees`],
      });
      continue;
    }
    confchecks(s, p, r, out);
  }
  if (prims.length) {
    const by = [...s.units.enabledBy("drbd.service"), ...s.units.enabledBy("drbd@")];
    if (by.length)
      out.push({
        id: "drbd-service-enabled",
        severity: "warning",
        subject: by.join(", "),
        message: "the drbd systemd service is enabled at boot while Pacemaker manages DRBD",
        reason:
          "drbd.service brings resources up (and may promote them) before Pacemaker starts, outside the cluster's control; its own description says \"please disable. Unless you are NOT using a cluster manager\".",
        fix: by.map((l) => `systemctl disable ${l.split("/").pop()}`),
      });
  }
  return out;
};
