# Recordings of real DRBD 8.4 (the kernel's module, drbd-utils 9.22 handing off to its 8.4 tools)
# on one node with a peer that never answers: states Secondary/Primary, WFConnection/StandAlone,
# Inconsistent/UpToDate/Outdated, and drbdadm's exit codes.
source /lab/guest/lib.sh
DISK=$(readlink -f /dev/disk/by-id/virtio-data)
wipefs -a -q "$DISK" 2>/dev/null || true
# record-lvm may have used the data disk
vgremove -y vg0 >/dev/null 2>&1; pvremove -y "$DISK" >/dev/null 2>&1; wipefs -a -q "$DISK" 2>/dev/null
rec drbd 00-proc-drbd-no-module cat /proc/drbd
modprobe drbd
versions drbd drbdadm --version
versions drbd modinfo -F version drbd
versions drbd cat /proc/drbd
note drbd README "Recorded in the lab VM (Debian bookworm, kernel $(uname -r), drbd module $(modinfo -F version drbd)). Prefix s1- = single node whose peer (n2 at 127.0.0.2) never answers; p2- = two VMs n1/n2 (10.213.9.1/2). Resource r0, minor 0, disk $DISK (virtio serial data), internal meta-data."
drbd_conf r0 0 "$DISK" 127.0.0.1:7789 127.0.0.2:7789
rec drbd s1-01-status-unconfigured drbdsetup status r0
rec drbd s1-02-events2-unconfigured drbdsetup events2 --now r0
rec drbd s1-03-sh-status-unconfigured drbdsetup sh-status r0
rec drbd s1-04-role-unconfigured drbdadm role r0
rec drbd s1-05-sh-dev drbdadm sh-dev r0
rec drbd s1-06-sh-minor drbdadm sh-minor r0
rec drbd s1-07-sh-md-dev drbdadm sh-md-dev r0
rec drbd s1-08-sh-ll-dev drbdadm sh-ll-dev r0
rec drbd s1-09-sh-resources drbdadm sh-resources
rec drbd s1-10-sh-mod-parms drbdadm sh-mod-parms
rec drbd s1-11-dump drbdadm dump r0
rec drbd s1-12-dump-missing drbdadm dump nosuch
rec drbd s1-13-sh-dev-missing drbdadm sh-dev nosuch
rec drbd s1-14-create-md drbdadm create-md --force r0
rec drbd s1-15-up drbdadm up r0
drbd_record_state r0 s1-20-secondary-inconsistent-wfconnection
rec drbd s1-21-primary-no-uptodate drbdadm primary r0
rec drbd s1-22-primary-force drbdadm primary --force r0
drbd_record_state r0 s1-30-primary-uptodate-wfconnection
exec 7< /dev/drbd0
rec drbd s1-31-secondary-held-open drbdadm secondary r0
exec 7<&-
rec drbd s1-32-secondary drbdadm secondary r0
drbd_record_state r0 s1-40-secondary-uptodate-wfconnection
rec drbd s1-41-disconnect drbdadm disconnect r0
drbd_record_state r0 s1-50-secondary-uptodate-standalone
rec drbd s1-51-outdate drbdadm outdate r0
drbd_record_state r0 s1-60-secondary-outdated-standalone
rec drbd s1-61-primary-outdated drbdadm primary r0
rec drbd s1-62-connect drbdadm connect r0
rec drbd s1-63-wait-connect-timeout drbdsetup wait-connect-resource r0 --wfc-timeout=2 --degr-wfc-timeout=2 --outdated-wfc-timeout=2
rec drbd s1-64-adjust drbdadm adjust r0
rec drbd s1-65-adjust-skip-net drbdadm adjust --skip-net r0
rec drbd s1-66-down drbdadm down r0
rec drbd s1-67-down-again drbdadm down r0
drbd_record_state r0 s1-70-down
rec drbd s1-71-secondary-down drbdadm secondary r0
rec drbd s1-72-primary-down drbdadm primary r0
result drbd - "recordings (single node)" PASS
