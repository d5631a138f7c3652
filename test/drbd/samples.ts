// Recorded drbd-utils outputs the parsers are tested on.
// DRBD 9: a published sample (a two-node DRBD + iSCSI how-to, drbd-utils 9.x with a DRBD 9 kernel) and variants in the
// same format (field order of drbd-utils 9.22 print_notifications). DRBD 8.4: the sh-status
// format of drbd-utils' user/v84/drbdsetup.c sh_status_scmd.

/** From a published two-node DRBD + iSCSI how-to: `drbdsetup events2` initial state during the first sync. */
export const SEED_EVENTS2 = `exists resource name:iscsi_data role:Primary suspended:no force-io-failures:no may_promote:no promotion_score:10101
exists connection name:iscsi_data peer-node-id:1 conn-name:pcmk-2 connection:Connected role:Secondary
exists device name:iscsi_data volume:0 minor:1 backing_dev:/dev/vdb disk:UpToDate client:no quorum:yes
exists peer-device name:iscsi_data peer-node-id:1 conn-name:pcmk-2 volume:0 replication:SyncSource peer-disk:Inconsistent peer-client:no resync-suspended:no done:72.16
exists path name:iscsi_data peer-node-id:1 conn-name:pcmk-2 local:ipv4:10.192.6.74:7789 peer:ipv4:10.192.6.75:7789 established:yes
exists -
`;

/** The same stream continues with change events after "exists -"; the parser must stop there. */
export const SEED_EVENTS2_STREAM = `${SEED_EVENTS2}change peer-device name:iscsi_data peer-node-id:1 conn-name:pcmk-2 volume:0 done:0.86
change resource name:iscsi_data may_promote:no promotion_score:10102
change peer-device name:iscsi_data peer-node-id:1 conn-name:pcmk-2 volume:0 replication:Established peer-disk:UpToDate peer-client:no
`;

/** Three nodes, two volumes: c is a diskless client (tiebreaker), b disconnected; quorum lost on volume 1. */
export const EVENTS2_3NODE = `exists resource name:r1 role:Secondary suspended:no force-io-failures:no may_promote:no promotion_score:0
exists connection name:r1 peer-node-id:1 conn-name:b connection:Connecting role:Unknown
exists connection name:r1 peer-node-id:2 conn-name:c connection:Connected role:Secondary
exists device name:r1 volume:0 minor:20 backing_dev:/dev/vg/r1_0 disk:UpToDate client:no quorum:yes
exists device name:r1 volume:1 minor:21 backing_dev:/dev/vg/r1_1 disk:Outdated client:no quorum:no
exists peer-device name:r1 peer-node-id:1 conn-name:b volume:0 replication:Off peer-disk:DUnknown peer-client:no resync-suspended:no
exists peer-device name:r1 peer-node-id:1 conn-name:b volume:1 replication:Off peer-disk:DUnknown peer-client:no resync-suspended:no
exists peer-device name:r1 peer-node-id:2 conn-name:c volume:0 replication:Established peer-disk:Diskless peer-client:yes resync-suspended:no
exists peer-device name:r1 peer-node-id:2 conn-name:c volume:1 replication:Established peer-disk:Diskless peer-client:yes resync-suspended:no
exists path name:r1 peer-node-id:1 conn-name:b local:ipv4:10.232.0.1:7790 peer:ipv4:10.232.0.2:7790 established:no
exists path name:r1 peer-node-id:2 conn-name:c local:ipv4:10.232.0.1:7790 peer:ipv4:10.232.0.3:7790 established:yes
exists -
`;

/** This node is the diskless client; newer drbd-utils add "open:" (ignored). Another resource is interleaved. */
export const EVENTS2_CLIENT = `exists resource name:other role:Secondary suspended:no force-io-failures:no may_promote:yes promotion_score:10101
exists resource name:r2 role:Primary suspended:no force-io-failures:no may_promote:no promotion_score:1
exists connection name:r2 peer-node-id:0 conn-name:a connection:Connected role:Secondary
exists device name:other volume:0 minor:5 backing_dev:/dev/sdb disk:UpToDate client:no open:no quorum:yes
exists device name:r2 volume:0 minor:30 backing_dev:none disk:Diskless client:yes open:yes quorum:yes
exists peer-device name:r2 peer-node-id:0 conn-name:a volume:0 replication:Established peer-disk:UpToDate peer-client:no resync-suspended:no
exists -
`;

export const EVENTS2_EMPTY = "exists -\n";

/** drbdsetup-84 sh-status, Primary connected, one volume. */
export const SH_STATUS_84_PRIMARY = `_minor=1
_res_name=r0
_volume=0
_known=Configured

_cstate=Connected
_role=Primary
_peer=Secondary
_disk=UpToDate
_pdsk=UpToDate

_flags_susp=
_flags_aftr_isp=
_flags_peer_isp=
_flags_user_isp=

_resynced_percent=

_sh_status_process


`;

/** 8.4 Secondary, two volumes, volume 1 is SyncTarget. */
export const SH_STATUS_84_SYNC = `_minor=1
_res_name=r0
_volume=0
_known=Configured

_cstate=Connected
_role=Secondary
_peer=Primary
_disk=UpToDate
_pdsk=UpToDate

_flags_susp=
_flags_aftr_isp=
_flags_peer_isp=
_flags_user_isp=

_resynced_percent=

_sh_status_process


_minor=2
_res_name=r0
_volume=1
_known=Configured

_cstate=SyncTarget
_role=Secondary
_peer=Primary
_disk=Inconsistent
_pdsk=UpToDate

_flags_susp=
_flags_aftr_isp=
_flags_peer_isp=
_flags_user_isp=

_resynced_percent=36.4

_sh_status_process


`;

/** 8.4 disconnected after the peer died: WFConnection, peer unknown. */
export const SH_STATUS_84_WFC = SH_STATUS_84_PRIMARY.replace("_cstate=Connected", "_cstate=WFConnection")
  .replace("_role=Primary", "_role=Secondary")
  .replace("_peer=Secondary", "_peer=Unknown")
  .replace("_pdsk=UpToDate", "_pdsk=DUnknown");

/** 8.4: the minor exists but is unconfigured (after `drbdsetup down` on some kernels). */
export const SH_STATUS_84_UNCONFIGURED = `_minor=1
_res_name=r0
_volume=0
_known=Unconfigured

_cstate=Unconfigured
_role=
_peer=
_disk=
_pdsk=
_flags_susp=
_flags_aftr_isp=
_flags_peer_isp=
_flags_user_isp=
_resynced_percent=

_sh_status_process


`;

export const PROC_DRBD_9 = `version: 9.2.12 (api:2/proto:86-122)
GIT-hash: 2f5ec5a5e1b6f9d5b9c7d8e4c0a2c41fb8d5a8a1 build by root@build, 2024-11-05 10:12:41
Transports (api:21): tcp (9.2.12)
`;

export const PROC_DRBD_84 = `version: 8.4.11 (api:1/proto:86-101)
srcversion: 60F610B702CC05315B04B50 
 1: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----
    ns:1048508 nr:0 dw:0 dr:1050628 al:8 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0
`;
