// iSCSI targets: the LIO restore service (targetctl restore at boot) re-creating targets outside
// the cluster, and targets open to strangers — no initiator list, no CHAP, a CHAP secret in the
// CIB, portals listening on the cluster or replication network, a portal on a virtual IP the
// kernel will not bind before the IP is up.
import type { Primitive } from "../doctor/cib.js";
import { parsePortals } from "../../lib/iscsi/syntax.js";
import { isDrbd } from "./drbd.js";
import { unavailable, type Check, type Finding, type Sources } from "./types.js";

export const isTarget = (p: Primitive) => p.class === "ocf" && (p.type === "iSCSITarget" || p.type === "iSCSILogicalUnit");

/** Units that run `targetctl restore` at boot: Debian/Ubuntu, RHEL/Fedora, SUSE. */
export const LIO_RESTORE_UNITS = ["rtslib-fb-targetctl.service", "target.service", "targetcli.service"];

export const checkTarget: Check = (s) => {
  const out: Finding[] = [];
  const targets = s.cib.primitives.filter(isTarget);
  // implementation unset: the agents pick LIO when targetcli is installed
  const lio = targets.filter((p) => (p.params.implementation ?? "lio-t").startsWith("lio"));
  if (lio.length) {
    const by = LIO_RESTORE_UNITS.flatMap((u) => s.units.enabledBy(u));
    if (by.length) {
      const units = [...new Set(by.map((l) => l.split("/").pop()!))];
      out.push({
        id: "lio-restore-enabled",
        severity: "error",
        subject: by.join(", "),
        message: `the LIO restore service is enabled at boot (${units.join(", ")}) while Pacemaker runs the iSCSI target (${lio.map((p) => p.id).join(", ")})`,
        reason:
          "At boot it runs `targetctl restore`, re-creating every target and backstore targetcli last saved (saveconfig.json), outside the cluster: the node exports LUNs Pacemaker did not start, " +
          "on a DRBD Secondary it opens the device (and with DRBD 9 auto-promote makes the node Primary), on a shared SAN LUN both nodes serve it. It fights the cluster, and stopping it runs `targetctl clear`, which deletes every target on the node, the cluster's included.",
        fix: units.map((u) => `systemctl disable ${u}    # not --now: stopping it runs targetctl clear and drops the running targets`),
      });
    }
  }
  for (const p of s.cib.primitives.filter((x) => isTarget(x) && x.type === "iSCSITarget")) out.push(...openTarget(s, p));
  return out;
};

/** One spelling per address: IPv6 lower case, zeros compressed, no brackets. */
function canonicalIp(a: string): string {
  const bare = a.replace(/^\[|\]$/g, "");
  if (!bare.includes(":")) return bare;
  try {
    return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  } catch {
    return bare;
  }
}

const WILDCARD = new Set(["0.0.0.0", "::"]);

/** Where the cluster talks to itself: corosync rings and DRBD replication links, with what each is. */
function clusterAddresses(s: Sources): Map<string, string> {
  const m = new Map<string, string>();
  if (!unavailable(s.corosync)) for (const a of s.corosync.addresses) m.set(canonicalIp(a), "the corosync cluster network");
  for (const p of s.cib.primitives.filter(isDrbd)) {
    const conf = s.drbdConf(p);
    if (unavailable(conf)) continue;
    for (const r of conf.resources.values()) for (const a of r.addresses) if (!m.has(canonicalIp(a))) m.set(canonicalIp(a), `DRBD ${r.name}'s replication link`);
  }
  return m;
}

/** Virtual IPs the cluster moves (IPaddr2 / IPaddr / IPsrcaddr primitives): address -> resource id. */
function virtualIps(s: Sources): Map<string, string> {
  const m = new Map<string, string>();
  for (const p of s.cib.primitives) if (p.class === "ocf" && /^IPaddr2?$/.test(p.type) && p.params.ip) m.set(canonicalIp(p.params.ip), p.id);
  return m;
}

const TSSTOR_CHAP_FIX = (id: string) => [
  "install -d -m 0700 /etc/tsstor && install -m 0600 /dev/null /etc/tsstor/<target>.chap && openssl rand -base64 12 > /etc/tsstor/<target>.chap    # 16 characters; then scp -p it to every node",
  `pcs resource update ${id} incoming_username=<user> incoming_password_file=/etc/tsstor/<target>.chap`,
];

function openTarget(s: Sources, p: Primitive): Finding[] {
  const out: Finding[] = [];
  const subject = `resource ${p.id}`;
  const tsstor = p.provider === "tsstor";
  const initiators = (p.params.allowed_initiators ?? "").trim();
  const chap = !!(p.params.incoming_username ?? "").trim();
  const impl = p.params.implementation ?? "lio-t";
  if (!initiators && !chap) {
    out.push({
      id: "target-open",
      severity: "error",
      subject,
      message: `iSCSI target ${p.params.iqn ?? p.id} has no allowed_initiators and no CHAP: every host that reaches a portal can read and write every LUN`,
      reason:
        (impl === "tgt" ? "tgt binds the target to ALL initiator addresses" : "LIO runs the target in demo mode (generate_node_acls=1)") +
        ": no initiator name and no secret is asked for. With the default portal 0.0.0.0:3260 that includes the cluster and replication networks. " +
        "Two initiators that are not cluster-aware mounting the same LUN also corrupt its filesystem.",
      fix: [
        `pcs resource update ${p.id} allowed_initiators="<initiator IQN> [<initiator IQN> ...]"    # each initiator's /etc/iscsi/initiatorname.iscsi`,
        ...(tsstor ? TSSTOR_CHAP_FIX(p.id) : [`# and CHAP: ocf:tsstor:iSCSITarget reads the secret from a root-only file (incoming_password_file), see tsstor doctor's migrate-to-tsstor`]),
      ],
    });
  } else if (!chap) {
    out.push({
      id: "target-no-chap",
      severity: "info",
      subject,
      message: `iSCSI target ${p.params.iqn ?? p.id} admits initiators by name only (no CHAP)`,
      reason:
        "An initiator name is not a secret: a host that reaches a portal can claim an allowed name (it is in /etc/iscsi/initiatorname.iscsi of every client) and read and write the LUNs. " +
        "On a storage network only the initiators reach, that is the usual trade-off; CHAP makes a claimed name prove itself.",
      fix: tsstor ? TSSTOR_CHAP_FIX(p.id) : ["# CHAP with the secret in a root-only file needs ocf:tsstor:iSCSITarget (incoming_password_file): see migrate-to-tsstor"],
    });
  }
  const inCib = ["incoming_password", "outgoing_password"].filter((k) => (p.params[k] ?? "") !== "");
  if (inCib.length)
    out.push({
      id: "target-chap-in-cib",
      severity: "warning",
      subject,
      message: `the CHAP secret is stored in the CIB (${inCib.join(", ")})`,
      reason:
        "The CIB is readable by every member of the haclient group, is copied into every saved scheduler input under /var/lib/pacemaker/pengine and into crm_report archives, and upstream's agent passes it to targetcli/tgtadm on the command line (visible in ps).",
      fix: tsstor
        ? [...TSSTOR_CHAP_FIX(p.id).slice(0, 1), `pcs resource update ${p.id} ${inCib.map((k) => `${k}=`).join(" ")} incoming_password_file=/etc/tsstor/<target>.chap`]
        : ["# ocf:tsstor:iSCSITarget reads the secret from a root-only file (incoming_password_file) and never passes it on a command line: see migrate-to-tsstor"],
    });
  const portals = impl === "tgt" ? [{ ip: "0.0.0.0", port: 3260 }] : parsePortals(p.params.portals ?? "0.0.0.0:3260");
  if (typeof portals === "string") return out; // the agent refuses it (exit 6); not the doctor's to repeat
  const cluster = clusterAddresses(s);
  const vips = virtualIps(s);
  const wild = portals.filter((x) => WILDCARD.has(canonicalIp(x.ip)));
  if (wild.length) {
    // Grouped by network: the node that runs the target owns one address of each.
    const byNet = new Map<string, string[]>();
    for (const [a, what] of cluster) byNet.set(what, [...(byNet.get(what) ?? []), a]);
    const known = [...byNet].map(([what, as]) => `${what} (${as.join(", ")})`);
    out.push({
      id: "target-portal-wildcard",
      severity: "warning",
      subject,
      message:
        (impl === "tgt" ? "tgtd listens on every address of the node that runs it" : `portal ${wild.map((x) => (x.ip.includes(":") ? `[${x.ip}]` : x.ip) + `:${x.port}`).join(", ")} listens on every address of the node that runs it`) +
        (known.length ? `, ${known.join(" and ")} included` : ""),
      reason:
        "The target answers on the cluster and replication networks too, which are meant for the nodes alone; iSCSI traffic there competes with corosync's token (a delayed token is a lost node and a fencing) and with DRBD's replication.",
      fix:
        impl === "tgt"
          ? ["# tgt cannot limit its portals per target: use implementation=lio-t with portals=<virtual IP>:3260, or drop port 3260 on the cluster and replication interfaces in the firewall"]
          : [
              `pcs resource update ${p.id} portals=${[...vips.keys()][0] ?? "<virtual IP>"}:3260    # the service address the initiators use`,
              "echo net.ipv4.ip_nonlocal_bind=1 > /etc/sysctl.d/90-tsstor-iscsi.conf && sysctl -p /etc/sysctl.d/90-tsstor-iscsi.conf    # on every node: LIO binds the address before it is up",
            ],
    });
  }
  for (const x of portals) {
    const ip = canonicalIp(x.ip);
    const what = cluster.get(ip);
    if (what)
      out.push({
        id: "target-portal-cluster-net",
        severity: "warning",
        subject,
        message: `portal ${x.ip}:${x.port} is an address of ${what}`,
        reason: "Initiators reach the target over a network meant for the nodes alone; iSCSI traffic there competes with corosync's token and DRBD's replication, and the portal exists on one node only, so the target cannot fail over.",
        fix: [`pcs resource update ${p.id} portals=${[...vips.keys()][0] ?? "<virtual IP>"}:3260    # the service address the initiators use`],
      });
    const vip = vips.get(ip);
    const key = ip.includes(":") ? "net.ipv6.ip_nonlocal_bind" : "net.ipv4.ip_nonlocal_bind";
    const set = s.sysctl.get(key);
    if (vip && impl !== "tgt" && set?.value !== "1")
      out.push({
        id: "target-nonlocal-bind",
        severity: "warning",
        subject,
        message: `portal ${x.ip}:${x.port} is the virtual IP of ${vip}, and ${key} is ${set ? `${set.value} (${s.path(set.file)})` : "not set to 1 at boot"}`,
        reason:
          "LIO opens the portal when the target starts; unless the address is already up on the node, the kernel refuses to bind it (EADDRNOTAVAIL) and the target fails to start. " +
          "tsstor's iSCSI stack starts the target before the IP (so the IP is not answered before the target is), which needs ip_nonlocal_bind on every node.",
        fix: [`echo ${key}=1 > /etc/sysctl.d/90-tsstor-iscsi.conf && sysctl -p /etc/sysctl.d/90-tsstor-iscsi.conf    # on every node`],
      });
  }
  return out;
}
