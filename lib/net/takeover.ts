// Resetting the clients of a moved address at once (tickle ACKs, lib/net/tickle.ts). The node that
// takes an address over has no record of who was connected to it, and the node that served it may
// be dead. So the serving node publishes its clients' connections while it serves: each recurring
// monitor reads them from /proc/net/tcp (no process) and, only when they changed, stores the list
// as a private pacemaker-attrd attribute of every node (kept in attrd's memory on all nodes, never
// in the CIB; attrd forgets a lost node's own values, not those it holds for the others). stop
// publishes once more just before the address goes. The new node's start reads its own copy and
// tickles each connection of the address, so the initiators reconnect within a round trip instead
// of at their next retransmission (backoff 0.2, 0.4 ... 3.2 s and more).

import { join } from "node:path";
import type { ActionTools } from "../ocf/runner.js";
import { Attrd, clusterNodes } from "../cluster/attrd.js";
import { readState, removeState, writeAtomic } from "../system/state-file.js";
import { established, formatConns, parseConns, tickle, type Conn } from "./tickle.js";

/** attrd attribute of an address's connections: one per resource instance (clone suffix dropped) */
export const attributeName = (instance: string) => `tsstor-clients-${instance.replace(/:\d+$/, "")}`;

/** One connection per line in files; attrd values are kept on one line. */
const toValue = (conns: Conn[]) => formatConns(conns).trim().split("\n").filter(Boolean).join(",");
const fromValue = (v: string) => parseConns(v.split(",").join("\n"));

/** The connections now established to ip on any of `ports`, sorted (so equal sets compare equal). */
export function clients(ip: string, ports: number[]): Conn[] {
  const all = ports.flatMap((p) => established(ip, p));
  const key = (c: Conn) => `${c.local.ip} ${c.local.port} ${c.remote.ip} ${c.remote.port}`;
  return [...new Map(all.map((c) => [key(c), c])).values()].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

const statePath = (t: ActionTools, instance: string) => join(t.env.rscTmp, `tsstor-clients-${instance.replace(/[^A-Za-z0-9_.-]/g, "_")}`);

/** Forget what this node published (start, stop): the next monitor publishes whatever it sees. */
export function forgetPublished(t: ActionTools, instance: string): void {
  removeState(statePath(t, instance));
}

/**
 * Publish the clients of ip:ports when they differ from what this node published last (a state
 * file in HA_RSCTMP); `force` publishes anyway (stop: the last word before the address goes).
 */
export function publishClients(t: ActionTools, instance: string, ip: string, ports: number[], force = false): void {
  const value = toValue(clients(ip, ports));
  const state = statePath(t, instance);
  if (!force && readState(state) === value) return;
  const nodes = clusterNodes(t.run);
  if (!nodes.length) {
    t.log.warn("the cluster's node list is unknown (crm_node -l): the clients' connections are not published");
    return;
  }
  const attrd = new Attrd(t.run);
  const failed = nodes.filter((n) => !attrd.setPrivate(attributeName(instance), value, n));
  if (failed.length) {
    t.log.warn(`pacemaker-attrd did not take the clients' connections for ${failed.join(", ")}: a takeover there waits for the clients' retransmissions`);
    return; // published again at the next monitor
  }
  writeAtomic(state, value);
  t.log.debug(`clients of ${ip} published: ${value.split(",").filter(Boolean).length} connection(s)`);
}

/** At takeover: tickle every published connection of ip:ports. */
export function tickleClients(t: ActionTools, instance: string, ip: string, ports: number[]): void {
  const value = new Attrd(t.run).query(attributeName(instance));
  if (!value) return;
  let conns: Conn[];
  try {
    conns = fromValue(value).filter((c) => c.local.ip === ip && ports.includes(c.local.port));
  } catch (e) {
    t.log.warn(`the published clients of ${ip} are unreadable, none reset: ${(e as Error).message}`);
    return;
  }
  if (!conns.length) return;
  // three rounds 100 ms apart: the first may beat the gratuitous ARP that points the clients here
  const r = tickle(conns, { repeat: 3, intervalMs: 100 });
  const clientsText = [...new Set(conns.map((c) => c.remote.ip))].join(", ");
  if (r.errors.length) t.log.warn(`tickle ACKs: ${r.errors.slice(0, 3).join("; ")}`);
  t.log.info(`${conns.length} client connection(s) of ${ip} reset by tickle ACKs (${clientsText})`);
}
