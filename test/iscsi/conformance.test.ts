// The shared conformance suite for both iSCSI agents (lio-t on the configfs emulation, so a probe
// finds nothing), plus their bad-input tables.
import t from "tap";
import { conformance } from "../lib/harness.js";
import { LioRig } from "./rig.js";

const rig = new LioRig("conf");
t.teardown(() => rig.destroy());
const env = rig.env();
const IQN = "iqn.2026-01.org.tsstor.test:conformance";

conformance(t, {
  agent: "iSCSITarget",
  valid: { implementation: "lio-t", iqn: IQN },
  env,
  invalid: [
    { params: {}, names: "parameter iqn is required" },
    { params: { iqn: "target-1" }, names: "parameter iqn must be an iSCSI name" },
    { params: { iqn: IQN, implementation: "iet" }, names: "implementation iet is not supported" },
    { params: { iqn: IQN, implementation: "scst" }, names: "implementation scst is not supported" },
    { params: { iqn: IQN, implementation: "lio-tt" }, names: "parameter implementation must be one of" },
    { params: { iqn: IQN, tid: "0" }, names: "parameter tid must be >= 1" },
    { params: { iqn: IQN, portals: "fd00::1:3260" }, names: "parameter portals.*\\[address\\]:port" },
    { params: { iqn: IQN, portals: "10.0.0.1:99999" }, names: "parameter portals" },
    { params: { iqn: IQN, portals: "10.0.0.1:3260", iser_portals: "10.9.9.9" }, names: "iser_portals entry 10.9.9.9 is not among portals" },
    { params: { iqn: IQN, allowed_initiators: "iqn.1993-08.org.debian:01:a $(id)" }, names: "parameter allowed_initiators" },
    { params: { iqn: IQN, incoming_username: "u" }, names: "incoming_username is set but neither incoming_password nor incoming_password_file is" },
    { params: { iqn: IQN, incoming_password: "Long-Secret-9" }, names: "incoming_password is set but incoming_username is not" },
    { params: { iqn: IQN, incoming_username: "with space", incoming_password: "Long-Secret-9" }, names: "parameter incoming_username" },
    { params: { iqn: IQN, additional_parameters: "MaxConnections" }, names: "parameter additional_parameters" },
  ],
});

const LU = { implementation: "lio-t", target_iqn: IQN, lun: "1", path: "/dev/null" };
conformance(t, {
  agent: "iSCSILogicalUnit",
  valid: LU,
  env,
  invalid: [
    { params: {}, names: "parameter target_iqn is required" },
    { params: { ...LU, lun: "one" }, names: "parameter lun must be an integer" },
    { params: { ...LU, lun: "70000" }, names: "parameter lun must be <= 65535" },
    { params: { ...LU, implementation: "tgt", lun: "0" }, names: "tgt reserves LUN 0" },
    { params: { ...LU, path: "relative/disk" }, names: "path must be absolute for lio-t" },
    { params: { ...LU, liot_bstype: "rbd" }, names: "parameter liot_bstype" },
    { params: { ...LU, block_size: "1000" }, names: "parameter block_size must be 512, 1024, 2048 or 4096" },
    { params: { ...LU, emulate_tpu: "2" }, names: "parameter emulate_tpu must be <= 1" },
    { params: { ...LU, product_id: "seventeen-chars-x" }, names: "parameter product_id must be at most 16" },
    { params: { ...LU, vendor_id: "a,b" }, names: "parameter vendor_id" },
    { params: { ...LU, scsi_sn: "a b" }, names: "parameter scsi_sn" },
    { params: { ...LU, write_cache: "true" }, names: "write_cache can only be set with liot_bstype=fileio" },
    { params: { ...LU, allowed_initiators: "iqn.1993-08.org.debian:01:a", lun: "300" }, names: "lun must be <= 255 with allowed_initiators" },
    { params: { ...LU, implementation: "lio" }, names: "implementation lio is not supported" },
  ],
});
