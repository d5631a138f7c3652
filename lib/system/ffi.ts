// libc through bun:ffi, for the few kernel interfaces with no file to read (netlink, raw
// ICMPv6). Only available in the compiled agents (Bun); callers fall back to a command when
// `libc()` returns undefined (Node, or FFI unavailable), so behaviour never depends on it.

import { createRequire } from "node:module";

type Sym = (...a: unknown[]) => number | bigint;
export interface Libc {
  socket: Sym;
  bind: Sym;
  send: Sym;
  sendto: Sym;
  recv: Sym;
  close: Sym;
  setsockopt: Sym;
  if_nametoindex: Sym;
  if_indextoname: Sym;
  __errno_location: Sym;
  ptr: (b: ArrayBufferView) => unknown;
  cstring: (p: unknown) => string;
}

let cached: Libc | null | undefined;

export function libc(): Libc | undefined {
  if (cached !== undefined) return cached ?? undefined;
  cached = null;
  if (typeof Bun === "undefined") return undefined;
  try {
    const ffi = createRequire(import.meta.url)("bun:ffi") as typeof import("bun:ffi");
    const { FFIType: T } = ffi;
    const lib = ffi.dlopen("libc.so.6", {
      socket: { args: [T.i32, T.i32, T.i32], returns: T.i32 },
      bind: { args: [T.i32, T.ptr, T.u32], returns: T.i32 },
      send: { args: [T.i32, T.ptr, T.u64, T.i32], returns: T.i64 },
      sendto: { args: [T.i32, T.ptr, T.u64, T.i32, T.ptr, T.u32], returns: T.i64 },
      recv: { args: [T.i32, T.ptr, T.u64, T.i32], returns: T.i64 },
      close: { args: [T.i32], returns: T.i32 },
      setsockopt: { args: [T.i32, T.i32, T.i32, T.ptr, T.u32], returns: T.i32 },
      if_nametoindex: { args: [T.cstring], returns: T.u32 },
      if_indextoname: { args: [T.u32, T.ptr], returns: T.ptr },
      __errno_location: { args: [], returns: T.ptr },
    });
    const s = lib.symbols as unknown as Record<string, Sym>;
    cached = {
      socket: s.socket!,
      bind: s.bind!,
      send: s.send!,
      sendto: s.sendto!,
      recv: s.recv!,
      close: s.close!,
      setsockopt: s.setsockopt!,
      if_nametoindex: s.if_nametoindex!,
      if_indextoname: s.if_indextoname!,
      __errno_location: s.__errno_location!,
      ptr: (b) => ffi.ptr(b as Uint8Array),
      cstring: (p) => new ffi.CString(p as never).toString(),
    };
  } catch {
    cached = null;
  }
  return cached ?? undefined;
}

export function errno(l: Libc): number {
  const p = l.__errno_location();
  // read the int at the returned address
  const { read } = createRequire(import.meta.url)("bun:ffi") as typeof import("bun:ffi");
  return read.i32(p as never, 0);
}

/** NUL-terminated C string for FFI arguments. */
export function cstr(s: string): Buffer {
  return Buffer.from(`${s}\0`, "utf8");
}
