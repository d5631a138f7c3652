// A blocking sleep: agents are synchronous (one action, one budget), so waiting never needs the event loop.
export function sleepMs(ms: number): void {
  if (ms <= 0) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
