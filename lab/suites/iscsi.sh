# SAN initiator suite: ocf:tsstor:iscsi on the real kernel (open-iscsi, dm-multipath), one
# resource per portal of an array that is not managed here (lab/guest/san.sh: LUNs 1 and 2 at
# 127.0.0.1:3260 and 127.0.0.10:3260), multipath over both paths, ext4 on the map; a path
# logged out and a path cut while I/O goes on, stop refusing under the last path of a mounted map,
# CHAP and mutual CHAP from secret files. Then upstream's ocf:heartbeat:iscsi through the same
# cases as a reference (rows "heartbeat:iscsi"; informative).
source /lab/guest/lib.sh
source /lab/guest/san.sh
san_array_up || { result - - "array set up" FAIL "$(tail -1 /tmp/array-setup.log)"; exit 1; }
san_multipath_up
RA_TIMEOUT_MS=60000
MNT=/mnt/san
mkdir -p $MNT /etc/tsstor
# secrets of their own: another suite's (and upstream agents' output of them) may be in the logs
printf 'sanchapsecret1\n' > /etc/tsstor/chap.secret
printf 'sanarraysecret2\n' > /etc/tsstor/chap-in.secret
chmod 600 /etc/tsstor/chap.secret /etc/tsstor/chap-in.secret

writes_ok() { # write 4 MiB through the mount, synced, and read it back
  head -c 4194304 /dev/urandom > /tmp/pattern
  timeout 90 dd if=/tmp/pattern of=$MNT/data bs=1M oflag=direct status=none &&
  timeout 30 cmp /tmp/pattern $MNT/data
}
session_at() { # PORTAL IQN: a session to IQN at exactly PORTAL exists
  iscsiadm -m session 2>/dev/null | awk -v p="$1," -v t="$2" 'index($3, p) == 1 && $4 == t { f = 1 } END { exit !f }'
}
no_session_at() { ! session_at "$@"; }
one_session_per_portal() {
  local n; n=$(iscsiadm -m session 2>/dev/null | grep -c " $ARRAY_IQN ")
  echo "sessions to the array: $n"; [ "$n" = 2 ] && session_at $P1 $ARRAY_IQN && session_at $P2 $ARRAY_IQN
}

suite() { # PROVIDER
  local prov=$1 A=iscsi; PROV=$1
  RA_DIR=/usr/lib/ocf/resource.d/$prov
  if [ "$prov" = tsstor ]; then need_agent $A || return 0; fi
  san_initiator_reset; san_restore
  # ports spelled out: upstream refuses a multi-portal target otherwise ("can't handle multihomed hosts")
  local R1=(portal=$P1 target=$ARRAY_IQN) R2=(portal=$P2 target=$ARRAY_IQN)
  RA_INSTANCE=path1
  expect 7 $A monitor "probe before start" "${R1[@]}"
  expect 0 $A start "start path 1 (discovery, login)" "${R1[@]}"
  expect 0 $A monitor "monitor path 1" "${R1[@]}" CRM_meta_interval=120000
  check $A start "LUN 1 and 2 by-path links through path 1" sh -c "test -e /dev/disk/by-path/ip-$P1-iscsi-$ARRAY_IQN-lun-1 && test -e /dev/disk/by-path/ip-$P1-iscsi-$ARRAY_IQN-lun-2"
  RA_INSTANCE=path2
  expect 7 $A monitor "probe path 2 while path 1 is logged in" "${R2[@]}"
  expect 0 $A start "start path 2" "${R2[@]}"
  check $A start "one session per portal" one_session_per_portal
  local d1 d2 map
  d1=$(san_disk $P1 1); d2=$(san_disk $P2 1)
  map=$(san_map_of "$d1")
  check $A start "one multipath map over both paths of LUN 1 ($d1 $d2: $map)" san_wait_paths "$map" 2
  if [ -n "$map" ] && mkfs.ext4 -q -F /dev/mapper/"$map" && mount /dev/mapper/"$map" $MNT; then
    check $A start "ext4 on the map: writes read back" writes_ok
  else result $A start "ext4 on the multipath map" FAIL "map ${map:-none}"; fi
  # a path logged out by the agent while the filesystem is in use: the map keeps the other path
  RA_INSTANCE=path1
  expect 0 $A stop "stop path 1 under a mounted map with path 2 live" "${R1[@]}"
  check $A stop "path 1's session gone, path 2's kept" sh -c "! iscsiadm -m session | grep -q ' $P1,' && iscsiadm -m session | grep -q ' $P2,'"
  check $A stop "I/O goes on through path 2" writes_ok
  expect 0 $A start "start path 1 again" "${R1[@]}"
  d1=$(san_disk $P1 1)
  check $A start "the map has both paths again" san_wait_paths "$map" 2
  # a cut path: its monitor fails, I/O continues through the other
  san_cut 127.0.0.10 3260
  check $A monitor "I/O goes on while path 2 is cut" writes_ok
  RA_INSTANCE=path2
  local i rc=0
  for i in $(seq 1 30); do ra $A monitor "${R2[@]}" CRM_meta_interval=120000; rc=$?; [ $rc != 0 ] && break; sleep 1; done
  if [ $rc = 1 ]; then result $A monitor "monitor of the cut path fails (after ${i} s)" PASS "$(grep -m1 exit-reason $RA_LOG | cut -c1-120)"
  else result $A monitor "monitor of the cut path fails" FAIL "rc=$rc"; fi
  RA_INSTANCE=path1
  expect 0 $A monitor "monitor of the live path" "${R1[@]}" CRM_meta_interval=120000
  RA_INSTANCE=path2
  expect 0 $A stop "stop the cut path (the map keeps path 1)" "${R2[@]}"
  san_restore
  expect 0 $A start "start path 2 after the link is back" "${R2[@]}"
  check $A start "the map has both paths again" san_wait_paths "$map" 2
  # stop refuses to remove the last path under a mounted filesystem
  RA_INSTANCE=path1
  expect 0 $A stop "stop path 1 (path 2 live)" "${R1[@]}"
  RA_INSTANCE=path2
  expect 1 $A stop "stop refuses: last live path of the mounted map" "${R2[@]}"
  check $A stop "the exit reason names the map and the mount" grep -q "last live path of multipath map $map.*mounted on $MNT" $RA_LOG
  check $A stop "still logged in, data still readable" sh -c "iscsiadm -m session | grep -q ' $P2,' && cmp /tmp/pattern $MNT/data"
  umount $MNT
  expect 0 $A stop "stop path 2 after the unmount" "${R2[@]}"
  check $A stop "no session left" sh -c "! iscsiadm -m session 2>/dev/null | grep -q ."
  # configuration errors
  RA_INSTANCE=wrong
  expect 6 $A start "target not offered at the portal: 6" portal=$PCHAP target=$ARRAY_IQN
  # CHAP and mutual CHAP from files
  RA_INSTANCE=chap
  local C=(portal=$PCHAP target=$CHAP_IQN chap_username=labuser chap_password_file=/etc/tsstor/chap.secret chap_username_in=labarray chap_password_in_file=/etc/tsstor/chap-in.secret)
  if [ "$prov" = tsstor ]; then
    expect 1 $A start "CHAP target without credentials: refused" portal=$PCHAP target=$CHAP_IQN
    expect 0 $A start "start with CHAP and mutual CHAP from files" "${C[@]}"
    check $A start "the LUN behind CHAP is there" test -e /dev/disk/by-path/ip-$PCHAP-iscsi-$CHAP_IQN-lun-1
    check $A start "no secret in argv logs or agent output" sh -c "! grep -rqs -e sanchapsecret1 -e sanarraysecret2 /tmp/ra-all.log"
    expect 0 $A stop "stop (CHAP)" "${C[@]}"
    printf 'wrongsecret99\n' > /etc/tsstor/chap.secret
    expect 1 $A start "a wrong secret: login refused" "${C[@]}"
    printf 'sanchapsecret1\n' > /etc/tsstor/chap.secret
  fi
  san_initiator_reset
}

suite tsstor
# upstream, through the cases it has parameters for
reference && suite heartbeat
multipathd shutdown 2>/dev/null || kill "$(pidof multipathd)" 2>/dev/null
true
