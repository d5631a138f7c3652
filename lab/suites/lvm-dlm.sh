# lvmlockd + LVM-activate with dlm on two VMs sharing one virtual disk (serial shared1, the same
# raw image attached to both, as a SAN LUN): the lvmlockd agent, shared activation on both nodes,
# exclusive activation refused on the second node, an LV resized on one node then activated and
# refreshed on the other. tsstor agents first, then upstream ocf:heartbeat (rows "heartbeat:...").
source /lab/guest/lib.sh
SH=/dev/disk/by-id/virtio-shared1
both_up='start_corosync && start_dlm'
eval "$both_up" && on_peer "$both_up" >/dev/null || { result lvmlockd - "corosync + dlm_controld on both nodes" FAIL; exit 1; }
lvm_use_lvmlockd; on_peer lvm_use_lvmlockd >/dev/null
CLONE=(CRM_meta_clone_max=2 CRM_meta_clone_node_max=1 CRM_meta_globally_unique=false)
peer_ra() { # like ra, on n2: prints the rc
  on_peer "RA_DIR=$RA_DIR RA_INSTANCE=$RA_INSTANCE; ra $(printf '%q ' "$@") >/dev/null 2>&1; echo rc=\$?" | sed -n 's/^rc=//p'
}
peer_expect() { # RC AGENT ACTION CASE ARGS...
  local want=$1 agent=$2 action=$3 case=$4; shift 4
  local rc; rc=$(peer_ra "$agent" "$action" "$@")
  if [ "$rc" = "$want" ]; then result "$agent" "$action" "n2: $case" PASS "rc=$rc"
  else result "$agent" "$action" "n2: $case" FAIL "rc=$rc want $want"; fi
}
size_dm() { blockdev --getsize64 "/dev/mapper/vgc-$1" 2>/dev/null; }
size_lv() { lvs --noheadings --nosuffix --units b -o lv_size "vgc/$1" 2>/dev/null | tr -d ' '; }

lvmlockd_suite() { # PROVIDER: the lvmlockd agent's own lifecycle on n1 (and leaves it running)
  PROV=$1; RA_DIR=/usr/lib/ocf/resource.d/$PROV; RA_INSTANCE=lvmlockd
  if [ "$PROV" = tsstor ]; then need_agent lvmlockd || return 0; fi
  expect 7 lvmlockd monitor "probe"
  expect 0 lvmlockd start "start (dlm)"
  check lvmlockd start "daemon answers lvmlockctl --info" lvmlockctl --info
  expect 0 lvmlockd monitor "monitor running"
  expect 0 lvmlockd start "double start"
  expect 0 lvmlockd stop "stop"
  check lvmlockd stop "daemon gone" sh -c "! pidof lvmlockd"
  expect 0 lvmlockd stop "double stop"
  expect 7 lvmlockd monitor "monitor after stop"
}
lvmlockd_suite tsstor
reference && lvmlockd_suite heartbeat
PROV=""
start_lvmlockd && on_peer start_lvmlockd >/dev/null || { result lvmlockd - "lvmlockd on both nodes" FAIL; exit 1; }
vgcreate --shared vgc $SH >/tmp/vgc.log 2>&1 || { result LVM-activate - "vgcreate --shared (dlm)" FAIL "$(tail -1 /tmp/vgc.log)"; exit 1; }
lvcreate -an -L 64M -n lvs vgc >/dev/null 2>&1; lvcreate -an -L 64M -n lvx vgc >/dev/null 2>&1
vgchange --lock-stop vgc >/dev/null 2>&1
on_peer 'pvscan --cache >/dev/null 2>&1; vgs vgc' >/dev/null

suite() { # PROVIDER
  PROV=$1; local A=LVM-activate; RA_DIR=/usr/lib/ocf/resource.d/$PROV
  if [ "$PROV" = tsstor ]; then need_agent $A || return 0; fi
  local S=(vgname=vgc lvname=lvs vg_access_mode=lvmlockd activation_mode=shared "${CLONE[@]}")
  local X=(vgname=vgc lvname=lvx vg_access_mode=lvmlockd activation_mode=exclusive)
  RA_INSTANCE=lvs
  expect 0 $A start "n1: start shared" "${S[@]}" CRM_meta_clone=0
  peer_expect 0 $A start "start shared" "${S[@]}" CRM_meta_clone=1
  if dmsetup info vgc-lvs >/dev/null 2>&1 && on_peer 'dmsetup info vgc-lvs' >/dev/null 2>&1; then
    result $A start "shared: dm device on both nodes" PASS
  else result $A start "shared: dm device on both nodes" FAIL; fi
  expect 0 $A monitor "n1: monitor shared" "${S[@]}" CRM_meta_clone=0
  peer_expect 0 $A monitor "monitor shared" "${S[@]}" CRM_meta_clone=1
  RA_INSTANCE=lvx
  expect 0 $A start "n1: start exclusive" "${X[@]}"
  local rc; rc=$(peer_ra $A start "${X[@]}")
  if [ "$rc" != 0 ] && ! on_peer 'dmsetup info vgc-lvx' >/dev/null 2>&1; then
    result $A start "n2: exclusive start refused while n1 holds it" PASS "rc=$rc"
  else result $A start "n2: exclusive start refused while n1 holds it" FAIL "rc=$rc"; fi
  peer_ra $A stop "${X[@]}" >/dev/null
  # resize on n1 (holding ex), then n2 activates and sees the new size
  lvextend -L +32M vgc/lvx >/dev/null 2>&1
  local want; want=$(size_lv lvx)
  expect 0 $A stop "n1: stop exclusive" "${X[@]}"
  peer_expect 0 $A start "start exclusive after n1 stopped" "${X[@]}"
  local got; got=$(on_peer "blockdev --getsize64 /dev/mapper/vgc-lvx")
  if [ -n "$want" ] && [ "$got" = "$want" ]; then result $A start "n2: LV resized on n1 has its new size ($got)" PASS
  else result $A start "n2: LV resized on n1 has its new size" FAIL "n2 dm=$got lvs=$want"; fi
  peer_expect 0 $A stop "stop exclusive" "${X[@]}"
  # resize a shared-active LV on n1; n2's mapping is stale until refreshed
  RA_INSTANCE=lvs
  lvextend --lockopt skiplv -L +32M vgc/lvs >/tmp/lvextend.log 2>&1 || lvextend -L +32M vgc/lvs >>/tmp/lvextend.log 2>&1
  lvchange --refresh vgc/lvs >/dev/null 2>&1
  want=$(size_lv lvs)
  peer_ra $A start "${S[@]}" CRM_meta_clone=1 >/dev/null
  peer_ra $A monitor "${S[@]}" CRM_meta_clone=1 >/dev/null
  if [ "$PROV" = tsstor ]; then
    # the operator's step after lvextend elsewhere: change the reloadable `refresh` parameter;
    # Pacemaker calls reload-agent where the LV is active, and it runs lvchange --refresh
    peer_expect 0 $A reload-agent "reload-agent (refresh changed) after a resize on n1" "${S[@]}" refresh=1 CRM_meta_clone=1
    got=$(on_peer "blockdev --getsize64 /dev/mapper/vgc-lvs")
    if [ -n "$want" ] && [ "$got" = "$want" ]; then result $A reload-agent "n2: shared LV resized on n1 refreshed ($got)" PASS
    else result $A reload-agent "n2: shared LV resized on n1 refreshed" FAIL "n2 dm=$got lvs=$want"; fi
  else
    got=$(on_peer "blockdev --getsize64 /dev/mapper/vgc-lvs")
    if [ "$got" = "$want" ]; then result $A start "n2: shared LV resized on n1 refreshed by start/monitor ($got)" PASS
    else result $A start "n2: shared LV resized on n1 refreshed by start/monitor (informative)" SKIP "n2 dm=$got lvs=$want: needs lvchange --refresh"; fi
  fi
  expect 0 $A stop "n1: stop shared" "${S[@]}" CRM_meta_clone=0
  peer_expect 0 $A stop "stop shared" "${S[@]}" CRM_meta_clone=1
  local q='dmsetup info -c --noheadings -o name -S vg_name=vgc | grep -v "^No devices found" | grep -q .'
  if ! sh -c "$q" && ! on_peer "$q" >/dev/null; then result $A stop "nothing of vgc active on either node" PASS
  else result $A stop "nothing of vgc active on either node" FAIL "n1: $(dmsetup ls | tr '\n' ' ')"; fi
  vgchange --lock-stop vgc >/dev/null 2>&1; on_peer 'vgchange --lock-stop vgc' >/dev/null 2>&1
}
suite tsstor
reference && suite heartbeat
exit 0 # results are in the rows; a non-zero exit means the suite itself broke
