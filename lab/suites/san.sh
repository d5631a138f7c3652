# The SAN stack on the real kernel, one node: `tsstor stack san` applied to a one-node Pacemaker
# cluster on this VM, logging in to the array of lab/guest/san.sh (not a cluster resource) through
# both portals, multipath, dlm, lvmlockd, a shared LV and GFS2 on it. Cases: the stack starts in
# order; I/O on GFS2 goes on while a path is cut, and only that path's resource fails; the path
# comes back; a clean stop of the whole stack unmounts, deactivates and logs out, nothing left.
# The two-node version (two cluster VMs and an array VM, hard kill with fencing) is not here yet.
source /lab/guest/lib.sh
source /lab/guest/san.sh
A=iscsi PROV=tsstor
need_agent $A || exit 0
[ -x /lab/bin/tsstor ] || { result - - "tsstor command not in the payload" SKIP; exit 0; }
san_array_up || { result - - "array set up" FAIL "$(tail -1 /tmp/array-setup.log)"; exit 1; }
san_initiator_reset
san_multipath_up
MNT=/mnt/gfs2
mkdir -p $MNT /etc/dlm
echo "enable_fencing=0" > /etc/dlm/dlm.conf
modprobe gfs2

# 1. the shared VG and GFS2, made once by hand through the multipath map (as an operator does
#    before creating the stack), then everything taken down again
prepare() {
  iscsiadm -m discovery -t sendtargets -p $P1 -o new >/dev/null &&
  iscsiadm -m node -T $ARRAY_IQN -p $P1 --login >/dev/null && iscsiadm -m node -T $ARRAY_IQN -p $P2 --login >/dev/null || return 1
  local d map
  d=$(san_disk $P1 1); map=$(san_map_of "$d") || { echo "no multipath map for $d"; return 1; }
  san_wait_paths "$map" 2 || return 1
  start_corosync && start_dlm && start_lvmlockd || return 1
  # --lock-type: an earlier suite may have left sanlock running beside dlm (then LVM asks which)
  vgcreate --shared --lock-type dlm sanvg /dev/mapper/"$map" && lvcreate -n lv1 -L 160M sanvg &&
  mkfs.gfs2 -O -p lock_dlm -t lab:san -j 1 -J 8 /dev/sanvg/lv1 >/dev/null &&
  lvchange -an sanvg/lv1 && vgchange --lockstop sanvg || return 1
  kill "$(pidof lvmlockd)"; sleep 1
  kill "$(pidof dlm_controld)"; sleep 1
  iscsiadm -m session -u >/dev/null
  echo "VG sanvg on $map"
}
if prepare >/tmp/san-prepare.log 2>&1; then result - - "shared VG sanvg and GFS2 made through the multipath map" PASS
else result - - "shared VG sanvg and GFS2 made through the multipath map" FAIL "$(tail -1 /tmp/san-prepare.log)"; exit 1; fi

# 2. Pacemaker (one node, corosync on 127.0.0.1) and the stack
start_pacemaker || { result - - "Pacemaker on this node" FAIL; exit 1; }
crm_attribute -t crm_config -n stonith-enabled -v false >/dev/null
STACK=(stack san --target $ARRAY_IQN --portal $P1 --portal $P2 --fs sanvg/lv1:$MNT --monitor-interval 10s --fencing none)
check stack - "tsstor stack san --apply" /lab/bin/tsstor "${STACK[@]}" --apply
all_started() { # every resource of the stack started here, nothing failed
  local x; x=$(crm_mon -1 --output-as=xml)
  ! echo "$x" | grep '<resource ' | grep -qv 'role="Started"' && echo "$x" | grep -q 'id="san-fs"' && ! echo "$x" | grep -q '<failure '
}
if wait_for 400 all_started; then result stack start "the stack started: paths, dlm, lvmlockd, LV, GFS2" PASS "suite at ${SECONDS} s"
else result stack start "the stack started" FAIL "$(crm_mon -1 | grep -Ei 'stopped|failed|FAILED' | head -3 | tr '\n' ' ')"; fi
check stack start "GFS2 mounted on the LV over the multipath map" sh -c "grep -q ' $MNT gfs2 ' /proc/mounts && dmsetup deps -o devname sanvg-lv1 | grep -q mpath"
check $A start "one session per portal" sh -c "iscsiadm -m session | grep -c ' $ARRAY_IQN ' | grep -qx 2"
gfs_write() { head -c 4194304 /dev/urandom > /tmp/pattern && timeout 120 dd if=/tmp/pattern of=$MNT/data bs=1M oflag=direct status=none && cmp /tmp/pattern $MNT/data; }
check stack start "GFS2: writes read back" gfs_write

# 3. a cut path: GFS2 keeps going on the other, only that path's resource fails
san_cut 127.0.0.10 3260
check stack monitor "GFS2 writes go on while path 2 is cut" gfs_write
path2_failed() { crm_mon -1 --output-as=xml | grep '<failure ' | grep -q 'op_key="san-path2'; }
if wait_for 120 path2_failed; then result $A monitor "path 2's resource fails (its monitor, then its restart with the link cut)" PASS "suite at ${SECONDS} s"
else result $A monitor "path 2's resource fails" FAIL "$(crm_mon -1 | grep path2 | head -2 | tr '\n' ' ')"; fi
check stack monitor "GFS2 stays mounted and writable meanwhile" sh -c "grep -q ' $MNT gfs2 ' /proc/mounts && echo x > $MNT/still && sync"
check stack monitor "dlm, lvmlockd, LV and GFS2 not restarted" sh -c "! crm_mon -1 --output-as=xml | grep '<failure ' | grep -v san-path2 | grep -q ."
san_restore
crm_resource --cleanup -r san-path2-clone >/dev/null 2>&1
if wait_for 120 all_started; then result $A start "path 2 back after the link returns (cleanup)" PASS
else result $A start "path 2 back after the link returns" FAIL "$(crm_mon -1 | grep -i path2 | head -2 | tr '\n' ' ')"; fi
check stack start "the map has both paths again" san_wait_paths "$(dmsetup deps -o devname sanvg-lv1 | grep -o 'mpath[a-z]*')" 2

# 4. a clean stop of the whole stack: unmount, deactivate, lockspace, then the logouts
LOG=/var/log/pacemaker/pacemaker.log
FROM=$(( $(wc -l < $LOG) + 1 ))
crm_attribute -t crm_config -n stop-all-resources -v true >/dev/null
all_stopped() { ! crm_mon -1 --output-as=xml | grep '<resource ' | grep -q 'active="true"'; }
if wait_for 300 all_stopped; then result stack stop "the whole stack stopped" PASS "suite at ${SECONDS} s"
else result stack stop "the whole stack stopped" FAIL "$(crm_mon -1 | grep -Ei 'started|failed' | head -3 | tr '\n' ' ')"; fi
check stack stop "no stop failed (a logout under a mounted LUN would)" sh -c "! crm_mon -1 --output-as=xml | grep '<failure ' | grep -q 'task=\"stop\"'"
check stack stop "nothing left: no mount, no LV, no session" sh -c "! grep -q ' $MNT ' /proc/mounts && ! dmsetup info sanvg-lv1 >/dev/null 2>&1 && ! iscsiadm -m session >/dev/null 2>&1"
check stack stop "stop order: unmount, deactivate, then log out (Pacemaker's log)" san_stop_order_ok $LOG $FROM
pcmk_clear
san_initiator_reset
multipathd shutdown 2>/dev/null
true
