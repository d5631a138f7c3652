// Direct I/O without a child process (upstream forks `dd iflag=direct` per monitor).
//
// O_DIRECT needs a buffer aligned to the device's logical block size; JavaScript cannot ask
// for one, so under Bun we over-allocate and take the aligned window using the buffer's
// address (bun:ffi `ptr`). Where that is unavailable (Node in unit tests) or the filesystem
// refuses O_DIRECT (EINVAL: tmpfs, some network filesystems), buffered I/O with O_SYNC/fsync
// is used instead, as upstream does for non-block filesystems.

import { closeSync, constants, fsyncSync, openSync, readSync, writeSync } from "node:fs";
import { createRequire } from "node:module";

export const BLOCK = 4096;

let ptrFn: ((b: Uint8Array) => number) | null | undefined;
function addressOf(b: Uint8Array): number | undefined {
  if (ptrFn === undefined) {
    try {
      ptrFn = typeof Bun !== "undefined" ? (createRequire(import.meta.url)("bun:ffi").ptr as (b: Uint8Array) => number) : null;
    } catch {
      ptrFn = null;
    }
  }
  return ptrFn ? ptrFn(b) : undefined;
}

/** A zeroed buffer of `size` bytes starting on a BLOCK boundary; undefined if we cannot tell. */
export function alignedBuffer(size: number): Uint8Array | undefined {
  const raw = new Uint8Array(size + BLOCK);
  const addr = addressOf(raw);
  if (addr === undefined) return undefined;
  const off = (BLOCK - (addr % BLOCK)) % BLOCK;
  return raw.subarray(off, off + size);
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

export interface IoResult {
  data: Uint8Array;
  /** whether O_DIRECT was used */
  direct: boolean;
}

/** Read `length` bytes (a multiple of BLOCK) at `offset` (a multiple of BLOCK), bypassing the cache when possible. */
export function readDirect(path: string, offset: number, length: number = BLOCK): IoResult {
  const buf = alignedBuffer(length);
  if (buf) {
    let fd: number | undefined;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_DIRECT);
      const n = readSync(fd, buf, 0, length, offset);
      return { data: buf.subarray(0, n), direct: true };
    } catch (e) {
      if (errno(e) !== "EINVAL") throw e;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  const plain = new Uint8Array(length);
  const fd = openSync(path, constants.O_RDONLY);
  try {
    const n = readSync(fd, plain, 0, length, offset);
    return { data: plain.subarray(0, n), direct: false };
  } finally {
    closeSync(fd);
  }
}

/**
 * Write `content` padded with zeros to BLOCK bytes (like upstream's `dd bs=4k conv=sync`) with
 * O_DIRECT|O_SYNC where possible, else O_SYNC plus fsync. Creates the file (mode 0644).
 */
export function writeDirect(path: string, content: Uint8Array): { direct: boolean } {
  const size = Math.ceil(Math.max(content.length, 1) / BLOCK) * BLOCK;
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_SYNC;
  const buf = alignedBuffer(size);
  if (buf) {
    buf.set(content);
    let fd: number | undefined;
    try {
      fd = openSync(path, flags | constants.O_DIRECT, 0o644);
      writeSync(fd, buf, 0, size, 0);
      return { direct: true };
    } catch (e) {
      if (errno(e) !== "EINVAL") throw e;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  const plain = new Uint8Array(size);
  plain.set(content);
  const fd = openSync(path, flags, 0o644);
  try {
    writeSync(fd, plain, 0, size, 0);
    fsyncSync(fd);
    return { direct: false };
  } finally {
    closeSync(fd);
  }
}
