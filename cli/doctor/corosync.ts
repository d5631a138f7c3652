// corosync.conf(5): the cluster name (GFS2 lock tables must start with it), two_node, the
// quorum device, the node list and the totem timeouts fencing timeouts are built on.
import { readFileSync } from "node:fs";
import { parseCorosyncConf } from "../../lib/cluster/corosync.js";
import { ConfError, sections, value } from "./conf.js";

export interface Corosync {
  path: string;
  clusterName?: string;
  /** quorum { two_node: 1 } */
  twoNode: boolean;
  /** quorum { device { ... } } (corosync-qdevice) */
  qdevice: boolean;
  /** nodelist node names (name, else ring0_addr) */
  nodes: string[];
  /** every ringN_addr of every node: the cluster network (addresses or host names, as written) */
  addresses: string[];
  /** totem token / token_coefficient / consensus as written (ms); undefined: corosync's default */
  token?: number;
  tokenCoefficient?: number;
  consensus?: number;
  /** quorum { device { sync_timeout } } (ms) */
  qdeviceSyncTimeout?: number;
}

const ms = (v: string | undefined): number | undefined => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);

export function readCorosync(path: string): Corosync {
  let nodes;
  try {
    nodes = parseCorosyncConf(readFileSync(path, "utf8"));
  } catch (e) {
    throw e instanceof ConfError ? new ConfError(`${path}: ${e.message}`) : e;
  }
  const totem = sections(nodes, "totem").flatMap((s) => s.children!);
  const quorum = sections(nodes, "quorum").flatMap((s) => s.children!);
  const list = sections(nodes, "nodelist").flatMap((s) => sections(s.children, "node"));
  return {
    path,
    clusterName: value(totem, "cluster_name"),
    twoNode: value(quorum, "two_node") === "1",
    qdevice: sections(quorum, "device").length > 0,
    nodes: list.map((n) => value(n.children, "name") ?? value(n.children, "ring0_addr") ?? "?"),
    addresses: list.flatMap((n) => (n.children ?? []).filter((c) => !c.children && /^ring\d+_addr$/.test(c.words[0]!) && c.words[1]).map((c) => c.words[1]!)),
    token: ms(value(totem, "token")),
    tokenCoefficient: ms(value(totem, "token_coefficient")),
    consensus: ms(value(totem, "consensus")),
    qdeviceSyncTimeout: ms(value(sections(quorum, "device").flatMap((d) => d.children!), "sync_timeout")),
  };
}
