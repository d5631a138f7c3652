// A blocking unix-socket client for the fake tools (they are synchronous programs): connect,
// send one request line, read the answer until the daemon closes. Like the real client it blocks
// as long as the daemon does not answer (a stopped daemon hangs it until its caller's timeout).

import { dlopen, FFIType, ptr, read } from "bun:ffi";

let libc: ReturnType<typeof open> | undefined;
function open() {
  return dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    connect: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
}

const ERRNO: Record<number, string> = { 2: "No such file or directory", 111: "Connection refused", 13: "Permission denied" };

/** The answer, or an error text like libdaemon's ("connect failed: No such file or directory"). */
export function request(path: string, line: string): { ok: true; answer: string } | { ok: false; error: string } {
  libc ??= open();
  const c = libc.symbols;
  const fd = c.socket(1 /* AF_UNIX */, 1 /* SOCK_STREAM */, 0);
  if (fd < 0) return { ok: false, error: "socket failed" };
  try {
    const sa = new Uint8Array(110);
    sa[0] = 1;
    sa.set(new TextEncoder().encode(path).subarray(0, 107), 2);
    if (c.connect(fd, ptr(sa), 110) !== 0) {
      const errno = read.i32(c.__errno_location()!, 0);
      return { ok: false, error: `connect failed: ${ERRNO[errno] ?? `errno ${errno}`}` };
    }
    const msg = new TextEncoder().encode(`${line}\n`);
    c.write(fd, ptr(msg), msg.length);
    const buf = new Uint8Array(65536);
    let answer = "";
    for (;;) {
      const n = Number(c.read(fd, ptr(buf), buf.length));
      if (n <= 0) break;
      answer += new TextDecoder().decode(buf.subarray(0, n));
    }
    return { ok: true, answer };
  } finally {
    c.close(fd);
  }
}
