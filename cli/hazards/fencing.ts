// Fencing: stonith-enabled=false, no fence device, two_node without fencing, and the fence race
// of two-node clusters.
import { isTrue, type Cib, type Primitive } from "../doctor/cib.js";
import { reliesOnDrbdQuorum } from "./drbd.js";
import { unavailable, type Check, type Finding, type Sources } from "./types.js";

/** What the tsstor rig shows (test/rig/rig.test.ts), cited wherever fencing is missing. */
export const SPLIT_BRAIN_EVIDENCE =
  "tsstor's cluster rig shows it (test/rig/rig.test.ts, \"link cut without fencing\"): after a cluster-link cut without fencing both nodes promote DRBD and both answer ARP for the virtual IP. " +
  "Widely copied two-node DRBD + iSCSI how-tos (\"fencing (STONITH) is not used\") run exactly this way.";

export interface Fencing {
  /** stonith-enabled (default true) */
  enabled: boolean;
  /** stonith resources not disabled with target-role=Stopped */
  devices: Primitive[];
  /** watchdog-only SBD: stonith-watchdog-timeout set and not 0 */
  watchdog: boolean;
  /** fencing can actually happen */
  effective: boolean;
}

export function fencing(cib: Cib): Fencing {
  const p = cib.properties["stonith-enabled"] ?? cib.properties["fencing-enabled"];
  const enabled = p === undefined || isTrue(p);
  const devices = cib.primitives.filter((x) => x.class === "stonith" && (x.meta["target-role"] ?? "").toLowerCase() !== "stopped");
  const wd = cib.properties["stonith-watchdog-timeout"];
  const watchdog = wd !== undefined && !/^(0+[a-z]*|)$/i.test(wd.trim());
  return { enabled, devices, watchdog, effective: enabled && (devices.length > 0 || watchdog) };
}

/** The random fencing delay of two-node clusters (pcmk_delay_max), here and in tsstor stack. */
export const FENCE_DELAY_MAX = "15s";

/** The commands that add one fence device per node (IPMI as the example) and enable fencing. */
export function stonithSetup(s: Sources, twoNode: boolean): string[] {
  const nodes = s.nodes.length ? s.nodes : ["<node1>", "<node2>"];
  return [
    "pcs stonith list    # pick the fence agent for your hardware: fence_ipmilan (IPMI/iLO/iDRAC), a PDU, fence_sbd, fence_scsi/fence_mpath for shared LUNs",
    ...nodes.map(
      (n, i) =>
        `pcs stonith create fence-${n} fence_ipmilan ip=<BMC address of ${n}> username=<user> password=<password> lanplus=1 pcmk_host_list=${n}` +
        (twoNode && i === 0 ? ` pcmk_delay_max=${FENCE_DELAY_MAX}` : ""),
    ),
    "pcs stonith fence <node>    # test it once, on a node you can afford to reboot",
    "pcs property set stonith-enabled=true",
  ];
}

export const checkFencing: Check = (s) => {
  const out: Finding[] = [];
  const f = fencing(s.cib);
  const cs = unavailable(s.corosync) ? undefined : s.corosync;
  const twoNode = cs?.twoNode ?? s.nodes.length === 2;
  if (!f.enabled && reliesOnDrbdQuorum(s)) {
    out.push({
      id: "stonith-disabled-drbd-quorum",
      severity: "warning",
      subject: "cluster",
      message: "fencing is disabled (stonith-enabled=false); every DRBD resource relies on DRBD quorum instead",
      reason:
        "DRBD quorum keeps a node without a majority of the DRBD nodes from writing, so a network split cannot make the replicated data diverge. " +
        "Pacemaker still cannot fence: a resource whose stop fails stays blocked until someone intervenes, and resources not tied to a DRBD Primary have no protection.",
      fix: f.devices.length || f.watchdog ? ["pcs property set stonith-enabled=true"] : stonithSetup(s, twoNode),
    });
  } else if (!f.enabled) {
    out.push({
      id: "stonith-disabled",
      severity: "error",
      subject: "cluster",
      message: "fencing is disabled (stonith-enabled=false)",
      reason:
        "Pacemaker cannot make sure a node it lost contact with has stopped its resources, so after a network split each side starts and promotes everything itself: " +
        "both nodes DRBD Primary, both serving the iSCSI target and the virtual IP, initiators writing to diverging copies (split brain). " +
        SPLIT_BRAIN_EVIDENCE,
      fix: f.devices.length || f.watchdog ? ["pcs property set stonith-enabled=true"] : stonithSetup(s, twoNode),
    });
  } else if (!f.effective) {
    out.push({
      id: "stonith-no-device",
      severity: "error",
      subject: "cluster",
      message: "fencing is enabled but no fence device is configured",
      reason: "With stonith-enabled=true and nothing to fence with, Pacemaker refuses to start any resource (\"Resource start-up disabled since no STONITH resources have been defined\").",
      fix: stonithSetup(s, twoNode).filter((c) => !c.startsWith("pcs property")),
    });
  }
  if (cs?.twoNode) {
    if (!f.effective) {
      out.push({
        id: "two-node-no-fencing",
        severity: "error",
        subject: cs.path,
        message: "two_node: 1 without working fencing",
        reason:
          "two_node lets a lone node keep quorum when it loses the other, which is only safe when it fences the peer first. Without fencing, a cut cluster link leaves two quorate partitions that both run and promote every resource. " +
          SPLIT_BRAIN_EVIDENCE,
        fix: [
          ...(f.enabled ? [] : f.devices.length || f.watchdog ? ["pcs property set stonith-enabled=true"] : stonithSetup(s, true)),
          ...(cs.qdevice ? [] : ["pcs quorum device add model net host=<qnetd host> algorithm=ffsplit    # optional, in addition: a third vote (corosync-qnetd on another machine)"]),
        ],
      });
    } else if (f.devices.length && !f.watchdog) {
      const delayed = f.devices.some((d) => d.params.pcmk_delay_max !== undefined || d.params.pcmk_delay_base !== undefined);
      const priority = s.cib.properties["priority-fencing-delay"];
      if (!delayed && (priority === undefined || /^0+[a-z]*$/i.test(priority)))
        out.push({
          id: "two-node-fence-race",
          severity: "warning",
          subject: "cluster",
          message: "two-node cluster without a fencing delay",
          reason:
            "After a cluster-link cut both nodes are quorate (two_node) and fence each other at the same moment: both can go down. A random delay on one side (pcmk_delay_max) or priority-fencing-delay lets one node win.",
          fix: [`pcs stonith update ${f.devices[0]!.id} pcmk_delay_max=${FENCE_DELAY_MAX}`],
        });
    }
  }
  return out;
};
