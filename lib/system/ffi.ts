// libc through bun:ffi, the one binding of it, for the few kernel interfaces with no file to read
// (netlink, raw ICMPv6, tgtd's unix socket). Only available in the compiled agents (Bun): callers
// fall back to a command when `libc()` returns undefined (Node, or FFI unavailable), or refuse.
//
// Each caller names the symbols it uses; a symbol is bound (a trampoline compiled) on its first
// request only, so a monitor that reads the address table pays for four symbols, not thirteen.

import { createRequire } from "node:module";

type Sym = (...a: unknown[]) => number | bigint;
type Ffi = typeof import("bun:ffi");

const signatures = (T: Ffi["FFIType"]) => ({
  socket: { args: [T.i32, T.i32, T.i32], returns: T.i32 },
  bind: { args: [T.i32, T.ptr, T.u32], returns: T.i32 },
  connect: { args: [T.i32, T.ptr, T.u32], returns: T.i32 },
  send: { args: [T.i32, T.ptr, T.u64, T.i32], returns: T.i64 },
  sendto: { args: [T.i32, T.ptr, T.u64, T.i32, T.ptr, T.u32], returns: T.i64 },
  recv: { args: [T.i32, T.ptr, T.u64, T.i32], returns: T.i64 },
  read: { args: [T.i32, T.ptr, T.u64], returns: T.i64 },
  write: { args: [T.i32, T.ptr, T.u64], returns: T.i64 },
  close: { args: [T.i32], returns: T.i32 },
  setsockopt: { args: [T.i32, T.i32, T.i32, T.ptr, T.u32], returns: T.i32 },
  if_indextoname: { args: [T.u32, T.ptr], returns: T.ptr },
  __errno_location: { args: [], returns: T.ptr },
});

export type LibcSymbol = keyof ReturnType<typeof signatures>;
export type Libc<K extends LibcSymbol> = Record<K, Sym> & { ptr: (b: ArrayBufferView) => unknown };

let ffi: Ffi | null | undefined;
const bound: Partial<Record<LibcSymbol, Sym>> = {};

/** The asked libc functions, bound on first use; undefined without bun:ffi or when binding fails. */
export function libc<K extends LibcSymbol>(...names: K[]): Libc<K> | undefined {
  if (ffi === undefined) {
    ffi = null;
    if (typeof Bun !== "undefined") {
      try {
        ffi = createRequire(import.meta.url)("bun:ffi") as Ffi;
      } catch {
        /* no FFI in this runtime */
      }
    }
  }
  const f = ffi;
  if (!f) return undefined;
  const missing = names.filter((n) => !bound[n]);
  if (missing.length) {
    const all = signatures(f.FFIType);
    try {
      const lib = f.dlopen("libc.so.6", Object.fromEntries(missing.map((n) => [n, all[n]])));
      Object.assign(bound, lib.symbols);
    } catch {
      return undefined;
    }
  }
  return { ...(bound as Record<K, Sym>), ptr: (b) => f.ptr(b as Uint8Array) };
}

/**
 * errno of the last libc call on this thread (bun:ffi does not clobber it between two calls), 0
 * when unknown. Name "__errno_location" among the symbols asked for with the calls whose errno is
 * read: binding it later runs dlopen, which may set errno.
 */
export function errno(): number {
  const c = libc("__errno_location");
  if (!c || !ffi) return 0;
  const p = c.__errno_location() as number;
  return p ? ffi.read.i32(p as never, 0) : 0;
}
