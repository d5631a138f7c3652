# LVM-activate (vg_access_mode=lvmlockd) on a shared VG locked with sanlock, one VM: exclusive and
# shared activation, VG-only activation, "lock start in progress", access-mode mismatch, and the
# lvmlockd agent's own start/monitor/stop when the payload has one that takes lock_type=sanlock.
# The tsstor agents run first, then the upstream ocf:heartbeat ones (rows "heartbeat:...").
source /lab/guest/lib.sh
modprobe dm_mod
truncate -s 1G /var/tmp/lvm-sanlock.img
PV=$(losetup -f --show /var/tmp/lvm-sanlock.img)
# a fresh lvmlockd (an earlier suite may have left one with another lock manager's global lock)
if pidof lvmlockd >/dev/null; then lvmlockctl --stop-lockspaces >/dev/null 2>&1; kill "$(pidof lvmlockd)"; sleep 1; fi
start_sanlock && start_lvmlockd || { result lvmlockd - "sanlock + lvmlockd daemons" FAIL; exit 1; }
t0=$(date +%s)
vgcreate --shared --lock-type sanlock vgl "$PV" >/tmp/vgcreate.log 2>&1 ||
  { result LVM-activate - "vgcreate --shared (sanlock)" FAIL "$(tail -1 /tmp/vgcreate.log)"; exit 1; }
progress "vgcreate --shared (sanlock): $(( $(date +%s) - t0 )) s"
lvcreate -an -L 32M -n lv0 vgl >/dev/null 2>&1 && lvcreate -an -L 32M -n lv1 vgl >/dev/null 2>&1
vgchange --lock-stop vgl >/dev/null 2>&1
# (with no dm device at all, dmsetup prints "No devices found" even with -S)
active() { dmsetup info -c --noheadings -o name -S "vg_name=vgl && lv_name=$1" 2>/dev/null | grep -v '^No devices found' | grep -q .; }
CLONE=(CRM_meta_clone_max=2 CRM_meta_clone_node_max=1 CRM_meta_clone=0 CRM_meta_globally_unique=false)

suite() { # PROVIDER
  local prov=$1 A=LVM-activate; PROV=$1
  RA_DIR=/usr/lib/ocf/resource.d/$prov
  if [ "$prov" = tsstor ]; then need_agent $A || return 0; fi
  local EX=(vgname=vgl lvname=lv0 vg_access_mode=lvmlockd activation_mode=exclusive)
  local SH=(vgname=vgl lvname=lv1 vg_access_mode=lvmlockd activation_mode=shared "${CLONE[@]}")
  local VG=(vgname=vgl vg_access_mode=lvmlockd activation_mode=exclusive)
  RA_INSTANCE=lv0
  expect 7 $A monitor "probe (lockspace not started)" "${EX[@]}"
  expect 0 $A start "start exclusive (starts the lockspace)" "${EX[@]}"
  check $A start "exclusive: dm device present" active lv0
  check $A start "exclusive: LV lock held ex" sh -c "lvmlockctl --info | grep -q 'LK LV ex'"
  expect 0 $A monitor "monitor running" "${EX[@]}"
  expect 0 $A start "double start" "${EX[@]}"
  RA_INSTANCE=lv1
  expect 0 $A start "start shared (clone)" "${SH[@]}"
  check $A start "shared: LV lock held sh" sh -c "lvmlockctl --info | grep -q 'LK LV sh'"
  expect 0 $A monitor "monitor shared" "${SH[@]}"
  expect 0 $A stop "stop shared" "${SH[@]}"
  check $A stop "shared: dm device gone" sh -c "! dmsetup info vgl-lv1 >/dev/null 2>&1"
  RA_INSTANCE=lv0
  expect 0 $A stop "stop exclusive" "${EX[@]}"
  check $A stop "exclusive: dm device gone" sh -c "! dmsetup info vgl-lv0 >/dev/null 2>&1"
  expect 0 $A stop "double stop" "${EX[@]}"
  expect 7 $A monitor "monitor after stop" "${EX[@]}"
  # a lock start still in progress when start runs (upstream #1287)
  vgchange --lock-stop vgl >/dev/null 2>&1
  vgchange --lock-start --lock-opt nowait vgl >/dev/null 2>&1
  expect 0 $A start "start while lock start in progress" "${EX[@]}"
  expect 0 $A stop "stop" "${EX[@]}"
  # whole-VG activation (no lvname)
  RA_INSTANCE=vg
  expect 0 $A start "start VG (all LVs)" "${VG[@]}"
  check $A start "VG: both LVs active" sh -c "dmsetup info vgl-lv0 >/dev/null && dmsetup info vgl-lv1 >/dev/null"
  expect 0 $A monitor "monitor VG" "${VG[@]}"
  expect 0 $A stop "stop VG" "${VG[@]}"
  check $A stop "VG: no LV active" sh -c "! dmsetup info -c --noheadings -o name -S vg_name=vgl | grep -v '^No devices found' | grep -q ."
  # configuration errors
  RA_INSTANCE=bad
  ra $A start vgname=vgl lvname=lv0 vg_access_mode=system_id activation_mode=exclusive; local rc=$?
  if [ $rc != 0 ]; then result $A start "vg_access_mode mismatch refused" PASS "rc=$rc"
  else result $A start "vg_access_mode mismatch refused" FAIL "rc=0"; ra $A stop vgname=vgl lvname=lv0 vg_access_mode=lvmlockd; fi
  expect 7 $A monitor "probe of a VG that does not exist" vgname=nosuchvg lvname=lv0 vg_access_mode=lvmlockd
  expect 0 $A stop "stop of a VG that does not exist" vgname=nosuchvg lvname=lv0 vg_access_mode=lvmlockd
  vgchange --lock-stop vgl >/dev/null 2>&1
}
suite tsstor
reference && suite heartbeat
exit 0 # results are in the rows; a non-zero exit means the suite itself broke
