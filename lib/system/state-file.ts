// State files in HA_RSCTMP: written atomically (readers see the old or the new content, never a
// torn one, and a crash leaves one of the two), read and removed without throwing.

import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** Write a file so readers see the old or the new content, never a torn one. */
export function writeAtomic(path: string, data: string, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = `${path}.tmp.${process.pid}`;
  writeFileSync(tmp, data, { mode });
  const fd = openSync(tmp, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function readState(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

export function removeState(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
