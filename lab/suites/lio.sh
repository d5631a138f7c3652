# LIO suite: iSCSITarget + iSCSILogicalUnit (implementation=lio-t) against real targetcli/configfs,
# with the kernel's open-iscsi initiator writing and reading data over 127.0.0.1, CHAP and an ACL,
# partial-state repair and a backing path that vanishes. Runs the tsstor agents in the payload and,
# for comparison, the upstream ocf:heartbeat agents (rows "heartbeat:..."; informative).
source /lab/guest/lib.sh
CFS=/sys/kernel/config/target
INIT=iqn.1993-08.org.debian:01:labinit
# target and initiator set up here (lib.sh), not left over from record-lio
lio_target_up && iscsi_initiator_up "$INIT" || { result iSCSITarget - "LIO target and iSCSI initiator set up" FAIL; exit 1; }

lun_dev() { echo "/dev/disk/by-path/ip-127.0.0.1:3260-iscsi-$1-lun-$2"; }
login() { # IQN USER PASS
  iscsiadm -m discovery -t st -p 127.0.0.1 >/dev/null &&
  iscsiadm -m node -T "$1" -p 127.0.0.1 -o update -n node.session.auth.authmethod -v CHAP &&
  iscsiadm -m node -T "$1" -p 127.0.0.1 -o update -n node.session.auth.username -v "$2" &&
  iscsiadm -m node -T "$1" -p 127.0.0.1 -o update -n node.session.auth.password -v "$3" &&
  iscsiadm -m node -T "$1" -p 127.0.0.1 --login
}
logout() { iscsiadm -m node -T "$1" -p 127.0.0.1 --logout >/dev/null 2>&1; iscsiadm -m node -T "$1" -o delete >/dev/null 2>&1; true; }
one_targetcli() { local n; n=$(wc -l < /tmp/tcwrap/count); echo "targetcli processes: $n"; [ "$n" = 1 ]; }
sees_ids() { # IQN LUN VENDOR MODEL: the initiator's SCSI device reports them
  local dev; dev=$(lun_dev "$1" "$2"); wait_file "$dev" || { echo "no $dev"; return 1; }
  local b; b=$(basename "$(readlink -f "$dev")")
  echo "vendor=$(cat /sys/block/$b/device/vendor) model=$(cat /sys/block/$b/device/model)"
  grep -q "^$3 *\$" /sys/block/$b/device/vendor && grep -q "^$4 *\$" /sys/block/$b/device/model
}
wait_file() { for _ in $(seq 1 30); do [ -e "$1" ] && return 0; sleep 1; done; return 1; }
# data: write a pattern through iSCSI, read it back from the backing file
data_roundtrip() { # IQN LUN BACKING
  local dev; dev=$(lun_dev "$1" "$2")
  wait_file "$dev" || { echo "no $dev"; return 1; }
  head -c 1048576 /dev/urandom > /tmp/pattern
  dd if=/tmp/pattern of="$dev" bs=1M count=1 seek=3 oflag=direct status=none &&
  cmp <(dd if="$3" bs=1M skip=3 count=1 status=none) /tmp/pattern &&
  cmp <(dd if="$dev" bs=1M skip=3 count=1 iflag=direct status=none) /tmp/pattern
}

suite() { # PROVIDER
  local prov=$1 T=iSCSITarget U=iSCSILogicalUnit; PROV=$1
  RA_DIR=/usr/lib/ocf/resource.d/$prov
  if [ "$prov" = tsstor ]; then need_agent $T || return 0; fi
  local IQN=iqn.2003-01.org.tsstor.lab:$prov
  truncate -s 64M /var/tmp/$prov-lun0.img /var/tmp/$prov-lun1.img
  local L0 L1; L0=$(losetup -f --show /var/tmp/$prov-lun0.img); L1=$(losetup -f --show /var/tmp/$prov-lun1.img)
  ln -sf "$L1" /run/$prov-lun1
  local TP=(implementation=lio-t iqn=$IQN portals=127.0.0.1:3260 allowed_initiators=$INIT
    incoming_username=labuser incoming_password=labsecret12)
  RA_INSTANCE=tgt
  expect 7 $T monitor "probe before start" "${TP[@]}"
  expect 0 $T start "start" "${TP[@]}"
  expect 0 $T monitor "monitor running" "${TP[@]}"
  check $T start "portal 127.0.0.1:3260 exists" test -d "$CFS/iscsi/$IQN/tpgt_1/np/127.0.0.1:3260"
  check $T start "ACL for the initiator exists" test -d "$CFS/iscsi/$IQN/tpgt_1/acls/$INIT"
  check $T start "CHAP secret in no agent output or log" sh -c "! grep -rqs labsecret12 /tmp/ra-all.log /var/log"
  expect 0 $T start "double start" "${TP[@]}"
  local UP0=(implementation=lio-t target_iqn=$IQN lun=0 path=$L0 allowed_initiators=$INIT)
  local UP1=(implementation=lio-t target_iqn=$IQN lun=1 path=/run/$prov-lun1 allowed_initiators=$INIT)
  RA_INSTANCE=lun0
  expect 7 $U monitor "probe before start" "${UP0[@]}"
  expect 0 $U start "start (block)" "${UP0[@]}"
  expect 0 $U monitor "monitor running" "${UP0[@]}"
  RA_INSTANCE=lun1
  expect 0 $U start "start (path is a symlink)" "${UP1[@]}"
  # vendor/product ids: the kernel refuses them once a LUN exports the backstore, and targetcli
  # has no command for them; tsstor writes them while its one targetcli process waits.
  truncate -s 16M /var/tmp/$prov-lun2.img
  local UP2=(implementation=lio-t target_iqn=$IQN lun=2 path=/var/tmp/$prov-lun2.img liot_bstype=fileio
    allowed_initiators=$INIT scsi_sn=labsn0002 vendor_id=TSSTOR product_id=labdisk)
  mkdir -p /tmp/tcwrap
  printf '#!/bin/sh\necho x >> /tmp/tcwrap/count\nexec /usr/bin/targetcli "$@"\n' > /tmp/tcwrap/targetcli
  chmod +x /tmp/tcwrap/targetcli
  RA_INSTANCE=lun2
  : > /tmp/tcwrap/count
  PATH=/tmp/tcwrap:$PATH expect 0 $U start "start with vendor/product ids (fileio)" "${UP2[@]}"
  check $U start "one targetcli process for it" one_targetcli
  check $U start "vendor and product id in configfs" sh -c "grep -qx TSSTOR $CFS/core/fileio_*/lun2/wwn/vendor_id && grep -qx labdisk $CFS/core/fileio_*/lun2/wwn/product_id"
  expect 0 $U monitor "monitor with vendor/product ids" "${UP2[@]}"
  RA_INSTANCE=lun0
  if login "$IQN" labuser labsecret12 >/tmp/login.log 2>&1; then
    result $T start "initiator logs in with CHAP" PASS
    check $U start "data written over iSCSI reads back (LUN 0)" data_roundtrip "$IQN" 0 /var/tmp/$prov-lun0.img
    check $U start "data written over iSCSI reads back (LUN 1)" data_roundtrip "$IQN" 1 /var/tmp/$prov-lun1.img
    check $U start "the initiator sees vendor and product id (LUN 2)" sees_ids "$IQN" 2 TSSTOR labdisk
  else
    result $T start "initiator logs in with CHAP" FAIL "$(tail -1 /tmp/login.log)"
  fi
  logout "$IQN"
  if login "$IQN" labuser wrongsecret99 >/tmp/login.log 2>&1; then
    result $T start "wrong CHAP secret refused" FAIL; logout "$IQN"
  else result $T start "wrong CHAP secret refused" PASS; fi
  logout "$IQN"
  # a changed product id on the exported LUN: LUN dropped, id written, LUN back, one targetcli
  RA_INSTANCE=lun2
  UP2[${#UP2[@]}-1]=product_id=labdisk2
  : > /tmp/tcwrap/count
  PATH=/tmp/tcwrap:$PATH expect 0 $U start "start corrects a changed product id" "${UP2[@]}"
  check $U start "one targetcli process for the correction" one_targetcli
  check $U start "corrected product id in configfs" sh -c "grep -qx labdisk2 $CFS/core/fileio_*/lun2/wwn/product_id"
  expect 0 $U monitor "monitor after the correction" "${UP2[@]}"
  expect 0 $U stop "stop (fileio, ids)" "${UP2[@]}"
  check $U stop "fileio backstore removed" sh -c "! ls -d $CFS/core/fileio_*/lun2 2>/dev/null | grep -q ."
  # partial state: a portal and the ACL removed behind the agent's back
  RA_INSTANCE=tgt
  targetcli /iscsi/$IQN/tpg1/portals delete 127.0.0.1 3260 >/dev/null 2>&1
  ra $T monitor "${TP[@]}"; result $T monitor "portal deleted behind its back (informative)" PASS "rc=$?"
  expect 0 $T start "start repairs a missing portal" "${TP[@]}"
  check $T start "portal back after repair" test -d "$CFS/iscsi/$IQN/tpgt_1/np/127.0.0.1:3260"
  RA_INSTANCE=lun0
  targetcli /iscsi/$IQN/tpg1/luns delete lun0 >/dev/null 2>&1
  ra $U monitor "${UP0[@]}"; local mrc=$?
  if [ $mrc != 0 ]; then result $U monitor "LUN deleted behind its back is not running" PASS "rc=$mrc"
  else result $U monitor "LUN deleted behind its back is not running" FAIL "rc=0"; fi
  expect 0 $U start "start with a leftover backstore" "${UP0[@]}"
  expect 0 $U monitor "monitor after repair" "${UP0[@]}"
  # the backing path vanishes before stop (upstream #1316: backstore left holding the device)
  RA_INSTANCE=lun1
  rm -f /run/$prov-lun1
  expect 0 $U stop "stop after the path vanished" "${UP1[@]}"
  check $U stop "no backstore left holding the device" sh -c "! grep -rqs '$L1' $CFS/core/*/*/udev_path"
  expect 7 $U monitor "monitor after stop" "${UP1[@]}"
  RA_INSTANCE=lun0
  expect 0 $U stop "stop" "${UP0[@]}"
  expect 0 $U stop "double stop" "${UP0[@]}"
  expect 7 $U monitor "monitor after stop" "${UP0[@]}"
  check $U stop "backstore removed" sh -c "! grep -rqs '$L0' $CFS/core/*/*/udev_path"
  RA_INSTANCE=tgt
  expect 0 $T stop "stop" "${TP[@]}"
  expect 0 $T stop "double stop" "${TP[@]}"
  expect 7 $T monitor "monitor after stop" "${TP[@]}"
  check $T stop "target removed from configfs" test ! -e "$CFS/iscsi/$IQN"
  # a portal the kernel cannot listen on: another target's wildcard holds the port
  local W=(implementation=lio-t iqn=$IQN-w portals=0.0.0.0:3270) S=(implementation=lio-t iqn=$IQN-s portals=127.0.0.1:3270)
  RA_INSTANCE=wild
  expect 0 $T start "start with the wildcard portal 0.0.0.0:3270" "${W[@]}"
  RA_INSTANCE=spec
  expect 1 $T start "127.0.0.1:3270 beside another target's 0.0.0.0:3270 fails" "${S[@]}"
  check $T start "the reason names the other target's portal" grep -q "beside 0.0.0.0:3270 of $IQN-w" "$RA_LOG"
  expect 0 $T stop "stop after that failed start" "${S[@]}"
  check $T stop "no half-made target left" test ! -e "$CFS/iscsi/$IQN-s"
  RA_INSTANCE=wild
  expect 0 $T stop "stop (wildcard portal)" "${W[@]}"
  # bad input: an invalid IQN must be refused (upstream lio-t accepts anything)
  expect 6 $T validate-all "invalid iqn refused" implementation=lio-t iqn="not an iqn" portals=127.0.0.1:3260
  expect 6 $T validate-all "two portals the kernel cannot both listen on refused" implementation=lio-t iqn=$IQN portals="0.0.0.0:3272 127.0.0.1:3272"
  losetup -d "$L0" "$L1" 2>/dev/null
  targetcli clearconfig confirm=True >/dev/null 2>&1
}
suite tsstor
reference && suite heartbeat
exit 0 # results are in the rows; a non-zero exit means the suite itself broke
