// `tsstor status` and `tsstor doctor` on the live rig (live-suite.ts), on the platform the run
// chose (TSSTOR_RIG_PLATFORM; this machine's Debian 12 by default).
import { liveStatusSuite } from "./live-suite.js";
import { rigPlatform } from "../rig/platform.js";

liveStatusSuite(rigPlatform());
