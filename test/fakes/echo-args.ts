// The simplest fake: prints its argv one per line (used by runtime tests and as a template).
import { out, type FakeMain } from "./lib.js";

export const fakes: Record<string, FakeMain> = {
  "tsstor-echo-args": (args) => {
    for (const a of args) out(`${a}\n`);
    return 0;
  },
};
