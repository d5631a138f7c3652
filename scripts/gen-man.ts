// Man pages ocf_tsstor_<Agent>(7) from the same declarations as the metadata (run with Bun):
//   bun scripts/gen-man.ts OUTDIR
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { agents } from "../agents/index.js";
import { defaultText, type AgentDecl } from "../lib/ocf/declaration.js";

const VERSION = (await import("../package.json", { with: { type: "json" } })).default.version as string;

/** roff-safe text: escapes, and no line starting with a control character. */
export function roff(s: string): string {
  return s
    .replace(/\\/g, "\\e")
    .replace(/-/g, "\\-")
    .split("\n")
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join("\n");
}

export function manPage(d: AgentDecl, date: string): string {
  const L: string[] = [];
  L.push(`.TH "OCF_TSSTOR_${d.name.toUpperCase()}" "7" "${date}" "tsstor ${VERSION}" "OCF resource agents"`);
  L.push(".SH NAME", `ocf_tsstor_${roff(d.name)} \\- ${roff(d.shortdesc)}`);
  const actions = [...new Set(d.actions.map((a) => a.name))];
  L.push(".SH SYNOPSIS", `\\fB${roff(d.name)}\\fR [${actions.map(roff).join(" | ")}]`);
  L.push(".SH DESCRIPTION");
  for (const para of d.longdesc.trim().split(/\n\s*\n/)) L.push(".PP", roff(para.replace(/\n/g, " ")));
  L.push(".SH SUPPORTED PARAMETERS");
  for (const [name, p] of Object.entries(d.params)) {
    L.push(".PP", `\\fB${roff(name)}\\fR`, ".RS 4", roff(p.longdesc.trim().replace(/\n/g, " ")));
    const facts: string[] = [];
    if (p.uniqueGroup) facts.push("unique");
    facts.push(p.required ? "required" : "optional");
    facts.push(p.type === "select" ? `one of: ${p.options.join(", ")}` : p.type);
    const def = defaultText(p);
    facts.push(def !== undefined ? `default "${def}"` : "no default");
    if (p.reloadable) facts.push("reloadable");
    if (p.deprecated) facts.push(`deprecated${p.deprecated.replacedWith ? `, use ${p.deprecated.replacedWith.join(", ")}` : ""}`);
    if (p.secret) facts.push("secret: never logged");
    L.push(".sp", `(${roff(facts.join(", "))})`, ".RE");
  }
  L.push(".SH SUPPORTED ACTIONS");
  for (const a of d.actions) {
    const attrs = [`timeout=${a.timeout}s`];
    if (a.interval !== undefined) attrs.push(`interval=${a.interval}s`);
    if (a.depth !== undefined) attrs.push(`depth=${a.depth}`);
    if (a.role) attrs.push(`role=${a.role}`);
    L.push(".PP", `\\fB${roff(a.name)}\\fR`, ".RS 4", roff(attrs.join(" ")), ".RE");
  }
  if (d.examples?.length) {
    L.push(".SH EXAMPLES");
    for (const e of d.examples) L.push(".PP", ".nf", roff(e), ".fi");
  }
  L.push(".SH SEE ALSO", "\\fBtsstor\\fR(8), \\fBpcs\\fR(8), \\fBcrm_resource\\fR(8), https://github.com/ClusterLabs/OCF-spec");
  return `${L.join("\n")}\n`;
}

if (import.meta.main) writePages(process.argv[2] ?? "build/man");

function writePages(outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  for (const a of agents) writeFileSync(join(outDir, `ocf_tsstor_${a.decl.name}.7`), manPage(a.decl, date));
  console.log(`man pages for ${agents.length} agents in ${outDir}`);
}
