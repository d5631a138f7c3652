// The `tsstor` command (never imported by agents/ or lib/: yargs stays out of the agent binary).
//   tsstor stack apply FILE [--dry-run] [--cib F]    a stack file, applied idempotently (cli/stack/)
//   tsstor stack delete|add-lun|remove-lun ...       its life on the cluster
//   tsstor stack migrate --haresources F --ietd F   heartbeat v1 + IET to a stack file
//   tsstor drbd init|first-sync ...                  a new DRBD resource (cli/drbd/)
//   tsstor stack iscsi|gfs2|san|drbd-fs [options]       print a reviewable bash script of pcs commands
//   tsstor stack ... --apply                       apply it atomically on this cluster node
//   tsstor stack ... --apply --cib FILE            apply it to a CIB file (pcs -f), e.g. for crm_simulate
//   tsstor status [--watch] [--json] [--graph F]    the storage stacks at a glance (cli/status.ts)
import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { InvalidOptions, type Plan } from "./stacks.js";
import { bundledPlan } from "./stack/kinds.js";
import { stackFileCommands } from "./stack/command.js";
import { migrateCommand } from "./stack/migrate.js";
import { drbdCommands } from "./drbd/command.js";
import { METHODS, PASSWORD_ON_COMMAND_LINE, isPasswordKey } from "./fencing.js";
import { ApplyError, applyPlan, renderScript } from "./pcs.js";
import { doctorCommand } from "./doctor.js";
import { statusCommand } from "./status.js";
import { GraphError, planDot, writeGraph } from "./status/graph.js";

const VERSION = "0.1.0";

function out(plan: Plan, argv: { apply?: boolean; cib?: string; quiet?: boolean; graph?: string }, raw: string[]): void {
  if (argv.apply && argv.cib && plan.nodeSteps.length) throw new InvalidOptions(["--sbd-init and --sbd-enable act on the cluster nodes, not on a CIB file: drop them with --cib FILE"]);
  if (argv.graph) writeGraph(planDot(plan), argv.graph);
  if (!argv.apply) {
    process.stdout.write(renderScript(plan, raw));
    return;
  }
  applyPlan(plan, { cib: argv.cib, log: argv.quiet ? undefined : (l) => process.stderr.write(`${l}\n`) });
  const fenced = plan.fencing.devices.length ? `; fencing ${plan.fencing.method}: ${plan.fencing.devices.join(", ")}` : `; fencing ${plan.fencing.method}`;
  process.stderr.write(`tsstor: ${plan.stack} stack applied${argv.cib ? ` to ${argv.cib}` : ""}: ${plan.resources.join(", ")}${fenced}\n`);
}

const common = (y: Argv) =>
  y
    .option("apply", { type: "boolean", default: false, describe: "apply atomically (pcs cluster cib -> pcs -f -> cib-push) instead of printing the script" })
    .option("cib", { type: "string", describe: "with --apply: edit this CIB file instead of the live cluster" })
    .option("quiet", { type: "boolean", default: false, describe: "with --apply: do not echo each pcs command" })
    .option("monitor-interval", { type: "string", describe: "monitor interval of the stack's resources" })
    .option("graph", { type: "string", describe: "also draw the stack to FILE (.svg, .png, .pdf or .dot) with Graphviz dot" })
    .option("fencing", { type: "string", describe: `how the cluster fences a node (required): ${Object.keys(METHODS).join(", ")}; see docs/stacks.md` })
    .option("corosync-conf", { type: "string", describe: "sbd/watchdog/agent: the cluster's corosync.conf (default /etc/corosync/corosync.conf)" })
    .option("sbd-device", { type: "string", array: true, describe: "sbd: shared block device, 1 to 3 (repeat), the same path on every node" })
    .option("sbd-init", { type: "boolean", default: false, describe: "sbd: initialise the devices first (ERASES their start)" })
    .option("sbd-enable", { type: "boolean", default: false, describe: "sbd/watchdog: enable sbd on every node and restart the whole cluster (every resource stops)" })
    .option("watchdog", { type: "string", describe: "sbd/watchdog: watchdog device (default /dev/watchdog)" })
    .option("sbd-watchdog-timeout", { type: "number", describe: "sbd/watchdog: SBD_WATCHDOG_TIMEOUT in seconds (default 5; sbd without --sbd-init: from the device header)" })
    .option("sbd-msgwait", { type: "number", describe: "sbd with --sbd-init: msgwait in seconds (default 2 x the watchdog timeout)" })
    .option("fence-agent", { type: "string", describe: "agent: the fence agent, e.g. fence_ipmilan (pcs stonith list)" })
    .option("fence-param", { type: "string", array: true, describe: "agent: NODE:KEY=VALUE for that node's device, KEY=VALUE for every device (repeat); no passwords" })
    .option("fence-host-map", { type: "string", array: true, describe: "agent: NODE:PORT (repeat): one device for every node (pcmk_host_map), e.g. a PDU" })
    .option("fence-password-file", { type: "string", array: true, describe: "agent: FILE (or NODE:FILE) holding the password, on every node; the CIB gets password_script=cat FILE" })
    .option("on-no-quorum", { type: "string", describe: "drbd-quorum: io-error or suspend-io (default: suspend-io for iscsi, io-error for drbd-fs)" })
    .option("skip-drbd-check", { type: "boolean", default: false, describe: "the DRBD configuration is not readable here: print the script anyway, listing what it must contain" });

// CHAP for the iscsi and san stacks: secrets only from files (never argv), the same four options
const chapOptions = (logsIn: string, answers: string) =>
  ({
    "chap-user": { type: "string", describe: `CHAP user ${logsIn}` },
    "chap-secret-file": { type: "string", describe: "root-only file (mode 0600, same path on every node) whose first line is the CHAP secret" },
    "mutual-chap-user": { type: "string", describe: `mutual CHAP: the user ${answers} answers with` },
    "mutual-chap-secret-file": { type: "string", describe: `mutual CHAP: root-only file holding ${answers}'s secret (not the --chap one)` },
  }) as const;
/**
 * A password typed into `tsstor stack` (password=..., passwd=..., --password VALUE) is refused
 * before anything parses or echoes the arguments: the message names the argument, never its value.
 */
function passwordInArgv(args: string[]): string | undefined {
  for (const [i, a] of args.entries()) {
    const kv = /([A-Za-z0-9_-]*pass(?:wd|word))\s*=/i.exec(a);
    if (kv && isPasswordKey(kv[1]!)) return `argument ${i + 1} (${kv[1]}=...)`;
    const opt = /^--?([A-Za-z0-9_-]*pass(?:wd|word))$/i.exec(a);
    if (opt && isPasswordKey(opt[1]!)) return `argument ${i + 1} (${a})`;
    // --chap-secret VALUE, --mutual-chap-secret=VALUE: only the *-secret-file options exist
    const sec = /^--?([A-Za-z0-9_-]*secret)(=|$)/i.exec(a);
    if (sec) return `argument ${i + 1} (--${sec[1]!.replace(/^-+/, "")}${sec[2] ? "=..." : ""})`;
  }
  return undefined;
}

/**
 * The demo drives the test rig (test/rig/), which stays out of this binary: run its source with
 * the checkout's Bun. Signals are passed on, so Ctrl-C still tears everything down.
 */
function demo(args: string[]): Promise<number> {
  const root = process.env.TSSTOR_ROOT ?? dirname(dirname(process.execPath));
  const bun = join(root, "node_modules/@oven/bun-linux-x64-baseline/bin/bun");
  const src = join(root, "cli/demo.ts");
  if (!existsSync(bun) || !existsSync(src)) {
    process.stderr.write(`tsstor demo: needs the source checkout (${src}) with npm ci done\n`);
    return Promise.resolve(1);
  }
  const child = spawn(bun, [src, ...args], { stdio: "inherit" });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, () => child.kill(sig));
  return new Promise((resolve) => child.on("exit", (c, s) => resolve(c ?? (s === "SIGINT" ? 130 : 1))));
}


class UsageFailed extends Error {}

export function run(args: string[]): number | Promise<number> {
  let code: number | Promise<number> = 0;
  const fail = (e: unknown) => {
    if (e instanceof InvalidOptions) {
      process.stderr.write(`tsstor: ${e.message}\nnothing was run.\n`);
      code = 2;
    } else if (e instanceof ApplyError || e instanceof GraphError) {
      process.stderr.write(`tsstor: ${e.message}\n`);
      code = 1;
    } else throw e;
  };
  const pw = args[0] === "stack" ? passwordInArgv(args) : undefined;
  if (pw) {
    process.stderr.write(`tsstor: ${pw}: ${PASSWORD_ON_COMMAND_LINE}\nnothing was run.\n`);
    return 2;
  }
  const parser = yargs(args)
    .scriptName("tsstor")
    // "--no-drbd" is an option of its own, not the negation of a "--drbd"
    .parserConfiguration({ "boolean-negation": false })
    .version(VERSION)
    .strict()
    .completion("completion", "print a bash completion script")
    .demandCommand(1)
    .command("stack", "Pacemaker stacks: from a stack file (apply, delete, add-lun, remove-lun) or bundled shapes from options (pcs scripts)", (y) =>
      stackFileCommands(y.demandCommand(1), (c) => (code = c))
        .command(migrateCommand((c) => (code = c)))
        .command(
          "iscsi",
          "DRBD promotable -> iSCSITarget -> LUNs -> virtual IPs (or --no-drbd for a shared SAN LUN)",
          (y) =>
            common(y)
              .option("prefix", { type: "string", default: "iscsi", describe: "resource id prefix" })
              .option("drbd-resource", { type: "string", describe: "DRBD resource backing the LUNs" })
              .option("drbdconf", { type: "string", describe: "drbd.conf for the DRBD agent (default /etc/drbd.conf)" })
              .option("no-drbd", { type: "boolean", default: false, describe: "no DRBD: the LUN paths are a shared SAN LUN both nodes see" })
              .option("iqn", { type: "string", demandOption: true, describe: "target IQN" })
              .option("lun", { type: "string", array: true, demandOption: true, describe: "N:/dev/path (repeat for more LUNs)" })
              .option("ip", { type: "string", array: true, demandOption: true, describe: "virtual IP ADDR[/PREFIX] (repeat for more)" })
              .option("nic", { type: "string", describe: "interface for the virtual IPs (default: from the routing table)" })
              .option("portal", { type: "string", array: true, describe: "target portal ADDR:PORT (default 0.0.0.0:3260)" })
              .option("initiator", { type: "string", array: true, describe: "allowed initiator IQN (repeat); required unless --allow-any-initiator" })
              .option("allow-any-initiator", { type: "boolean", default: false, describe: "no initiator list: any host that reaches a portal may log in (use CHAP then)" })
              .options(chapOptions("initiators log in with", "the target"))
              .option("implementation", { type: "string", choices: ["lio-t", "tgt"], describe: "iSCSI target implementation (default: the agent detects)" })
              .option("tid", { type: "number", describe: "tgt target id" })
              .option("clone-max", { type: "number", describe: "DRBD clone-max (default 2)" }),
          (a) => {
            try {
              out(bundledPlan("iscsi", a), a, args);
            } catch (e) {
              fail(e);
            }
          },
        )
        .command(
          "gfs2",
          "dlm -> lvmlockd -> shared LV -> GFS2 mount, cloned on every node",
          (y) =>
            common(y)
              .option("prefix", { type: "string", default: "gfs2", describe: "resource id prefix" })
              .option("fs", { type: "string", array: true, demandOption: true, describe: "VG/LV:/mount/point (repeat for more)" })
              .option("options", { type: "string", describe: "mount options, e.g. noatime" })
              .option("lock-type", { type: "string", choices: ["dlm", "sanlock"], describe: "lvmlockd lock type (default dlm)" }),
          (a) => {
            try {
              out(bundledPlan("gfs2", a), a, args);
            } catch (e) {
              fail(e);
            }
          },
        )
        .command(
          "san",
          "iSCSI initiator clone per portal of a storage array -> multipath -> dlm -> lvmlockd -> shared LVs -> GFS2 (or a shared VG for VM disks)",
          (y) =>
            common(y)
              .option("prefix", { type: "string", default: "san", describe: "resource id prefix" })
              .option("target", { type: "string", demandOption: true, describe: "the array's target IQN" })
              .option("portal", { type: "string", array: true, demandOption: true, describe: "a portal of the array, ADDR[:PORT] (repeat: one path each)" })
              .option("fs", { type: "string", array: true, describe: "VG/LV:/mount/point for GFS2 on a shared LV (repeat for more)" })
              .option("vm-vg", { type: "string", array: true, describe: "a shared VG whose LVs are VM disks, no filesystem (repeat for more)" })
              .option("options", { type: "string", describe: "GFS2 mount options, e.g. noatime" })
              .option("lock-type", { type: "string", choices: ["dlm", "sanlock"], describe: "lvmlockd lock type (default dlm)" })
              .option("no-multipath", { type: "boolean", default: false, describe: "one portal, LVM on the iSCSI disk itself (default: each path waits for its LUNs' multipath maps)" })
              .options(chapOptions("this node logs in with", "the array")),
          (a) => {
            try {
              out(bundledPlan("san", a), a, args);
            } catch (e) {
              fail(e);
            }
          },
        )
        .command(
          "drbd-fs",
          "DRBD promotable -> Filesystem (ext4/xfs) -> virtual IP -> optional service",
          (y) =>
            common(y)
              .option("prefix", { type: "string", default: "drbdfs", describe: "resource id prefix" })
              .option("drbd-resource", { type: "string", demandOption: true })
              .option("drbdconf", { type: "string", describe: "drbd.conf for the DRBD agent (default /etc/drbd.conf)" })
              .option("device", { type: "string", demandOption: true, describe: "DRBD device, e.g. /dev/drbd0" })
              .option("directory", { type: "string", demandOption: true, describe: "mount point" })
              .option("fstype", { type: "string", default: "ext4" })
              .option("options", { type: "string", describe: "mount options" })
              .option("ip", { type: "string", demandOption: true, describe: "virtual IP ADDR[/PREFIX]" })
              .option("nic", { type: "string" })
              .option("service", { type: "string", describe: "an agent started last, e.g. systemd:nfs-server" })
              .option("service-param", { type: "string", array: true, describe: "NAME=VALUE for --service (repeat)" })
              .option("clone-max", { type: "number" }),
          (a) => {
            try {
              out(bundledPlan("drbd-fs", a), a, args);
            } catch (e) {
              fail(e);
            }
          },
        ),
    )
    .command("drbd", "DRBD bootstrap: the resource file with safe defaults, metadata, the first sync", (y) => drbdCommands(y.demandCommand(1), (c) => (code = c)))
    .command(doctorCommand((c) => (code = c), VERSION))
    .command(
      "demo",
      "2-node cluster in namespaces: deploy the iSCSI stack, hard-kill the active node, show the failover, tear down",
      (y) =>
        y
          .option("build", { type: "boolean", default: false, describe: "rebuild first" })
          .option("no-drbd", { type: "boolean", default: false, describe: "the shared-LUN variant (no DRBD)" }),
      (a) => {
        code = demo([...(a.build ? ["--build"] : []), ...(a["no-drbd"] ? ["--no-drbd"] : [])]);
      },
    )
    .command(statusCommand((c) => (code = c), VERSION))
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`tsstor: ${msg}\nnothing was run.\n`);
      code = 2;
      // a .fail() that returns lets yargs go on to run the command's handler: stop here
      throw new UsageFailed();
    });
  try {
    parser.parseSync();
  } catch (e) {
    if (!(e instanceof UsageFailed)) throw e;
  }
  return code;
}

process.exitCode = await run(hideBin(process.argv));
