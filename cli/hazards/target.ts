// iSCSI target configuration outside the cluster: the LIO restore service (targetctl restore at
// boot) and tgt's targets.conf defining the targets Pacemaker runs.
import type { Primitive } from "../doctor/cib.js";
import type { Check, Finding } from "./types.js";

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
  return out;
};
