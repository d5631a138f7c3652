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
  roff(
    "Every stack needs --fencing: sbd (shared-disk SBD: a fence_sbd device, stonith-timeout from the SBD timeouts; --sbd-init initialises the devices, --sbd-enable enables sbd and restarts the whole cluster), watchdog (diskless SBD, three or more nodes or a quorum device), agent (a fence agent per node; passwords only from --fence-password-file), drbd-quorum (DRBD 9 quorum with three or more DRBD nodes, no node fencing), or none (test clusters: the script keeps its split-brain WARNING). With DRBD, the stack checks that drbd.conf fences with the cluster (fencing resource-and-stonith and the crm-fence-peer handlers, or the quorum options) by the same rule as tsstor doctor, and refuses with the change to make.",
  ),
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
      "  --lun 1:/dev/drbd1 --ip 192.168.23.100/24 \\",
      "  --fencing sbd --sbd-device /dev/disk/by-id/wwn-0x5000c500a1b2c3d4 --sbd-init --sbd-enable > iscsi-stack.sh",
      "tsstor stack iscsi --no-drbd --iqn iqn.2003-01.org.example:san --lun 1:/dev/mapper/mpatha --ip 10.0.0.50/24 \\",
      "  --fencing agent --fence-agent fence_ipmilan --fence-param node1:ip=10.0.9.1 --fence-param node2:ip=10.0.9.2 \\",
      "  --fence-param username=admin --fence-param lanplus=1 --fence-password-file /etc/tsstor/bmc.pw --apply",
      "tsstor stack gfs2 --fs vg1/lv1:/srv/gfs2 --options noatime --fencing watchdog",
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
