// iscsi (the initiator) under injected iscsiadm faults (hang, fail, garbage, partial, missing): see faults.ts.
import { faultSuite } from "./faults.js";

faultSuite("iscsi");
