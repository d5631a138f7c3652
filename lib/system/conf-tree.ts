// The tree brace-structured configuration files parse into (corosync.conf, drbd.conf, lvm.conf,
// multipath.conf: each format's parser follows its own tool's rules), and the walkers that read it.

export interface Node {
  /** the words of the statement or of the section header (quotes removed) */
  words: string[];
  /** set for sections: `name args { children }` */
  children?: Node[];
  /** 1-based line of the first word, for messages */
  line: number;
}

export class ConfError extends Error {}

/** Children of the sections named `name` (all of them, in order). */
export function sections(nodes: Node[] | undefined, name: string): Node[] {
  return (nodes ?? []).filter((n) => n.children && n.words[0] === name);
}

/** Settings (non-sections) named `key` directly in `nodes`. */
export function settings(nodes: Node[] | undefined, key: string): Node[] {
  return (nodes ?? []).filter((n) => !n.children && n.words[0] === key);
}

/** The first value of the last setting `key` (later settings override earlier ones). */
export function value(nodes: Node[] | undefined, key: string): string | undefined {
  const s = settings(nodes, key);
  return s.length ? (s[s.length - 1]!.words[1] ?? "") : undefined;
}
