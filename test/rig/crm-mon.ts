// The crm_mon parser moved to cli/crm-mon.ts (`tsstor status` reads it too); the rig keeps its
// import path.
export * from "../../cli/crm-mon.js";
