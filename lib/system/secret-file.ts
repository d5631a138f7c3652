// Secrets kept in files (CHAP secrets): the CIB and the command line carry only
// the path, so the secret is in no argv, no `pcs resource config` and no CIB readable by the
// haclient group. A secret file must be a regular file that group and others cannot read or
// write; the secret is its first line (a trailing newline, CRLF included, is not part of it).
// The messages never contain the file's content.

import { closeSync, fstatSync, openSync, readSync, constants } from "node:fs";

const MAX = 4096;

/** Syntax only (no file access): an absolute path without white space or control characters. */
export function secretPathError(v: string): string | undefined {
  if (!v.startsWith("/")) return "must be an absolute path";
  if (/[\s\x00-\x1f\x7f]/.test(v)) return "must not contain white space or control characters";
  if (v.length > 4095) return "is too long";
  return undefined;
}

/** The secret, or why it cannot be used. Opened once (no stat/open race), never following a FIFO. */
export function readSecretFile(path: string): { secret: string } | { error: string } {
  const bad = secretPathError(path);
  if (bad) return { error: `${path} ${bad}` };
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { error: code === "ENOENT" ? `${path} does not exist on this node` : `${path} cannot be opened (${code ?? "error"})` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { error: `${path} is not a regular file` };
    if (st.mode & 0o077) return { error: `${path} is accessible to group or others (mode ${(st.mode & 0o777).toString(8)}): chmod 600 it` };
    const buf = Buffer.alloc(MAX + 1);
    const n = readSync(fd, buf, 0, buf.length, 0);
    if (n > MAX) return { error: `${path} is larger than ${MAX} bytes: not a secret file` };
    const secret = buf.subarray(0, n).toString("utf8").split("\n")[0]!.replace(/\r$/, "");
    if (!secret) return { error: `${path} is empty (the secret is its first line)` };
    return { secret };
  } finally {
    closeSync(fd);
  }
}
