// Signal lists as upstream's term_signals/kill_signals take them: names or numbers, whitespace
// separated ("TERM", "SIGHUP TERM", "15 9").

import { constants } from "node:os";

const BY_NAME = constants.signals as unknown as Record<string, number>;
const BY_NUMBER = new Map(Object.entries(BY_NAME).map(([k, v]) => [v, k]));

export interface Sig {
  name: string;
  number: number;
}

export function parseSignal(s: string): Sig | undefined {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    const name = BY_NUMBER.get(n);
    return name ? { name, number: n } : undefined;
  }
  const up = s.toUpperCase();
  const name = up.startsWith("SIG") ? up : `SIG${up}`;
  const n = BY_NAME[name];
  return n === undefined ? undefined : { name, number: n };
}

/** undefined when any item is not a signal. */
export function parseSignalList(s: string): Sig[] | undefined {
  const out: Sig[] = [];
  for (const w of s.trim().split(/\s+/).filter(Boolean)) {
    const sig = parseSignal(w);
    if (!sig) return undefined;
    out.push(sig);
  }
  return out;
}

export function signalListError(s: string): string | undefined {
  const items = s.trim().split(/\s+/).filter(Boolean);
  if (!items.length) return "must name at least one signal";
  const bad = items.filter((w) => !parseSignal(w));
  return bad.length ? `names unknown signals: ${bad.slice(0, 5).join(" ")}` : undefined;
}
