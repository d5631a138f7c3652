// `tsstor drbd init|first-sync`: DRBD bootstrap with explained defaults. `init` writes the resource
// file (every line commented with its reason; the fencing lines `tsstor stack` and `tsstor doctor`
// require) and, on this node, creates the metadata and brings the resource up, after checking
// that the backing disk holds neither data nor DRBD metadata; `first-sync` makes one node of a
// fresh, connected set the sync source. Exit status: 0 done (or nothing to do), 1 refused or
// failed, 2 invalid options; on 1 and 2 nothing was written unless the message says so.
//
//   tsstor drbd init --resource r0 --node alpha:10.0.0.1 --node beta:10.0.0.2 --disk /dev/sdb \
//                    --device /dev/drbd0 --fencing sbd [--drbd-version 9] [--link-mbit 10000] [--print]
//   tsstor drbd first-sync r0
import type { Argv } from "yargs";
import { METHODS } from "../fencing.js";
import { DEFAULT_DRBDCONF, DEFAULT_LINK_MBIT, InitInvalid, planInit, type InitArgs } from "./init.js";
import { EXIT, NodeTools, nodeEnv, runFirstSync, runInit, type NodeEnv } from "./node.js";

type SetCode = (c: number) => void;

/** The drbd subcommands; `env` replaces this node's environment (tests). */
export function drbdCommands(y: Argv, setCode: SetCode, env: () => NodeEnv = () => nodeEnv()): Argv {
  return y
    .command(
      "init",
      "write a DRBD resource file with safe, explained defaults; on this node check the backing disk, create the metadata and bring the resource up",
      (y) =>
        y
          .option("resource", { type: "string", describe: "DRBD resource name (e.g. r0); the file is /etc/drbd.d/NAME.res" })
          .option("node", { type: "string", array: true, describe: "NAME:ADDRESS[:PORT] of a node with a disk (repeat; NAME as uname -n prints it; port 7789 by default; IPv6 as [ADDR]:PORT)" })
          .option("disk", { type: "string", array: true, describe: "backing disk: /dev/... on every node, or NODE:/dev/... per node (its content is replaced by the first sync)" })
          .option("device", { type: "string", describe: "the DRBD device /dev/drbdN (N: its minor)" })
          .option("diskless-tiebreaker", { type: "string", describe: "DRBD 9: NAME:ADDRESS[:PORT] of a node without a disk that votes for quorum" })
          .option("drbd-version", { type: "string", describe: "8.4 or 9 (default: this node's, from /proc/drbd, drbdadm --version or modinfo)" })
          .option("fencing", { type: "string", describe: `the cluster's fencing method, as for tsstor stack: ${Object.keys(METHODS).join(", ")}` })
          .option("on-no-quorum", { type: "string", describe: "drbd-quorum: io-error (drbd-fs stacks) or suspend-io (iscsi stacks)" })
          .option("link-mbit", { type: "string", describe: `replication link speed in Mbit/s, for the resync controller (default ${DEFAULT_LINK_MBIT})` })
          .option("out", { type: "string", describe: "write the file here instead of /etc/drbd.d/NAME.res (--drbdconf must include it)" })
          .option("print", { type: "boolean", default: false, describe: "print the file and do nothing else" })
          .option("force", { type: "boolean", default: false, describe: "replace a different file; use a backing disk that holds data or DRBD metadata (never one in use)" })
          .option("drbdconf", { type: "string", describe: `the drbd.conf drbdadm reads (default ${DEFAULT_DRBDCONF})` }),
      (a) => {
        const e = env();
        try {
          const plan = planInit(a as InitArgs, () => new NodeTools(e).detectVersion());
          setCode(runInit(plan, e));
        } catch (err) {
          if (!(err instanceof InitInvalid)) throw err;
          e.err(`tsstor drbd init: invalid options:\n${err.problems.map((l) => `  - ${l.replace(/\n/g, "\n    ")}`).join("\n")}\nnothing was written or run.\n`);
          setCode(EXIT.INVALID);
        }
      },
    )
    .command(
      "first-sync <resource>",
      "on ONE node of a fresh resource (every node Connected, every disk Inconsistent): make its data the source the peers sync from",
      (y) =>
        y
          .positional("resource", { type: "string", demandOption: true, describe: "the DRBD resource" })
          .option("drbdconf", { type: "string", describe: `the drbd.conf drbdadm reads (default ${DEFAULT_DRBDCONF})` }),
      (a) => {
        setCode(runFirstSync(String(a.resource), typeof a.drbdconf === "string" ? a.drbdconf : DEFAULT_DRBDCONF, env()));
      },
    );
}
