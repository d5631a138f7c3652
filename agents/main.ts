// The multi-call agent binary: every agent in one executable, linked once per agent name.
import { main } from "../lib/main.js";
import { agent as clvm, lvmlockdAgent } from "./clvm.js";
import { agent as lvmActivate } from "./LVM-activate.js";

main([clvm, lvmlockdAgent, lvmActivate]);
