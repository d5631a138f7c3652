// Man page tsstor(8) from the built CLI's own help texts (run with Bun; scripts/package.sh and
// the RPM spec call it):   bun scripts/gen-cli-man.ts build/tsstor OUTFILE
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";

const [bin, out] = process.argv.slice(2);
if (!bin || !out) {
  console.error("usage: gen-cli-man.ts TSSTOR_BINARY OUTFILE");
  process.exit(2);
}
const VERSION = (await import("../package.json", { with: { type: "json" } })).default.version as string;

const roff = (s: string) =>
  s
    .replace(/\\/g, "\\e")
    .replace(/-/g, "\\-")
    .split("\n")
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join("\n");

function help(args: string[]): string {
  const r = spawnSync(bin!, [...args, "--help"], { encoding: "utf8", env: { ...process.env, COLUMNS: "78" } });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(" ")} --help: ${r.stderr}`);
  return r.stdout.trimEnd();
}

const date = new Date().toISOString().slice(0, 10);
const L: string[] = [];
L.push(`.TH "TSSTOR" "8" "${date}" "tsstor ${VERSION}" "System Administration"`);
L.push(".SH NAME", "tsstor \\- bundled Pacemaker stacks and configuration checks for highly available shared storage");
L.push(
  ".SH SYNOPSIS",
  "\\fBtsstor stack\\fR {\\fBiscsi\\fR|\\fBgfs2\\fR|\\fBdrbd\\-fs\\fR} [\\fIoptions\\fR] [\\fB\\-\\-apply\\fR [\\fB\\-\\-cib\\fR \\fIFILE\\fR]]",
  ".br",
  "\\fBtsstor doctor\\fR [\\fB\\-f\\fR \\fIFILE\\fR] [\\fB\\-\\-json\\fR] [\\fB\\-\\-root\\fR \\fIDIR\\fR] [\\fIoptions\\fR]",
  ".br",
  "\\fBtsstor demo\\fR",
);
L.push(
  ".SH DESCRIPTION",
  ".PP",
  roff(
    "tsstor stack prints a reviewable bash script of pcs commands that builds one of the bundled configurations from the ocf:tsstor resource agents, or, with --apply, applies it atomically: pcs cluster cib, then every command with pcs -f on a copy, then one pcs cluster cib-push diff-against the original. Every option is validated before the first pcs command runs; all problems are reported at once (exit 2).",
  ),
  ".PP",
  roff("WARNING: the stacks do not configure fencing. Without stonith a lost cluster link makes both nodes Primary and both serve the virtual IP (split brain)."),
  ".PP",
  roff(
    "tsstor doctor reads the CIB (cibadmin -Q, or a file with -f) and this node's drbd.conf, corosync.conf, lvm.conf, multipath.conf and systemd unit links, and reports each known hazard with its severity, the reason and the exact fix (commands; lines starting with # say what to edit in a file). Findings are printed for humans or, with --json, as one JSON document. --migrate-script prints a bash script that moves every ocf:heartbeat/ocf:linbit resource with an ocf:tsstor equivalent in one CIB transaction.",
  ),
);
L.push(".SH COMMANDS");
// every command, found by walking the "Commands:" lists of the help texts (new commands appear
// without touching this file)
const subcommands = (text: string, depth: number): string[][] =>
  [...(text.split(/^Commands:\n/m)[1]?.split(/\n\n/)[0] ?? "").matchAll(/^ {2}tsstor ((?:[\w-]+ ?)+?) {2,}/gm)]
    .map((m) => m[1]!.trim().split(" "))
    .filter((c) => c.length === depth + 1);
const walk = (args: string[]): void => {
  const text = help(args);
  L.push(".SS", `tsstor ${args.join(" ")}`.trim(), ".nf", roff(text), ".fi");
  for (const sub of subcommands(text, args.length)) walk(sub);
};
walk([]);
L.push(
  ".SH EXAMPLES",
  ".nf",
  roff(
    [
      "tsstor stack iscsi --drbd-resource r0 --iqn iqn.2003-01.org.example:storage \\",
      "  --lun 1:/dev/drbd1 --ip 192.168.23.100/24 > iscsi-stack.sh",
      "tsstor stack iscsi --no-drbd --iqn iqn.2003-01.org.example:san --lun 1:/dev/mapper/mpatha --ip 10.0.0.50/24 --apply",
      "tsstor stack gfs2 --fs vg1/lv1:/srv/gfs2 --options noatime",
      "tsstor doctor                       # on a cluster node",
      "pcs cluster cib cib.xml && tsstor doctor -f cib.xml --json",
      "tsstor doctor --migrate-script > migrate.sh",
    ].join("\n"),
  ),
  ".fi",
);
{
  const r = spawnSync(bin, ["doctor", "--list"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${bin} doctor --list: ${r.stderr}`);
  L.push(".SH DOCTOR HAZARDS", ".nf", roff(r.stdout.trimEnd()), ".fi");
}
L.push(
  ".SH EXIT STATUS",
  "tsstor stack: 0 success; 1 a pcs command failed (nothing was pushed); 2 invalid options (nothing was run).",
  ".br",
  "tsstor doctor: 0 no error finding (warnings and info allowed); 1 at least one error finding; 2 the doctor could not run (CIB unreadable, a file given by option missing, invalid options).",
);
L.push(".SH SEE ALSO", "\\fBpcs\\fR(8), \\fBcrm_simulate\\fR(8), \\fBdrbd.conf\\fR(5), \\fBmultipath.conf\\fR(5), \\fBocf_tsstor_iSCSITarget\\fR(7), \\fBocf_tsstor_drbd\\fR(7)");
writeFileSync(out, `${L.join("\n")}\n`);
