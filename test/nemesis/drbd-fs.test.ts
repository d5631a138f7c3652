// The nemesis on the live rig (nemesis.ts), drbd-fs stack (DRBD -> ext4 -> VIP -> an iSCSI target
// whose LUN is a file on the ext4): fenced, through a seeded sequence of faults, 0 split brains
// (never two Primaries, two ARP answers or two mounts), 0 lost writes, convergence after every heal.
import t from "tap";
import { clientToolsMissing } from "../rig/iscsi.js";
import { cycles, fencedRun, seed, STACKS } from "./fenced.js";

const missing = await clientToolsMissing();

t.test(`fenced ${STACKS["drbd-fs"]}: ${cycles} seeded fault cycles (seed ${seed})`, { skip: missing ?? false }, (t) => fencedRun(t, "drbd-fs"));
