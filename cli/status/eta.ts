// Resync progress over time: DRBD reports only "done:37.50" (percent), so the rate, and from it
// the time left, comes from successive readings. `tsstor status` takes two readings a second
// apart while a resync runs; `--watch` keeps every refresh's reading.
import type { StatusReport } from "./model.js";

interface Sample {
  t: number;
  done: number;
}

export class SyncTracker {
  private readonly samples = new Map<string, Sample[]>();
  constructor(
    /** readings older than this are forgotten (the rate follows recent changes in speed) */
    private readonly windowMs = 30_000,
  ) {}

  /** Record the report's resync progress at `now` (ms) and fill in each sync's etaSeconds. */
  observe(r: StatusReport, now: number): void {
    const live = new Set<string>();
    for (const s of r.stacks) {
      for (const d of s.drbd) {
        for (const sync of d.syncs) {
          const key = `${d.drbdResource}/${sync.target}/${sync.volume}`;
          live.add(key);
          let list = this.samples.get(key) ?? [];
          // progress went back: a new resync started
          if (list.length && sync.done < list[list.length - 1]!.done) list = [];
          // readings inside the window, and at least the one before this (after a long gap)
          const prev = list[list.length - 1];
          list = [...list.filter((x) => now - x.t <= this.windowMs || x === prev), { t: now, done: sync.done }];
          this.samples.set(key, list);
          const first = list[0]!;
          if (list.length < 2 || now - first.t < 500) continue;
          const rate = (sync.done - first.done) / ((now - first.t) / 1000);
          sync.etaSeconds = rate > 0 ? Math.max(0, Math.round((100 - sync.done) / rate)) : null;
        }
      }
    }
    for (const k of [...this.samples.keys()]) if (!live.has(k)) this.samples.delete(k);
  }

  /** Any resync running in the last report observed. */
  get syncing(): boolean {
    return this.samples.size > 0;
  }
}

/** "0:42", "12:05", "1:02:03"; "stalled" for no progress; "--:--" before a rate is known. */
export function formatEta(s: number | null | undefined): string {
  if (s === null) return "stalled";
  if (s === undefined) return "--:--";
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}
