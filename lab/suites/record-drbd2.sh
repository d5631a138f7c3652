# Recordings of real DRBD 8.4 between two VMs (n1 drives, n2 via on_peer): connected, resync in
# progress (SyncSource/SyncTarget), Primary/Secondary, StandAlone/WFConnection, Outdated.
# Case prefix p2-; cases recorded on n2 end in -n2 (collected from n2's results disk).
source /lab/guest/lib.sh
setup='truncate -s 256M /var/tmp/drbd-r0.img
  L=$(losetup -f --show /var/tmp/drbd-r0.img)
  drbd_conf r0 0 $L 10.213.9.1:7789 10.213.9.2:7789
  sed -i "s/resync-rate 100M/resync-rate 4M/" /etc/drbd.d/r0.res
  modprobe drbd && drbdadm create-md --force r0 >/dev/null 2>&1 && drbdadm up r0'
eval "$setup" || { result drbd - "setup n1" FAIL; exit 1; }
on_peer "$setup" || { result drbd - "setup n2" FAIL; exit 1; }
both() { # CASE: record the state on both nodes
  drbd_record_state r0 "$1"
  on_peer "drbd_record_state r0 $1-n2" >/dev/null
}
drbd_wait r0 '_cstate=Connected' 120 || { result drbd - "connect" FAIL; exit 1; }
both p2-10-secondary-inconsistent-connected
rec drbd p2-11-wait-connect-connected drbdsetup wait-connect-resource r0 --wfc-timeout=5
rec drbd p2-12-primary-force drbdadm primary --force r0
sleep 3
both p2-20-primary-syncsource-resync
rec drbd p2-21-disk-options-resync-rate drbdadm disk-options --resync-rate=100M r0
drbd_wait r0 '_disk=UpToDate' 300 && drbd_wait r0 '_pdsk=UpToDate' 60
both p2-30-primary-secondary-uptodate-connected
on_peer 'rec drbd p2-31-primary-while-peer-primary-n2 drbdadm primary r0' >/dev/null
rec drbd p2-32-secondary drbdadm secondary r0
both p2-40-secondary-secondary-uptodate-connected
on_peer 'rec drbd p2-41-disconnect-n2 drbdadm disconnect r0' >/dev/null
sleep 2
both p2-50-wfconnection-standalone
on_peer 'rec drbd p2-51-outdate-n2 drbdadm outdate r0' >/dev/null
rec drbd p2-52-primary-peer-disconnected drbdadm primary r0
dd if=/dev/urandom of=/dev/drbd0 bs=1M count=16 oflag=direct status=none
both p2-60-primary-wfconnection-peer-outdated-standalone
on_peer 'rec drbd p2-61-primary-outdated-n2 drbdadm primary r0' >/dev/null
on_peer 'drbdadm disk-options --resync-rate=1M r0; rec drbd p2-62-connect-n2 drbdadm connect r0' >/dev/null
sleep 4
both p2-70-primary-syncsource-peer-synctarget-resync
on_peer 'rec drbd p2-71-primary-inconsistent-synctarget-n2 drbdadm primary r0' >/dev/null
on_peer 'drbdadm disk-options --resync-rate=100M r0' >/dev/null
drbd_wait r0 '_pdsk=UpToDate' 300
both p2-80-primary-secondary-after-resync
on_peer 'rec drbd p2-81-down-n2 drbdadm down r0' >/dev/null
sleep 2
both p2-90-primary-peer-down
rec drbd p2-91-secondary drbdadm secondary r0
rec drbd p2-92-down drbdadm down r0
result drbd - "recordings (two VMs)" PASS
