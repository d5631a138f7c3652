// tsstor(8) from the CLI itself: every command's --help, walked recursively (run with Bun):
//   bun scripts/gen-cli-man.ts build/tsstor OUT.8
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { roff } from "./gen-man.js";

const [bin, outFile] = process.argv.slice(2);
if (!bin || !outFile) throw new Error("usage: gen-cli-man.ts TSSTOR_BIN OUT");
const help = (args: string[]) => spawnSync(bin, [...args, "--help"], { encoding: "utf8" }).stdout;

/** Commands listed under "Commands:" in a yargs help text. */
function subcommands(text: string, prefix: string[]): string[][] {
  const block = text.split(/^Commands:\n/m)[1]?.split(/\n\n/)[0] ?? "";
  return [...block.matchAll(/^ {2}tsstor ((?:[\w-]+ ?)+?) {2,}/gm)].map((m) => m[1]!.trim().split(" ")).filter((c) => c.length === prefix.length + 1);
}

const sections: string[] = [];
const walk = (cmd: string[]) => {
  const text = help(cmd);
  if (cmd.length) sections.push(".SS " + roff(`tsstor ${cmd.join(" ")}`), ".nf", roff(text.trimEnd()), ".fi");
  for (const sub of subcommands(text, cmd)) walk(sub);
};
const top = help([]);
walk([]);
const version = spawnSync(bin, ["--version"], { encoding: "utf8" }).stdout.trim();
const page = [
  `.TH "TSSTOR" "8" "${new Date().toISOString().slice(0, 10)}" "tsstor ${version}" "System Administration"`,
  ".SH NAME",
  "tsstor \\- storage stack scripts, checks and status for the tsstor Pacemaker agents",
  ".SH SYNOPSIS",
  ".nf",
  roff(top.trimEnd()),
  ".fi",
  ".SH COMMANDS",
  ...sections,
  ".SH SEE ALSO",
  "\\fBocf_tsstor_IPaddr2\\fR(7), \\fBocf_tsstor_drbd\\fR(7), \\fBocf_tsstor_iSCSITarget\\fR(7), \\fBocf_tsstor_Filesystem\\fR(7), \\fBpcs\\fR(8)",
  "",
].join("\n");
writeFileSync(outFile, page);
console.log(`wrote ${outFile}`);
