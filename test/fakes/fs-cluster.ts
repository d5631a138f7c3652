// corosync-cmapctl and dlm_tool for the Filesystem agent's GFS2 guard tests: this kernel has no
// DLM, and the guards only need the tools' answers. Formats are the recorded real ones
// (test/recordings/fs/). Behaviour comes from the environment the test gives the agent:
//   TSSTOR_FAKE_CLUSTER_NAME  unset: corosync not running (real error, exit 1); else the name
//   TSSTOR_FAKE_DLM           unset or "down": dlm_controld unreachable (no output, exit 1);
//                             else comma-separated lockspace names ("" = none)
import { err, out, type FakeMain } from "./lib.js";

const cmapctl: FakeMain = (args) => {
  const name = process.env.TSSTOR_FAKE_CLUSTER_NAME;
  if (name === undefined) {
    err("Failed to initialize the cmap API. Error CS_ERR_LIBRARY\n");
    return 1;
  }
  const key = args[0] === "-g" ? args[1] : undefined;
  if (key === "totem.cluster_name") {
    out(`totem.cluster_name (str) = ${name}\n`);
    return 0;
  }
  if (key !== undefined) {
    err(`Can't get key ${key}. Error CS_ERR_NOT_EXIST\n`);
    return 1;
  }
  out(`totem.cluster_name (str) = ${name}\n`);
  return 0;
};

const dlmTool: FakeMain = (args) => {
  const state = process.env.TSSTOR_FAKE_DLM;
  if (args[0] === "status") {
    if (state === undefined || state === "down") out("cannot connect to dlm_controld\n");
    else out("dlm_controld 0 started\n");
    return 0;
  }
  if (args[0] !== "ls") {
    err(`fake dlm_tool: unsupported ${args.join(" ")}\n`);
    return 1;
  }
  if (state === undefined || state === "down") return 1;
  const names = state.split(",").filter(Boolean);
  if (!names.length) return 0;
  let s = "dlm lockspaces\n";
  names.forEach((n, i) => {
    s += `name          ${n}\nid            0x${(0x9a1c3e52 + i).toString(16).padStart(8, "0")}\nflags         0x00000000 \n`;
    s += "change        member 2 joined 1 remove 0 failed 0 seq 1,1\nmembers       1 2 \n\n";
  });
  out(s);
  return 0;
};

export const fakes: Record<string, FakeMain> = {
  "corosync-cmapctl": cmapctl,
  dlm_tool: dlmTool,
};
