// The stack file's schema: one table per kind, read by the loader (cli/stack/file.ts) to check
// every key and type with its line, and printed as JSON Schema (`tsstor stack schema`) for editors.
// The keys of the bundled kinds are the `tsstor stack KIND` options without "--": a file and the
// command line give the same stack.

export type Field =
  | { t: "str"; doc: string; required?: boolean; enum?: readonly string[] }
  | { t: "int"; doc: string; required?: boolean; min: number; max: number }
  | { t: "bool"; doc: string }
  | { t: "strs"; doc: string; required?: boolean }
  | { t: "dict"; doc: string }
  | { t: "list"; doc: string; required?: boolean; of: Schema }
  | { t: "map"; doc: string; required?: boolean; keys: Schema };
export type Schema = Record<string, Field>;

const str = (doc: string, more: { required?: boolean; enum?: readonly string[] } = {}): Field => ({ t: "str", doc, ...more });
const strs = (doc: string, required = false): Field => ({ t: "strs", doc, required });
const bool = (doc: string): Field => ({ t: "bool", doc });
const int = (doc: string, min: number, max: number, required = false): Field => ({ t: "int", doc, min, max, required });
const req = { required: true };

export const KINDS = ["failover", "iscsi", "gfs2", "san", "drbd-fs"] as const;
export type Kind = (typeof KINDS)[number];

/**
 * `fencing:`, the `--fencing` options. No --sbd-init or --sbd-enable: a stack file is applied
 * again and again, and those erase the SBD devices or restart the cluster (run them once, by hand).
 */
export const FENCING: Schema = {
  method: str("how the cluster fences a node: sbd, watchdog, agent, drbd-quorum or none", { required: true, enum: ["sbd", "watchdog", "agent", "drbd-quorum", "none"] }),
  "corosync-conf": str("the cluster's corosync.conf (default /etc/corosync/corosync.conf)"),
  "sbd-device": strs("sbd: shared block devices, 1 to 3, the same path on every node"),
  watchdog: str("sbd/watchdog: watchdog device (default /dev/watchdog)"),
  "sbd-watchdog-timeout": int("sbd/watchdog: SBD_WATCHDOG_TIMEOUT in seconds", 1, 3600),
  "fence-agent": str("agent: the fence agent, e.g. fence_ipmilan"),
  "fence-param": strs("agent: NODE:KEY=VALUE or KEY=VALUE; no passwords"),
  "fence-host-map": strs("agent: NODE:PORT, one device for every node"),
  "fence-password-file": strs("agent: FILE or NODE:FILE holding the password"),
  "on-no-quorum": str("drbd-quorum: io-error or suspend-io", { enum: ["io-error", "suspend-io"] }),
  "skip-drbd-check": bool("the DRBD configuration is not readable here: list what it must contain instead"),
};

const COMMON: Schema = {
  kind: str("the stack's shape", { required: true, enum: KINDS }),
  name: str("the stack's name: the prefix of its resource ids (letter or _ first, then letters, digits, _ . -)", req),
  fencing: { t: "map", doc: "how the cluster fences a node", required: true, keys: FENCING },
  "monitor-interval": str("monitor interval of the stack's resources, e.g. 20s"),
};

const CHAP: Schema = {
  "chap-user": str("CHAP user"),
  "chap-secret-file": str("root-only file (mode 0600, same path on every node) whose first line is the CHAP secret"),
  "mutual-chap-user": str("mutual CHAP: the user the other side answers with"),
  "mutual-chap-secret-file": str("mutual CHAP: root-only file holding that secret"),
};

const id = str("resource id, instead of the one made from the stack's name and this item");

export const SCHEMAS: Record<Kind, Schema> = {
  failover: {
    ...COMMON,
    "lock-type": str("lvmlockd's lock type when an LV uses lvmlockd (default sanlock)", { enum: ["sanlock", "dlm"] }),
    drbd: {
      t: "list",
      doc: "DRBD resources: each a promotable clone; the group runs where every one is Primary",
      of: { resource: str("DRBD resource name", req), drbdconf: str("drbd.conf for the DRBD agent (default /etc/drbd.conf)"), "clone-max": int("clone-max (default 2)", 2, 32), id },
    },
    lvm: {
      t: "list",
      doc: "LVs activated exclusively on the node running the group",
      of: { vg: str("volume group", req), lv: str("logical volume", req), access: str("vg_access_mode (default lvmlockd)", { enum: ["lvmlockd", "system_id"] }), id },
    },
    filesystems: {
      t: "list",
      doc: "filesystems mounted on the node running the group, in this order",
      of: { device: str("block device", req), directory: str("mount point", req), fstype: str("filesystem type", { required: true, enum: ["ext4", "xfs", "ext3"] }), options: str("mount options"), id },
    },
    targets: {
      t: "list",
      doc: "iSCSI targets and their LUNs",
      of: {
        iqn: str("target IQN", req),
        luns: {
          t: "list",
          doc: "the target's LUNs",
          required: true,
          of: {
            lun: int("LUN number", 0, 16383, true),
            path: str("block device", req),
            "scsi-sn": str("SCSI serial number (scsi_sn): keep an existing LUN's, initiators such as ESXi identify the disk by it"),
            "scsi-id": str("SCSI id (scsi_id)"),
            id,
          },
        },
        implementation: str("iSCSI target implementation (default: the agent detects)", { enum: ["lio-t", "tgt"] }),
        portals: strs("portals ADDR:PORT (default 0.0.0.0:3260)"),
        initiators: strs("initiator IQNs allowed to log in"),
        "allow-any-initiator": bool("no initiator list: any host that reaches a portal may log in"),
        ...CHAP,
        tid: int("tgt target id", 1, 65535),
        id,
      },
    },
    ips: { t: "list", doc: "virtual IPs, started after every LUN", of: { address: str("ADDR[/PREFIX]", req), nic: str("interface (default: from the routing table)"), id } },
    services: { t: "list", doc: "agents started last, e.g. systemd:nfs-server", of: { agent: str("ocf:PROVIDER:TYPE, systemd:UNIT, lsb:SCRIPT or service:NAME", req), params: { t: "dict", doc: "the agent's parameters, NAME: VALUE" }, id } },
  },
  iscsi: {
    ...COMMON,
    "drbd-resource": str("DRBD resource backing the LUNs"),
    drbdconf: str("drbd.conf for the DRBD agent"),
    "no-drbd": bool("no DRBD: the LUN paths are a shared SAN LUN both nodes see"),
    iqn: str("target IQN", req),
    lun: strs("N:/dev/path", true),
    ip: strs("virtual IPs ADDR[/PREFIX]", true),
    nic: str("interface for the virtual IPs"),
    portal: strs("target portals ADDR:PORT"),
    initiator: strs("allowed initiator IQNs"),
    "allow-any-initiator": bool("no initiator list: any host that reaches a portal may log in"),
    ...CHAP,
    implementation: str("iSCSI target implementation", { enum: ["lio-t", "tgt"] }),
    tid: int("tgt target id", 1, 65535),
    "clone-max": int("DRBD clone-max", 2, 32),
  },
  gfs2: {
    ...COMMON,
    fs: strs("VG/LV:/mount/point", true),
    options: str("mount options"),
    "lock-type": str("lvmlockd lock type", { enum: ["dlm", "sanlock"] }),
  },
  san: {
    ...COMMON,
    target: str("the array's target IQN", req),
    portal: strs("the array's portals ADDR[:PORT], one path each", true),
    fs: strs("VG/LV:/mount/point for GFS2 on a shared LV"),
    "vm-vg": strs("shared VGs whose LVs are VM disks"),
    options: str("GFS2 mount options"),
    "lock-type": str("lvmlockd lock type", { enum: ["dlm", "sanlock"] }),
    "no-multipath": bool("one portal, LVM on the iSCSI disk itself"),
    ...CHAP,
  },
  "drbd-fs": {
    ...COMMON,
    "drbd-resource": str("DRBD resource", req),
    drbdconf: str("drbd.conf for the DRBD agent"),
    device: str("DRBD device, e.g. /dev/drbd0", req),
    directory: str("mount point", req),
    fstype: str("filesystem type (default ext4)"),
    options: str("mount options"),
    ip: str("virtual IP ADDR[/PREFIX]", req),
    nic: str("interface for the virtual IP"),
    service: str("an agent started last, e.g. systemd:nfs-server"),
    "service-param": strs("NAME=VALUE for service"),
    "clone-max": int("DRBD clone-max", 2, 32),
  },
};

/** JSON Schema (draft 2020-12) of the stack file, for editors; the loader is the authority. */
export function jsonSchema(): object {
  const field = (f: Field): object => {
    switch (f.t) {
      case "str":
        return { type: "string", description: f.doc, ...(f.enum ? { enum: f.enum } : {}) };
      case "int":
        return { type: "integer", description: f.doc, minimum: f.min, maximum: f.max };
      case "bool":
        return { type: "boolean", description: f.doc };
      case "strs":
        return { type: "array", description: f.doc, items: { type: "string" } };
      case "dict":
        return { type: "object", description: f.doc, additionalProperties: { type: "string" } };
      case "list":
        return { type: "array", description: f.doc, items: object(f.of) };
      case "map":
        return { ...object(f.keys), description: f.doc };
    }
  };
  const object = (s: Schema) => ({
    type: "object",
    additionalProperties: false,
    required: Object.entries(s).filter(([, f]) => "required" in f && f.required).map(([k]) => k),
    properties: Object.fromEntries(Object.entries(s).map(([k, f]) => [k, field(f)])),
  });
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "tsstor stack file",
    oneOf: KINDS.map((k) => {
      const o = object(SCHEMAS[k]) as { properties: Record<string, object> };
      o.properties.kind = { const: k };
      return o;
    }),
  };
}
