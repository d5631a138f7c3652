// LVM-activate under injected tool faults (hang, fail, garbage, partial, missing): see faults.ts.
import { faultSuite } from "./faults.js";

faultSuite("LVM-activate");
