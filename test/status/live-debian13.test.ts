// `tsstor status` and `tsstor doctor` on the live rig (live-suite.ts) with Debian 13's cluster
// stack (Pacemaker 3.0, pcs 0.12, Corosync 3.1.9): the same expected outputs as on Debian 12.
import { liveStatusSuite } from "./live-suite.js";

liveStatusSuite("debian13");
