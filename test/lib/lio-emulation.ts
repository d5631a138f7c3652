// An emulation of LIO's configfs tree (Linux 6.1, target_core_mod + iscsi_target_mod) in a plain
// directory, for a kernel without configfs. What the kernel creates by itself on mkdir (default
// groups and attribute files with their defaults) is created here by the same operation, so
// readers see the layout they see under /sys/kernel/config. Used by the fake targetcli
// (test/fakes/targetcli.ts); the agents only read and write files in it, as on a real kernel.
//
// Limits (a directory tree cannot do better): attribute writes are not checked by a kernel
// (an invalid value or a write while exported is accepted), and write-only files are readable.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, lstatSync, symlinkSync, unlinkSync, writeFileSync, readlinkSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

export const KERNEL = "6.1.0-tsstor-emulation";

function file(path: string, content: string, mode = 0o644): void {
  writeFileSync(path, content, { mode });
}

function files(dir: string, entries: Record<string, string>, mode = 0o644): void {
  mkdirSync(dir, { recursive: true });
  for (const [k, v] of Object.entries(entries)) file(join(dir, k), v, mode);
}

/** The configfs "target" directory, as `modprobe target_core_mod iscsi_target_mod` leaves it. */
export function ensureTargetCore(configfs: string): string {
  const t = join(configfs, "target");
  if (!existsSync(t)) {
    mkdirSync(t, { recursive: true });
    file(join(t, "version"), `Target Engine Core ConfigFS Infrastructure v5.0 on Linux/x86_64 on ${KERNEL}\n`, 0o444);
    file(join(t, "dbroot"), "/etc/target\n");
    files(join(t, "core", "alua", "lu_gps", "default_lu_gp"), { lu_gp_id: "0\n", members: "" });
    mkdirSync(join(t, "core", "alua", "tg_pt_gps"), { recursive: true });
  }
  const i = join(t, "iscsi");
  if (!existsSync(i)) {
    files(join(i, "discovery_auth"), {
      userid: "NULL\n",
      password: "NULL\n",
      userid_mutual: "NULL\n",
      password_mutual: "NULL\n",
      enforce_discovery_auth: "0\n",
      authenticate_target: "0\n",
    });
    file(join(i, "lio_version"), "Datera Inc. iSCSI Target v4.1.0\n", 0o444);
  }
  return t;
}

// ---- storage objects (core/<plugin>_<index>/<name>) ------------------------------------------

const SO_ATTRIBS: Record<string, string> = {
  block_size: "512",
  emulate_3pc: "1",
  emulate_caw: "1",
  emulate_dpo: "1",
  emulate_fua_read: "1",
  emulate_fua_write: "1",
  emulate_model_alias: "1",
  emulate_pr: "1",
  emulate_rest_reord: "0",
  emulate_tas: "1",
  emulate_tpu: "0",
  emulate_tpws: "0",
  emulate_ua_intlck_ctrl: "0",
  emulate_write_cache: "0",
  enforce_pr_isids: "1",
  force_pr_aptpl: "0",
  hw_block_size: "512",
  hw_max_sectors: "1024",
  hw_pi_prot_type: "0",
  hw_queue_depth: "128",
  is_nonrot: "0",
  max_unmap_block_desc_count: "0",
  max_unmap_lba_count: "0",
  max_write_same_len: "65535",
  optimal_sectors: "1024",
  pi_prot_format: "0",
  pi_prot_type: "0",
  pi_prot_verify: "0",
  queue_depth: "128",
  unmap_granularity: "0",
  unmap_granularity_alignment: "0",
  unmap_zeroes_data: "0",
};

export type Plugin = "iblock" | "fileio" | "pscsi" | "rd_mcp";
const MODEL: Record<Plugin, string> = { iblock: "IBLOCK", fileio: "FILEIO", pscsi: "PSCSI", rd_mcp: "RAMDISK-MCP" };

export function hbaDirs(t: string): Array<{ plugin: string; index: number; dir: string }> {
  const core = join(t, "core");
  if (!existsSync(core)) return [];
  return readdirSync(core)
    .map((d) => /^(.+)_(\d+)$/.exec(d))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ plugin: m[1]!, index: Number(m[2]), dir: join(core, m[0]) }));
}

/** All storage objects: { plugin, index, name, dir }. */
export function storageObjects(t: string) {
  const out: Array<{ plugin: string; index: number; name: string; dir: string }> = [];
  for (const h of hbaDirs(t)) {
    for (const n of readdirSync(h.dir)) {
      if (lstatSync(join(h.dir, n)).isDirectory()) out.push({ plugin: h.plugin, index: h.index, name: n, dir: join(h.dir, n) });
    }
  }
  return out;
}

/** mkdir core/<plugin>_<index> then <name>: the HBA's files, the object's default groups. */
export function createStorageObject(t: string, plugin: Plugin, index: number, name: string): string {
  const hba = join(t, "core", `${plugin}_${index}`);
  if (!existsSync(hba)) {
    mkdirSync(hba);
    file(join(hba, "hba_info"), `HBA Index: ${index} plugin: ${plugin} version: v5.0\n`, 0o444);
    file(join(hba, "hba_mode"), "0\n");
  }
  const so = join(hba, name);
  mkdirSync(so);
  files(join(so, "attrib"), Object.fromEntries(Object.entries(SO_ATTRIBS).map(([k, v]) => [k, `${v}\n`])));
  files(join(so, "wwn"), {
    vendor_id: "LIO-ORG\n",
    product_id: `${MODEL[plugin]}\n`,
    revision: "4.0\n",
    company_id: "0x001405\n",
    vpd_unit_serial: "T10 VPD Unit Serial Number: \n",
    vpd_protocol_identifier: "",
    vpd_assoc_logical_unit: "",
    vpd_assoc_target_port: "",
    vpd_assoc_scsi_target_device: "",
  });
  files(join(so, "pr"), { res_holder: "No SPC-3 Reservation holder\n", res_type: "SPC_PASSTHROUGH\n", res_aptpl_active: "0\n", res_pr_generation: "0x00000000\n" });
  files(join(so, "alua", "default_tg_pt_gp"), { alua_access_state: "0\n", tg_pt_gp_id: "0\n", members: "" });
  mkdirSync(join(so, "statistics"), { recursive: true });
  file(join(so, "alua_lu_gp"), "LU Group Alias: default_lu_gp\nLU Group ID: 0\n");
  file(join(so, "control"), "", 0o200);
  file(join(so, "enable"), "0\n");
  file(join(so, "udev_path"), "\n");
  file(join(so, "info"), `Status: DEACTIVATED  Max Queue Depth: 0  SectorSize: 512  HwMaxSectors: 1024\n`, 0o444);
  return so;
}

/** rmdir of a storage object and its HBA (rtslib removes both). */
export function removeStorageObject(soDir: string): void {
  rmTree(soDir);
  const hba = dirname(soDir);
  if (readdirSync(hba).every((n) => !lstatSync(join(hba, n)).isDirectory())) rmTree(hba);
}

// ---- iSCSI targets ----------------------------------------------------------------------------

const TPG_ATTRIBS: Record<string, string> = {
  authentication: "1",
  cache_dynamic_acls: "0",
  default_cmdsn_depth: "64",
  default_erl: "0",
  demo_mode_discovery: "1",
  demo_mode_write_protect: "1",
  fabric_prot_type: "0",
  generate_node_acls: "0",
  login_keys_workaround: "1",
  login_timeout: "15",
  netif_timeout: "2",
  prod_mode_write_protect: "0",
  t10_pi: "0",
  tpg_enabled_sendtargets: "1",
};

export const TPG_PARAMS: Record<string, string> = {
  AuthMethod: "CHAP,None",
  DataDigest: "CRC32C,None",
  DataPDUInOrder: "Yes",
  DataSequenceInOrder: "Yes",
  DefaultTime2Retain: "20",
  DefaultTime2Wait: "2",
  ErrorRecoveryLevel: "0",
  FirstBurstLength: "65536",
  HeaderDigest: "CRC32C,None",
  IFMarkInt: "Reject",
  IFMarker: "No",
  ImmediateData: "Yes",
  InitialR2T: "Yes",
  MaxBurstLength: "262144",
  MaxConnections: "1",
  MaxOutstandingR2T: "1",
  MaxRecvDataSegmentLength: "8192",
  MaxXmitDataSegmentLength: "262144",
  OFMarkInt: "Reject",
  OFMarker: "No",
  TargetAlias: "LIO Target",
};

// The kernel starts with empty credentials (rtslib writes "NULL" to clear them later).
const AUTH = (): Record<string, string> => ({ userid: "\n", password: "\n", userid_mutual: "\n", password_mutual: "\n", authenticate_target: "0\n" });

export const targetDir = (t: string, wwn: string) => join(t, "iscsi", wwn);
export const tpgDir = (t: string, wwn: string, tag: number) => join(t, "iscsi", wwn, `tpgt_${tag}`);

export function createTarget(t: string, wwn: string): string {
  const d = targetDir(t, wwn);
  mkdirSync(d);
  mkdirSync(join(d, "fabric_statistics", "iscsi_instance"), { recursive: true });
  return d;
}

export function createTpg(t: string, wwn: string, tag: number): string {
  const d = tpgDir(t, wwn, tag);
  mkdirSync(d);
  file(join(d, "enable"), "0\n");
  file(join(d, "dynamic_sessions"), "", 0o444);
  file(join(d, "rtpi"), `${tag}\n`);
  files(join(d, "attrib"), Object.fromEntries(Object.entries(TPG_ATTRIBS).map(([k, v]) => [k, `${v}\n`])));
  files(join(d, "param"), Object.fromEntries(Object.entries(TPG_PARAMS).map(([k, v]) => [k, `${v}\n`])));
  files(join(d, "auth"), AUTH());
  for (const sub of ["np", "lun", "acls", "fabric_statistics"]) mkdirSync(join(d, sub));
  return d;
}

export function createPortal(tpg: string, name: string): string {
  const d = join(tpg, "np", name);
  mkdirSync(d);
  files(d, { iser: "0\n", cxgbit: "0\n" });
  return d;
}

export function createAcl(tpg: string, wwn: string): string {
  const d = join(tpg, "acls", wwn);
  mkdirSync(d);
  files(join(d, "attrib"), {
    authentication: "-1\n",
    dataout_timeout: "3\n",
    dataout_timeout_retries: "5\n",
    default_erl: "0\n",
    nopin_response_timeout: "30\n",
    nopin_timeout: "15\n",
    random_datain_pdu_offsets: "0\n",
    random_datain_seq_offsets: "0\n",
    random_r2t_offsets: "0\n",
  });
  files(join(d, "auth"), AUTH());
  files(join(d, "param"), Object.fromEntries(Object.entries(TPG_PARAMS).map(([k, v]) => [k, `${v}\n`])), 0o444);
  mkdirSync(join(d, "fabric_statistics"));
  file(join(d, "cmdsn_depth"), "64\n");
  file(join(d, "tag"), "\n");
  file(join(d, "info"), `No active iSCSI Session for Initiator Endpoint: ${wwn}\n`, 0o444);
  return d;
}

// configfs shows symlinks relative to the link's directory.
function link(target: string, at: string): void {
  symlinkSync(relative(dirname(at), target), at);
}

/** lun/lun_N with a symlink named `alias` to the storage object. */
export function createLun(tpg: string, lun: number, soDir: string, alias: string): string {
  const d = join(tpg, "lun", `lun_${lun}`);
  mkdirSync(d);
  files(d, {
    alua_tg_pt_gp: "TG Port Alias: default_tg_pt_gp\nTG Port Group ID: 0\nTG Port Primary Access State: Active/Optimized\n",
    alua_tg_pt_offline: "0\n",
    alua_tg_pt_status: "None\n",
    alua_tg_pt_write_md: "0\n",
  });
  mkdirSync(join(d, "statistics"));
  link(soDir, join(d, alias));
  setSoStatus(soDir);
  return d;
}

/** acls/<wwn>/lun_M with a symlink named `alias` to lun/lun_N. */
export function createMappedLun(aclDir: string, mapped: number, tpgLunDir: string, alias: string, writeProtect: boolean): string {
  const d = join(aclDir, `lun_${mapped}`);
  mkdirSync(d);
  file(join(d, "write_protect"), writeProtect ? "1\n" : "0\n");
  mkdirSync(join(d, "statistics"));
  link(tpgLunDir, join(d, alias));
  return d;
}

/** The symlink inside a LUN or mapped LUN directory, resolved. */
export function linkTarget(dir: string): { alias: string; target: string } | undefined {
  if (!existsSync(dir)) return undefined;
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (lstatSync(p).isSymbolicLink()) return { alias: n, target: resolve(dir, readlinkSync(p)) };
  }
  return undefined;
}

/** All TPG LUN directories (any target) whose link points at `soDir`. */
export function lunsOf(t: string, soDir: string): string[] {
  const out: string[] = [];
  const iscsi = join(t, "iscsi");
  if (!existsSync(iscsi)) return out;
  for (const w of readdirSync(iscsi)) {
    const td = join(iscsi, w);
    if (w === "discovery_auth" || !lstatSync(td).isDirectory()) continue;
    for (const tpg of readdirSync(td).filter((n) => n.startsWith("tpgt_"))) {
      const ld = join(td, tpg, "lun");
      for (const l of existsSync(ld) ? readdirSync(ld) : []) {
        if (linkTarget(join(ld, l))?.target === soDir) out.push(join(ld, l));
      }
    }
  }
  return out;
}

/** The info file's Status follows the export count, as the kernel's does. */
export function setSoStatus(soDir: string): void {
  const t = resolve(soDir, "..", "..", "..");
  const active = lunsOf(t, soDir).length > 0;
  const info = join(soDir, "info");
  if (!existsSync(info)) return;
  const old = readFileSync(info, "utf8");
  writeFileSync(info, old.replace(/Status: \w+/, `Status: ${active ? "ACTIVATED" : "DEACTIVATED"}`));
}

/** Remove a LUN directory: its mapped LUNs in every ACL first, then the link, then the dir. */
export function removeLun(tpg: string, lunDir: string): void {
  const acls = join(tpg, "acls");
  for (const a of existsSync(acls) ? readdirSync(acls) : []) {
    for (const m of readdirSync(join(acls, a)).filter((n) => /^lun_\d+$/.test(n))) {
      if (linkTarget(join(acls, a, m))?.target === lunDir) rmTree(join(acls, a, m));
    }
  }
  const so = linkTarget(lunDir);
  rmTree(lunDir);
  if (so) setSoStatus(so.target);
}

/** rmdir -r as configfs allows it: links unlinked, files (attributes) vanish with their dir. */
export function rmTree(p: string): void {
  if (!existsSync(p) && !isLink(p)) return;
  const st = lstatSync(p);
  if (st.isSymbolicLink() || !st.isDirectory()) {
    unlinkSync(p);
    return;
  }
  for (const n of readdirSync(p)) rmTree(join(p, n));
  rmdirSync(p);
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
