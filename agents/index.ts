// Every agent, statically imported (metadata and man page generation, tests). The binary loads them
// lazily through agents/lazy.ts instead: add a new agent to both (test/unit/lazy.test.ts checks it).
import type { Agent } from "../lib/ocf/runner.js";
import { agent as Filesystem } from "./Filesystem.js";
import { agent as IPaddr2 } from "./IPaddr2.js";
import { agent as drbd } from "./drbd.js";
import { agent as iSCSILogicalUnit } from "./iSCSILogicalUnit.js";
import { agent as iSCSITarget } from "./iSCSITarget.js";
import { agent as clvm, lvmlockdAgent } from "./clvm.js";
import { agent as LVMActivate } from "./LVM-activate.js";

export const agents: Agent<any>[] = [IPaddr2, Filesystem, iSCSITarget, iSCSILogicalUnit, clvm, lvmlockdAgent, LVMActivate, drbd];
