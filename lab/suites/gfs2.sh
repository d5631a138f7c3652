# Filesystem with fstype=gfs2 (lock_dlm) on a disk both VMs share (serial shared2), as a clone
# mounted on n1 and n2: data written on one node read on the other, monitor depths 0/10/20, and
# the guards tested by breaking each: too few journals, a lock table of another cluster.
# tsstor first, then upstream ocf:heartbeat:Filesystem (rows "heartbeat:...").
source /lab/guest/lib.sh
DEV=/dev/disk/by-id/virtio-shared2
both_up='start_corosync && start_dlm && modprobe gfs2 && mkdir -p /mnt/gfs0'
eval "$both_up" && on_peer "$both_up" >/dev/null || { result Filesystem - "corosync + dlm_controld on both nodes" FAIL; exit 1; }
CLONE=(CRM_meta_clone_max=2 CRM_meta_clone_node_max=1 CRM_meta_globally_unique=false)
P=(device=$DEV directory=/mnt/gfs0 fstype=gfs2 "${CLONE[@]}")
peer_ra() {
  on_peer "RA_DIR=$RA_DIR RA_INSTANCE=$RA_INSTANCE; ra $(printf '%q ' "$@") >/dev/null 2>&1; echo rc=\$?; grep -h exit-reason \$RA_LOG | tail -1" 
}
mkfs() { mkfs.gfs2 -O -p lock_dlm "$@" $DEV >/dev/null 2>&1 && on_peer "blockdev --flushbufs $DEV" >/dev/null; blockdev --flushbufs $DEV; }

suite() {
  PROV=$1; local A=Filesystem; RA_DIR=/usr/lib/ocf/resource.d/$PROV; RA_INSTANCE=gfs0
  if [ "$PROV" = tsstor ]; then need_agent $A || return 0; fi
  mkfs -t lab:gfs0 -j 2 -J 16 || { result $A - "mkfs.gfs2" FAIL; return 1; }
  expect 7 $A monitor "n1: probe" "${P[@]}" CRM_meta_clone=0
  expect 0 $A start "n1: start (clone)" "${P[@]}" CRM_meta_clone=0
  local out rc
  out=$(peer_ra $A start "${P[@]}" CRM_meta_clone=1); rc=$(echo "$out" | sed -n 's/^rc=//p')
  [ "$rc" = 0 ] && result $A start "n2: start (clone)" PASS || result $A start "n2: start (clone)" FAIL "rc=$rc $(echo "$out" | tail -1)"
  echo "written on n1 $$" > /mnt/gfs0/from-n1; sync
  if [ "$(on_peer 'cat /mnt/gfs0/from-n1')" = "written on n1 $$" ]; then result $A start "file written on n1 read on n2" PASS
  else result $A start "file written on n1 read on n2" FAIL; fi
  for lvl in 0 10 20; do
    expect 0 $A monitor "n1: monitor depth $lvl" "${P[@]}" CRM_meta_clone=0 OCF_CHECK_LEVEL=$lvl CRM_meta_interval=20000
  done
  out=$(peer_ra $A monitor "${P[@]}" CRM_meta_clone=1 OCF_CHECK_LEVEL=20 CRM_meta_interval=20000); rc=$(echo "$out" | sed -n 's/^rc=//p')
  [ "$rc" = 0 ] && result $A monitor "n2: monitor depth 20" PASS || result $A monitor "n2: monitor depth 20" FAIL "rc=$rc"
  expect 0 $A stop "n1: stop" "${P[@]}" CRM_meta_clone=0
  out=$(peer_ra $A stop "${P[@]}" CRM_meta_clone=1); rc=$(echo "$out" | sed -n 's/^rc=//p')
  [ "$rc" = 0 ] && result $A stop "n2: stop" PASS || result $A stop "n2: stop" FAIL "rc=$rc"
  expect 0 $A stop "n1: double stop" "${P[@]}" CRM_meta_clone=0
  expect 7 $A monitor "n1: monitor after stop" "${P[@]}" CRM_meta_clone=0
  check $A stop "unmounted on both nodes" sh -c "! grep -q ' /mnt/gfs0 ' /proc/mounts"
  # guard 1: one journal for two mounting nodes (clone-max 2): refused before mounting on n1
  # (the guard), or at the latest when n2 mounts; either way the reason must name journals
  mkfs -t lab:gfs0 -j 1 -J 16
  ra $A start "${P[@]}" CRM_meta_clone=0; rc=$?
  if [ "$rc" != 0 ]; then
    if grep -qi journal "$RA_LOG"; then result $A start "too few journals refused on n1 (before mounting), reason names journals" PASS "rc=$rc"
    else result $A start "too few journals refused, reason names journals" FAIL "n1 rc=$rc, reason: $(grep -h exit-reason "$RA_LOG" | tail -1 | cut -c1-120)"; fi
  else
    out=$(peer_ra $A start "${P[@]}" CRM_meta_clone=1); rc=$(echo "$out" | sed -n 's/^rc=//p')
    if [ "$rc" != 0 ]; then
      if echo "$out" | grep -qi journal; then result $A start "too few journals refused on n2, reason names journals" PASS "rc=$rc"
      else result $A start "too few journals refused, reason names journals" FAIL "n1 mounted; n2 rc=$rc, reason: $(echo "$out" | tail -1 | cut -c1-120)"; fi
    else result $A start "too few journals refused" FAIL "rc=0 on both"; peer_ra $A stop "${P[@]}" >/dev/null; fi
  fi
  ra $A stop "${P[@]}" CRM_meta_clone=0 >/dev/null 2>&1
  # guard 2: the lock table names another cluster
  mkfs -t other:gfs0 -j 2 -J 16
  ra $A start "${P[@]}" CRM_meta_clone=0; rc=$?
  if [ "$rc" != 0 ]; then
    if grep -qiE 'lock ?table|cluster' "$RA_LOG"; then result $A start "n1: lock table of another cluster refused, reason says so" PASS "rc=$rc"
    else result $A start "n1: lock table of another cluster refused, reason says so" FAIL "rc=$rc, reason: $(grep -h exit-reason "$RA_LOG" | tail -1 | cut -c1-120)"; fi
  else result $A start "n1: lock table of another cluster refused" FAIL "rc=0"; ra $A stop "${P[@]}"; fi
  ra $A stop "${P[@]}" >/dev/null 2>&1
}
suite tsstor
reference && suite heartbeat
exit 0 # results are in the rows; a non-zero exit means the suite itself broke
