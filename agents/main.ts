// The multi-call agent binary: every agent in one executable, linked once per agent name.
import { main } from "../lib/main.js";
import { agent as IPaddr2 } from "./IPaddr2.js";

main([IPaddr2]);
