// crm_simulate around a CIB file: bring nodes up, set promotion scores, run one transition with
// injected events, and read the transition graph (-G) as a DAG, so tests assert real scheduler
// dependencies ("promote drbd on n1 precedes start target on n1"), not the print order.
import { spawnSync } from "node:child_process";
import { XMLParser } from "fast-xml-parser";

export interface Action {
  id: string;
  /** primitive id without clone instance suffix, or the pseudo/crm event key */
  rsc: string;
  op: string;
  node: string | undefined;
  interval: number;
  pseudo: boolean;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  isArray: (n) => ["synapse", "trigger", "rsc_op", "pseudo_event", "crm_event"].includes(n),
});
type X = Record<string, any>;

export class Graph {
  readonly actions = new Map<string, Action>();
  readonly preds = new Map<string, Set<string>>();

  constructor(readonly xml: string) {
    const doc = parser.parse(xml) as X;
    for (const s of (doc.transition_graph?.synapse ?? []) as X[]) {
      const acts = this.read(s.action_set ?? {});
      const inputs = (s.inputs?.trigger ?? []).flatMap((t: X) => this.read(t));
      for (const a of acts) {
        const set = this.preds.get(a.id) ?? new Set<string>();
        for (const i of inputs) set.add(i.id);
        this.preds.set(a.id, set);
      }
    }
  }

  private read(el: X): Action[] {
    const out: Action[] = [];
    for (const r of (el.rsc_op ?? []) as X[]) {
      const interval = Number(/_(\d+)$/.exec(String(r.operation_key))?.[1] ?? 0);
      const a: Action = { id: String(r.id), rsc: String(r.primitive?.id ?? r.operation_key), op: String(r.operation), node: r.on_node, interval, pseudo: false };
      if (!this.actions.has(a.id) || r.primitive) this.actions.set(a.id, a);
      out.push(this.actions.get(a.id)!);
    }
    for (const p of [...((el.pseudo_event ?? []) as X[]), ...((el.crm_event ?? []) as X[])]) {
      const a: Action = { id: String(p.id), rsc: String(p.operation_key), op: String(p.operation), node: p.on_node, interval: 0, pseudo: true };
      if (!this.actions.has(a.id)) this.actions.set(a.id, a);
      out.push(this.actions.get(a.id)!);
    }
    return out;
  }

  /** Real resource actions, excluding probes, notifications and recurring monitors. */
  changes(): Action[] {
    return [...this.actions.values()].filter((a) => !a.pseudo && !["notify", "monitor", "cancel"].includes(a.op));
  }

  find(rsc: string, op: string, node?: string): Action[] {
    return this.changes().filter((a) => a.rsc === rsc && a.op === op && (node === undefined || a.node === node));
  }

  one(rsc: string, op: string, node?: string): Action {
    const f = this.find(rsc, op, node);
    if (f.length !== 1) throw new Error(`graph: expected one ${rsc} ${op}${node ? ` on ${node}` : ""}, found ${f.length}: ${this.describe()}`);
    return f[0]!;
  }

  /** a is a transitive prerequisite of b. */
  before(a: Action, b: Action): boolean {
    const seen = new Set<string>();
    const stack = [b.id];
    while (stack.length) {
      const id = stack.pop()!;
      for (const p of this.preds.get(id) ?? []) {
        if (p === a.id) return true;
        if (!seen.has(p)) {
          seen.add(p);
          stack.push(p);
        }
      }
    }
    return false;
  }

  describe(): string {
    return this.changes()
      .map((a) => `${a.rsc}:${a.op}@${a.node ?? "-"}`)
      .sort()
      .join(" ");
  }
}

export interface SimResult {
  code: number;
  out: string;
  graph: Graph;
}

function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, LC_ALL: "C", ...env }, timeout: 120_000 });
  return { code: r.status ?? 1, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** Bring nodes online with quorum, without running a transition. */
export function nodesUp(cib: string, out: string, nodes: string[]): void {
  const r = run("crm_simulate", ["-x", cib, "-q", "1", ...nodes.flatMap((n) => ["-u", n]), "-O", out]);
  if (r.code !== 0) throw new Error(`crm_simulate nodes up: ${r.out}`);
}

/** The promotion score a promotable agent would set with crm_attribute --promotion. */
export function promotionScore(cib: string, node: string, rsc: string, score: number): void {
  const r = run("crm_attribute", ["-N", node, "-n", `master-${rsc}`, "-v", String(score), "-l", "reboot"], { CIB_file: cib });
  if (r.code !== 0) throw new Error(`crm_attribute: ${r.out}`);
}

/** Run one transition (-S) with extra injection arguments; returns the graph and the output CIB. */
export function simulate(cib: string, out: string, graphFile: string, extra: string[] = []): SimResult {
  const r = run("crm_simulate", ["-x", cib, "-S", ...extra, "-G", graphFile, "-O", out]);
  if (r.code !== 0) throw new Error(`crm_simulate ${extra.join(" ")}: ${r.out}`);
  const xml = spawnSync("cat", [graphFile], { encoding: "utf8" }).stdout;
  return { code: r.code, out: r.out, graph: new Graph(xml) };
}

/** Set a cluster property in a CIB file. */
export function property(cib: string, name: string, value: string): void {
  const r = run("crm_attribute", ["-t", "crm_config", "-n", name, "-v", value], { CIB_file: cib });
  if (r.code !== 0) throw new Error(`crm_attribute ${name}: ${r.out}`);
}

/** A node that rebooted rejoins with no resource history (the controller erases it at join). */
export function forgetNode(cib: string, node: string): void {
  const r = run("cibadmin", ["--delete-all", "--xpath", `//node_state[@uname='${node}']/lrm`, "--force"], { CIB_file: cib });
  if (r.code !== 0) throw new Error(`cibadmin: ${r.out}`);
}
