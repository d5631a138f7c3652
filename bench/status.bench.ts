// `tsstor status` against what operators run today, on the same live 2-node rig (the iSCSI stack
// over simulated DRBD, test/status/rig.ts), inside node n1: `pcs status` (Pacemaker's view
// only), `crm_mon -1` (the tool under both), and ours with and without this node's DRBD/target/
// mount state and with the doctor's hazard checks. Processes per call counted with strace
// (nsenter into the node is one of them).
import { startStatusRig, CLI } from "../test/status/rig.js";
import { compare, save, type Cmd, type Row } from "./lib.js";

const r = await startStatusRig((m) => console.log(m));
try {
  await r.login();
  const n1 = r.rig.node("n1");
  const env = { ...r.rig.opts.env!("n1"), LC_ALL: "C", HOME: "/root" };
  const inNode = (...argv: string[]): Cmd => ({ argv: [...n1.enter, ...argv], env });
  const opts = { runs: 15, warmup: 2 };
  const rows: Row[] = [
    compare("tsstor status", "status", "vs pcs status; 2 nodes, iSCSI over DRBD (sim), 1 initiator", inNode("pcs", "status"), inNode(CLI, "status"), opts),
    compare("tsstor status", "status --cluster-only", "vs crm_mon -1; Pacemaker's view only", inNode("crm_mon", "-1"), inNode(CLI, "status", "--cluster-only"), opts),
    compare("tsstor status", "status --json", "vs pcs status", inNode("pcs", "status"), inNode(CLI, "status", "--json"), opts),
  ];
  save("status", rows, [
    "tsstor status does more than either: this node's DRBD (drbdsetup events2), tgtd over its socket, addresses over netlink, and tsstor doctor's checks (cibadmin -Q once, config files).",
    "processes include the nsenter into the rig node.",
  ]);
} finally {
  await r.stop();
}
