# The SAN stack on two cluster nodes and an array that is not one of them (lab/guest/san.sh: tgtd
# on the lab host, reached by each node through two networks of its own): `tsstor stack san
# --fencing sbd` applied to the two-node cluster, GFS2 on a shared LV over the multipath map.
# Cases: the stack starts on both nodes; data written on one node reads back on the other; one of
# n1's paths is cut (its link): GFS2 I/O goes on through the other, only that path's resource
# fails, and the path comes back; n2 is hard-killed (powered off): fence_sbd fences it and n1
# keeps GFS2 once dlm has recovered; a clean stop of the stack on n1 unmounts, deactivates and
# logs out with nothing hung; n2 is powered on again for the next suite.
source /lab/guest/lib.sh
source /lab/guest/san.sh
A=iscsi PROV=tsstor
SBD=/dev/disk/by-id/virtio-sbd
MNT=/mnt/sanpair
need_agent $A || exit 0
[ -x /lab/bin/tsstor ] || { result - - "tsstor command not in the payload" SKIP; exit 0; }
command -v sbd >/dev/null && command -v fence_sbd >/dev/null || { result fencing - "sbd or fence_sbd missing in the image" FAIL; exit 0; }

# 1. both nodes: the two paths, open-iscsi, multipathd, LVM for lvmlockd, corosync; no dlm or
#    lvmlockd left by an earlier suite (the stack starts its own, with dlm's fencing on)
node_up="source /lab/guest/san.sh; for p in \$(pidof lvmlockd dlm_controld); do kill \$p; done; sleep 2
  san_pair_node_up && san_multipath_up && lvm_use_lvmlockd && modprobe gfs2 && mkdir -p $MNT && start_corosync"
progress "san-pair: two paths to the array, open-iscsi, multipath and corosync on both nodes"
if eval "$node_up" > /tmp/san-pair-node.log 2>&1 && on_peer "$node_up" >> /tmp/san-pair-node.log 2>&1; then
  result - - "both nodes: two paths to the array, open-iscsi, multipathd, corosync" PASS
else result - - "both nodes: two paths to the array, open-iscsi, multipathd, corosync" FAIL "$(tail -1 /tmp/san-pair-node.log)"; exit 1; fi

# 2. the shared VG and GFS2 (two journals), made once by hand on n1 through the multipath map, as
#    an operator does before creating the stack; then taken down again
prepare() {
  iscsiadm -m node -T $PAIR_IQN -p $PA --login >/dev/null && iscsiadm -m node -T $PAIR_IQN -p $PB --login >/dev/null || return 1
  local d map
  d=$(san_disk $PA 1 $PAIR_IQN); map=$(san_map_of "$d") || { echo "no multipath map for $d"; return 1; }
  san_wait_paths "$map" 2 || return 1
  start_dlm && start_lvmlockd || return 1
  vgcreate --shared --lock-type dlm sanpvg /dev/mapper/"$map" && lvcreate -n lv1 -L 200M sanpvg &&
    mkfs.gfs2 -O -p lock_dlm -t lab:sanpair -j 2 -J 8 /dev/sanpvg/lv1 >/dev/null &&
    lvchange -an sanpvg/lv1 && vgchange --lockstop sanpvg || return 1
  kill "$(pidof lvmlockd)"; sleep 1
  kill "$(pidof dlm_controld)"; sleep 1
  iscsiadm -m session -u >/dev/null
  # from here dlm_controld (started by the stack) waits for a failed node's fencing (dlm_stonith)
  echo "enable_fencing=1" > /etc/dlm/dlm.conf && on_peer 'mkdir -p /etc/dlm && echo enable_fencing=1 > /etc/dlm/dlm.conf' >/dev/null
  echo "VG sanpvg on $map"
}
if prepare > /tmp/san-pair-prepare.log 2>&1; then result - - "shared VG sanpvg and GFS2 (2 journals) made through the multipath map" PASS
else result - - "shared VG sanpvg and GFS2 made through the multipath map" FAIL "$(tail -1 /tmp/san-pair-prepare.log)"; exit 1; fi

# 3. sbd on both nodes (its header written by the stack's own init step), Pacemaker, the stack
progress "san-pair: sbd and Pacemaker on both nodes"
on_peer stop_pacemaker >/dev/null; stop_pacemaker
pcs stonith sbd device setup device=$SBD watchdog-timeout=10 msgwait-timeout=20 --force >/dev/null 2>&1
if start_sbd $SBD && on_peer "start_sbd $SBD" >/dev/null && pcmk_pair_up > /tmp/pcmk-up.out 2>&1; then
  result fencing sbd "sbd on both nodes, Pacemaker online on both" PASS
else result fencing sbd "sbd on both nodes, Pacemaker online on both" FAIL "$(tail -1 /tmp/pcmk-up.out | cut -c1-200)"; exit 1; fi
progress "san-pair: tsstor stack san --fencing sbd --apply"
STACK=(stack san --target $PAIR_IQN --portal $PA --portal $PB --fs sanpvg/lv1:$MNT --monitor-interval 10s --fencing sbd --sbd-device $SBD)
t0=$SECONDS
check stack - "tsstor stack san --fencing sbd --apply" /lab/bin/tsstor "${STACK[@]}" --apply
# only n2 dies here: no fence race to pin, and no random delay before its fencing
pcs stonith update fence-sbd pcmk_delay_max=0s >/dev/null 2>&1
all_started() { # every resource of the stack started, nothing failed, GFS2 on both nodes
  local x; x=$(crm_mon -1 --output-as=xml)
  ! echo "$x" | grep '<resource ' | grep -qv 'role="Started"' && ! echo "$x" | grep -q '<failure ' &&
    [ "$(echo "$x" | grep -c '<resource id="san-fs"')" = 2 ]
}
if wait_for 500 all_started; then result stack start "the stack started on both nodes: paths, dlm, lvmlockd, LV, GFS2 ($((SECONDS - t0)) s)" PASS
else result stack start "the stack started on both nodes" FAIL "$(crm_mon -1 | grep -Ei 'stopped|failed|FAILED' | head -3 | tr '\n' ' ')"; fi
crm_mon -1 > "$RESULTS/san-pair-crm_mon.txt" 2>&1
mounted="grep -q ' $MNT gfs2 ' /proc/mounts && dmsetup deps -o devname sanpvg-lv1 | grep -q mpath"
check stack start "n1: GFS2 mounted on the LV over the multipath map" sh -c "$mounted"
check stack start "n2: GFS2 mounted on the LV over the multipath map" on_peer "$mounted"
sessions_ok() { [ "$(iscsiadm -m session | grep -c " $PAIR_IQN ")" = 2 ]; }
check $A start "n1: one session per portal" sessions_ok
check $A start "n2: one session per portal" on_peer "[ \"\$(iscsiadm -m session | grep -c ' $PAIR_IQN ')\" = 2 ]"

# 4. data across the nodes, through GFS2's locks
n1_to_n2() {
  head -c 4194304 /dev/urandom > /tmp/pattern && cp /tmp/pattern $MNT/from-n1 && sync &&
    [ "$(md5sum < /tmp/pattern)" = "$(on_peer "md5sum < $MNT/from-n1")" ]
}
check stack start "a file n1 writes reads back on n2" n1_to_n2
n2sum=$(on_peer "head -c 4194304 /dev/urandom > $MNT/from-n2 && sync && md5sum < $MNT/from-n2")
n2_file_ok() { [ -n "$n2sum" ] && [ "$(md5sum < $MNT/from-n2)" = "$n2sum" ]; }
check stack start "a file n2 writes reads back on n1" n2_file_ok

# 5. path A of n1 cut: GFS2 keeps going on path B, only that path's resource fails
gfs_write() { head -c 4194304 /dev/urandom > /tmp/pattern && timeout 120 dd if=/tmp/pattern of=$MNT/data-n1 bs=1M oflag=direct status=none && cmp /tmp/pattern $MNT/data-n1; }
MAP=$(dmsetup deps -o devname sanpvg-lv1 | grep -o 'mpath[a-z]*')
path_a_down() { [ "$(san_active_paths "$MAP")" = 1 ]; }
host_request link n1 off sana
wait_for 90 path_a_down || progress "san-pair: $MAP still has $(san_active_paths "$MAP") active paths 90 s after path A's cut"
cut_write() { path_a_down && gfs_write; }
check stack monitor "n1: GFS2 writes go on while path A is cut (the map down to one path)" cut_write
path1_failed() { crm_mon -1 --output-as=xml | grep '<failure ' | grep 'op_key="san-path1' | grep -q 'node="n1"'; }
if wait_for 120 path1_failed; then result $A monitor "n1's path A resource fails, only there" PASS "suite at ${SECONDS} s"
else result $A monitor "n1's path A resource fails" FAIL "$(crm_mon -1 | grep path1 | head -2 | tr '\n' ' ')"; fi
check stack monitor "dlm, lvmlockd, LV and GFS2 not restarted on either node" sh -c "! crm_mon -1 --output-as=xml | grep '<failure ' | grep -v san-path1 | grep -q ."
host_request link n1 on sana
# the host's link control is asynchronous: clean up only once the portal answers again and the
# start that failed while it was cut is on record (a cleanup before that left the fail-count)
path_a_answers() { timeout 3 bash -c "exec 3<>/dev/tcp/${PA%:*}/${PA#*:}" 2>/dev/null; }
wait_for 60 path_a_answers || progress "san-pair: path A's portal still unreachable 60 s after its link came back"
sleep 5
crm_resource --cleanup -r san-path1-clone >/dev/null 2>&1
if wait_for 120 all_started; then result $A start "path A back after its link returns (cleanup)" PASS
else result $A start "path A back after its link returns" FAIL "$(crm_mon -1 | grep -i path1 | head -2 | tr '\n' ' ')"; fi
check stack start "n1: the map has both paths again" san_wait_paths "$MAP" 2

# 6. n2 hard-killed (powered off): fenced by fence_sbd, and n1 keeps GFS2
progress "san-pair: n2 powered off"
t0=$SECONDS
PEER_TIMEOUT=20 on_peer 'sync; echo o > /proc/sysrq-trigger' >/dev/null 2>&1 &
n2_fenced() { stonith_admin --history n2 2>/dev/null | grep -q 'successful'; }
if wait_for 240 n2_fenced; then result fencing fence "n2 powered off: fenced by fence-sbd after $((SECONDS - t0)) s" PASS
else result fencing fence "n2 powered off: fenced by fence-sbd" FAIL "$(stonith_admin --history n2 2>&1 | tail -2 | tr '\n' ' ')"; fi
if wait_for 240 gfs_write; then result stack failover "n1 keeps GFS2 after n2's fencing: writes go on ($((SECONDS - t0)) s after the kill)" PASS
else result stack failover "n1 keeps GFS2 after n2's fencing" FAIL "$(dlm_tool ls 2>&1 | grep -i -m2 'wait\|fence' | tr '\n' ' ')"; fi
check stack failover "n1: what n2 wrote before its death reads back" n2_file_ok
check stack failover "n1: GFS2 stayed mounted, the stack not restarted here" sh -c "grep -q ' $MNT gfs2 ' /proc/mounts && ! crm_mon -1 --output-as=xml | grep '<failure ' | grep 'node=\"n1\"' | grep -q ."
crm_mon -1 > "$RESULTS/san-pair-crm_mon-failover.txt" 2>&1

# 7. a clean stop of the stack on n1: unmount, deactivate, lockspace, then the logouts
LOG=/var/log/pacemaker/pacemaker.log
FROM=$(( $(wc -l < $LOG) + 1 ))
crm_attribute -t crm_config -n stop-all-resources -v true >/dev/null
all_stopped() { ! crm_mon -1 --output-as=xml | grep '<resource ' | grep -q 'active="true"'; }
if wait_for 300 all_stopped; then result stack stop "the whole stack stopped on n1" PASS "suite at ${SECONDS} s"
else result stack stop "the whole stack stopped on n1" FAIL "$(crm_mon -1 | grep -Ei 'started|failed' | head -3 | tr '\n' ' ')"; fi
check stack stop "no stop failed (a logout under a mounted LUN would)" sh -c "! crm_mon -1 --output-as=xml | grep '<failure ' | grep -q 'task=\"stop\"'"
check stack stop "nothing left on n1: no mount, no LV, no session" sh -c "! grep -q ' $MNT ' /proc/mounts && ! dmsetup info sanpvg-lv1 >/dev/null 2>&1 && ! iscsiadm -m session >/dev/null 2>&1"
check stack stop "stop order: unmount, deactivate, then log out (Pacemaker's log)" san_stop_order_ok $LOG $FROM

# 8. n2 powered on again (the next suite needs its peer); everything of this suite taken down
progress "san-pair: n2 powered on again, cleaning up"
host_request boot n2
wait_for 300 on_peer true || result - - "n2 back after its power-off" FAIL
pcmk_clear
stop_pacemaker; stop_sbd
on_peer "sbd -d $SBD message n2 clear" >/dev/null 2>&1
san_initiator_reset
multipathd shutdown 2>/dev/null
true
