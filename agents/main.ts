// The multi-call agent binary: every agent in one executable, linked once per agent name.
import { main } from "../lib/main.js";
import { agent as IPaddr2 } from "./IPaddr2.js";
import { agent as iSCSILogicalUnit } from "./iSCSILogicalUnit.js";
import { agent as iSCSITarget } from "./iSCSITarget.js";

main([IPaddr2, iSCSITarget, iSCSILogicalUnit]);
