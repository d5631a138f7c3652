// xmllint checks shared by metadata tests: the OCF 1.1 RNG and, for 1.0, the DTD ocf-tester uses.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, resolve } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, "../..");
export const RNG_11 = resolve(REPO, "test/schemas/ocf-ra-api-1.1.rng");
export const DTD_DIR = "/usr/share/resource-agents";

export function checkRng(xml: string, rng = RNG_11): { ok: boolean; out: string } {
  const r = spawnSync("xmllint", ["--noout", "--relaxng", rng, "-"], { input: xml, encoding: "utf8" });
  return { ok: r.status === 0, out: r.stderr };
}

/** As ocf-tester does it: xmllint --valid with the DTD resolved from resource-agents' directory. */
export function checkDtd(xml: string): { ok: boolean; out: string } {
  const r = spawnSync("xmllint", ["--noout", "--valid", "-"], { input: xml, encoding: "utf8", cwd: DTD_DIR });
  return { ok: r.status === 0, out: r.stderr };
}
