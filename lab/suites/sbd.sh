# SBD fencing for real (softdog watchdog, a shared virtual disk, fence_sbd), on the two-VM DRBD 8.4
# cluster, with the iSCSI stack built by `tsstor stack iscsi ... --fencing sbd --apply`:
# 1. n2 runs the target (DRBD Primary); n1's kernel initiator (open-iscsi, default timeouts)
#    carries an application writing a durable 4 KiB block every 50 ms through the virtual IP
#    (lab/guest/stall-writer.py), from here to step 4;
# 2. the host cuts n2's links (QEMU set_link): exactly one node is fenced (n2, by the poison pill
#    fence_sbd writes on the shared disk; QEMU exits on the reset), n1 promotes and serves; the
#    writer's longest gap and I/O errors (0) across it, every acknowledged write reads back;
# 3. n2 is powered on again and rejoins: DRBD resyncs from n1, the kernel logs no split brain,
#    the crm-fence-peer constraint goes away;
# 4. a planned move back to n2 (crm_resource --move): the writer's gap, 0 I/O errors;
# 5. the control: the same cut with stonith-enabled=false and no DRBD fencing ends with two
#    Primaries and a split brain DRBD reports on reconnect.
# The initiator runs on a cluster node (the lab has two VMs): when the address comes to n1 its
# retransmissions meet n1's own stack, so the gaps here show open-iscsi's timeouts and the stop
# order, not what a remote initiator gains from tickle ACKs (bench/session-stall.bench.ts does).
# The fence race of two nodes is pinned (pcmk_delay_base n1:30s) so that n1, which drives the
# suite, survives: the suite tests what fencing does, not who wins the race.
source /lab/guest/lib.sh
PROV=tsstor
A=fencing
RES=r9
SBD=/dev/disk/by-id/virtio-sbd
DATA=/dev/disk/by-id/virtio-data
VIP=10.213.9.100
IQN=iqn.2003-01.org.example.lab:sbd
INIT=iqn.2026-12.org.example.lab:n1
need_agent drbd && need_agent iSCSITarget && need_agent iSCSILogicalUnit && need_agent IPaddr2 || exit 0
[ -x /lab/bin/tsstor ] || { result $A - "tsstor command not in payload" SKIP; exit 0; }
command -v sbd >/dev/null && command -v fence_sbd >/dev/null && command -v pcs >/dev/null ||
  { result $A - "sbd, fence_sbd or pcs missing in the image" FAIL; exit 0; }

# DRBD 8.4 with the half of fencing the stack checks: resource-and-stonith and 8.4's handlers
node_setup="modprobe drbd && modprobe softdog &&
  printf 'net.ipv4.ip_nonlocal_bind = 1\n' > /etc/sysctl.d/90-tsstor-iscsi.conf && sysctl -q -p /etc/sysctl.d/90-tsstor-iscsi.conf &&
  cat > /etc/drbd.d/$RES.res <<'CONF'
resource $RES {
  protocol C;
  disk { fencing resource-and-stonith; c-plan-ahead 0; resync-rate 100M; }
  handlers {
    fence-peer \"/usr/lib/drbd/crm-fence-peer.sh\";
    after-resync-target \"/usr/lib/drbd/crm-unfence-peer.sh\";
  }
  on n1 { device /dev/drbd9 minor 9; disk $DATA; address 10.213.9.1:7799; meta-disk internal; }
  on n2 { device /dev/drbd9 minor 9; disk $DATA; address 10.213.9.2:7799; meta-disk internal; }
}
CONF
  wipefs -q -a $DATA && drbdadm create-md --force $RES >/dev/null 2>&1 && drbdadm up $RES"
progress "sbd: DRBD $RES on both nodes"
eval "$node_setup" && on_peer "$node_setup" >/dev/null || { result $A - "DRBD $RES on both nodes" FAIL "$(drbdadm up $RES 2>&1 | tail -1)"; exit 0; }
# a new, empty device on both sides: no initial sync needed (drbdsetup's --clear-bitmap)
drbd_wait $RES '_cstate=Connected' 120 >/dev/null && drbdadm -- --clear-bitmap new-current-uuid $RES &&
  drbd_wait $RES '_disk=UpToDate' 60 >/dev/null && drbd_wait $RES '_pdsk=UpToDate' 60 >/dev/null ||
  { result $A - "DRBD $RES connected and UpToDate on both nodes" FAIL "$(drbdsetup sh-status $RES | tr '\n' ' ')"; exit 0; }

progress "sbd: the shared disk, sbd on both nodes, Pacemaker restarted"
# the exact node step `tsstor stack ... --sbd-init` prints (lab timeouts: TCG is slow)
check $A sbd "SBD header written by the stack's own init step (pcs stonith sbd device setup)" \
  pcs stonith sbd device setup device=$SBD watchdog-timeout=10 msgwait-timeout=20 --force
on_peer stop_pacemaker >/dev/null; stop_pacemaker
if start_sbd $SBD && on_peer "start_sbd $SBD" >/dev/null; then result $A sbd "sbd watching $SBD with softdog on both nodes" PASS
else result $A sbd "sbd watching $SBD with softdog on both nodes" FAIL "$(tail -3 /var/log/syslog 2>/dev/null | tr '\n' ' ')"; exit 0; fi
start_pacemaker && on_peer start_pacemaker >/dev/null &&
  wait_for 180 sh -c "crm_mon -1 | grep -q 'Online: \[ n1 n2 \]'" || { result $A - "Pacemaker on both nodes" FAIL; exit 0; }
crm_attribute -t rsc_defaults -n resource-stickiness -v 100 >/dev/null
check $A sbd "Pacemaker sees sbd (have-watchdog=true)" sh -c '[ "$(crm_attribute -t crm_config -n have-watchdog -G -q)" = true ]'

progress "sbd: tsstor stack iscsi --fencing sbd --apply"
t0=$SECONDS
if /lab/bin/tsstor stack iscsi --drbd-resource $RES --iqn $IQN --lun 0:/dev/drbd9 --ip $VIP/24 \
     --portal $VIP:3260 --implementation lio-t --initiator $INIT \
     --fencing sbd --sbd-device $SBD --apply > /tmp/stack.out 2>&1; then
  result $A sbd "tsstor stack iscsi --fencing sbd --apply ($((SECONDS - t0)) s)" PASS
else result $A sbd "tsstor stack iscsi --fencing sbd --apply" FAIL "$(tail -2 /tmp/stack.out | tr '\n' ' ' | cut -c1-200)"; exit 0; fi
cp /tmp/stack.out "$RESULTS/sbd-stack.out"
# pin the two-node race (the stack's pcmk_delay_max is random): fencing n1 waits 30 s
pcs stonith update fence-sbd pcmk_delay_max=0s 'pcmk_delay_base=n1:30s;n2:0s' >/dev/null 2>&1
role() { if [ "$1" = n1 ]; then drbdadm role $RES 2>/dev/null; else on_peer "drbdadm role $RES" 2>/dev/null; fi; }
primary_on() { case "$(role "$1")" in Primary*) return 0 ;; esac; return 1; }
vip_on() { if [ "$1" = n1 ]; then ip -o addr show | grep -q " $VIP/"; else on_peer "ip -o addr show | grep -q ' $VIP/'"; fi; }
serving_on() { primary_on "$1" && vip_on "$1"; }
wait_for 240 sh -c "crm_mon -1 | grep -q 'iscsi-ip.*Started'" || true
if ! serving_on n2; then
  crm_resource --ban --promoted -r iscsi-drbd-clone -N n1 >/dev/null 2>&1
  wait_for 240 serving_on n2; crm_resource --clear -r iscsi-drbd-clone >/dev/null 2>&1
fi
check $A sbd "the stack runs on n2 (DRBD Primary, target, VIP), fenced by fence-sbd" sh -c "crm_mon -1 | grep -q 'fence-sbd.*Started' && crm_mon -1 | grep -q 'iscsi-ip.*Started n2'"
crm_mon -1 > "$RESULTS/sbd-crm_mon-before.txt" 2>&1

progress "sbd: n1's initiator logs in through $VIP"
echo "InitiatorName=$INIT" > /etc/iscsi/initiatorname.iscsi
# open-iscsi with its default timeouts (iscsid.conf: NOP-out every 5 s, 5 s to answer; I/O
# errors only after replacement_timeout, 120 s, without a connection)
iscsiadm -m discovery -t st -p $VIP >/dev/null 2>&1 &&
  iscsiadm -m node -T $IQN -p $VIP --login >/dev/null 2>&1
DEV=/dev/disk/by-path/ip-$VIP:3260-iscsi-$IQN-lun-0
if ! wait_for 30 test -b "$DEV"; then result $A cut "initiator logged in through the VIP" FAIL; exit 0; fi
# the application: one durable 4 KiB write every 50 ms, each logged (lab/guest/stall-writer.py)
SW="python3 /lab/guest/stall-writer.py" SWLOG=/tmp/stall.log SWSTOP=/tmp/stall.stop
rm -f $SWLOG $SWSTOP
$SW write "$DEV" $SWLOG $SWSTOP </dev/null >/tmp/stall.err 2>&1 3>&- &
SWPID=$!
sw_acked() { # SINCE_NS N: at least N writes acknowledged since then
  local n ok; read -r n ok _ < <($SW report $SWLOG "$1"); [ "${ok:-0}" -ge "$2" ]
}
sw_stop() { touch $SWSTOP; wait_for 60 sh -c "! kill -0 $SWPID 2>/dev/null"; } # by PID (a pattern would match the waiting shell itself)
stall_row() { # ACTION CASE SINCE_NS [NOTE]: longest gap and errors of the writes since then, as a row
  local n ok err gap
  read -r n ok err gap < <($SW report $SWLOG "$3")
  if [ "${err:-1}" = 0 ] && [ "${ok:-0}" -gt 0 ]; then result $A "$1" "$2: longest gap between acknowledged writes ${gap} s${4:+ ($4)}, 0 I/O errors ($ok writes)" PASS
  else result $A "$1" "$2: no I/O error" FAIL "${err:-?} of ${n:-?} writes failed, longest gap ${gap:-?} s"; fi
}
wait_for 30 sw_acked 0 8
check $A cut "the writer's first writes acknowledged through the VIP by n2 before the cut" sw_acked 0 8

progress "sbd: cutting n2's links"
dmesg -C
t0=$SECONDS tcut=$SECONDS tcut_ns=$(date +%s%N)
host_request link n2 off
# the writer keeps going: its writes block until the target is back (on n1), then complete
if wait_for 300 serving_on n1; then served_s=$((SECONDS - t0)); result $A cut "n1 promoted and serves the VIP $served_s s after the cut" PASS
else result $A cut "n1 promoted and serves the VIP" FAIL "$(crm_mon -1 | tail -8 | tr '\n' ' ')"; fi
stonith_admin --history n2 > /tmp/fh2 2>&1; stonith_admin --history n1 > /tmp/fh1 2>&1
check $A cut "exactly one node fenced: n2 by n1 (fencing history)" sh -c "grep -q 'reboot of n2 successful' /tmp/fh2 && ! grep -q 'of n1 successful' /tmp/fh1"
sbd -d $SBD list > "$RESULTS/sbd-list-after-cut.txt" 2>&1
check $A cut "the poison pill is in n2's slot (sbd list: reset from n1)" grep -Eq 'n2[[:space:]]+reset[[:space:]]+n1' "$RESULTS/sbd-list-after-cut.txt"
wait_for 300 sw_acked "$tcut_ns" 20
stall_row cut "open-iscsi (default timeouts) through the cut and the failover" "$tcut_ns" "n1 serving ${served_s:-?} s after the cut"
read -r nchk nbad < <($SW verify "$DEV" $SWLOG)
check $A cut "every acknowledged write reads back after the failover (${nchk:-0} blocks)" sh -c "[ '${nchk:-0}' -gt 0 ] && [ '${nbad:-1}' = 0 ]"
crm_mon -1 > "$RESULTS/sbd-crm_mon-after-cut.txt" 2>&1

progress "sbd: n2 powered on again, rejoining"
host_request boot n2 # a new QEMU: its link is up
t0=$SECONDS
if wait_peer; then result $A rejoin "n2 reset by its sbd and booted again ($((SECONDS - t0)) s)" PASS
else result $A rejoin "n2 booted again" FAIL; exit 0; fi
up2=$(on_peer 'cut -d. -f1 /proc/uptime' 2>/dev/null | tail -1)
check $A rejoin "n2 was reset, not only cut (up ${up2:-?} s, cut $((SECONDS - tcut)) s ago)" test "${up2:-99999}" -lt $((SECONDS - tcut))
# what an operator does after a poison pill (SBD_STARTMODE=clean would insist): clear the slot
on_peer "modprobe drbd && modprobe softdog && sysctl -q -p /etc/sysctl.d/90-tsstor-iscsi.conf && sbd -d $SBD message n2 clear >/dev/null 2>&1 && start_sbd $SBD && start_pacemaker" >/dev/null ||
  { result $A rejoin "n2: sbd and Pacemaker started again" FAIL; exit 0; }
if wait_for 300 sh -c "drbdsetup sh-status $RES | grep -q '_pdsk=UpToDate'"; then result $A rejoin "DRBD resynced n2 from n1 ($((SECONDS - t0)) s after power-on)" PASS
else result $A rejoin "DRBD resynced n2 from n1" FAIL "$(drbdsetup sh-status $RES | tr '\n' ' ')"; fi
check $A rejoin "still one Primary (n1), n2 Secondary" sh -c "drbdadm role $RES | grep -q '^Primary/Secondary'"
dmesg > "$RESULTS/sbd-dmesg-n1.txt"; on_peer dmesg > "$RESULTS/sbd-dmesg-n2.txt" 2>&1
check $A rejoin "no split brain in either kernel log" sh -c "! grep -qi 'split-brain' $RESULTS/sbd-dmesg-n1.txt $RESULTS/sbd-dmesg-n2.txt"
check $A rejoin "the crm-fence-peer constraint removed after the resync" wait_for 120 sh -c "! cibadmin -Q -o constraints | grep -q drbd-fence-by-handler"
read -r nchk nbad < <($SW verify "$DEV" $SWLOG)
check $A rejoin "the acknowledged writes still read back (${nchk:-0} blocks, the writer going on)" sh -c "[ '${nchk:-0}' -gt 0 ] && [ '${nbad:-1}' = 0 ]"
crm_mon -1 > "$RESULTS/sbd-crm_mon-rejoined.txt" 2>&1

progress "sbd: a planned move back to n2, the writer going on"
# the stop order (VIP first, target last) makes the initiator retry, never fail
tmove_ns=$(date +%s%N)
crm_resource --move --promoted -r iscsi-drbd-clone -N n2 >/dev/null 2>&1
if wait_for 240 serving_on n2; then
  moved_s=$(( ($(date +%s%N) - tmove_ns) / 1000000000 ))
  wait_for 120 sw_acked "$tmove_ns" 20
  stall_row move "planned move n1 -> n2 (crm_resource --move), open-iscsi default timeouts" "$tmove_ns" "the stack serving on n2 ${moved_s} s after the move"
else result $A move "planned move n1 -> n2: the stack serves on n2" FAIL "$(crm_mon -1 | tail -8 | tr '\n' ' ')"; fi
crm_resource --clear -r iscsi-drbd-clone >/dev/null 2>&1
sw_stop
read -r nchk nbad < <($SW verify "$DEV" $SWLOG)
check $A move "every acknowledged write reads back on n2 (${nchk:-0} blocks)" sh -c "[ '${nchk:-0}' -gt 0 ] && [ '${nbad:-1}' = 0 ]"
cp $SWLOG "$RESULTS/sbd-stall.log"

progress "sbd: the control: the same cut without fencing"
iscsiadm -m node -T $IQN -p $VIP --logout >/dev/null 2>&1; iscsiadm -m node -T $IQN -o delete >/dev/null 2>&1
unfence="sed -i -e 's/fencing resource-and-stonith; //' -e '/handlers {/,/}/d' /etc/drbd.d/$RES.res && drbdadm adjust $RES"
crm_attribute -t crm_config -n stonith-enabled -v false >/dev/null
eval "$unfence" && on_peer "$unfence" >/dev/null
# n1 (Secondary since the move) is cut this time: nobody is fenced, so each node notes its own role each second
# (after the heal Pacemaker demotes one of two Promoted instances: asking then would be too late)
# setsid -f and closed descriptors: nothing may hold on_peer's connection open (a lab run lost
# 900 s here waiting for the peer's sampler, which then finished before the cut)
# n2's sampler also posts "Primary" in a mailbox on a disk both VMs share (the GFS2 suite's, free by
# now; its last 4 KiB, direct I/O on both sides): the only path n1 has to n2 during the cut, so
# n1 heals the link once both were Primary instead of after a fixed wait long enough for any run
MBOX=/dev/disk/by-id/virtio-shared2 MBOX_AT=$(( $(blockdev --getsz /dev/disk/by-id/virtio-shared2) / 8 - 1 ))
mbox_read() { dd if=$MBOX bs=4096 skip=$MBOX_AT count=1 iflag=direct status=none | tr -d '\0'; }
head -c 4096 /dev/zero | dd of=$MBOX bs=4096 seek=$MBOX_AT count=1 oflag=direct conv=fsync status=none
roles="rm -f /tmp/roles; setsid -f sh -c 'for i in \$(seq 1 150); do r=\$(drbdadm role $RES 2>&1); echo \"\$r\" >> /tmp/roles
  case \$r in Primary*) echo n2-primary | dd of=$MBOX bs=4096 seek=$MBOX_AT count=1 conv=sync oflag=direct status=none ;; esac; sleep 1; done' </dev/null >/dev/null 2>&1"
dmesg -C; PEER_TIMEOUT=30 on_peer 'dmesg -C' >/dev/null
eval "$roles"; PEER_TIMEOUT=30 on_peer "$roles" >/dev/null || progress "sbd: could not start n2's role sampler"
host_request link n1 off
t0=$SECONDS
both_primary() { [ "$(mbox_read)" = n2-primary ] && primary_on n1; }
if wait_for 150 both_primary; then
  progress "sbd: both Primary $((SECONDS - t0)) s after the cut (n2's from the mailbox)"; sleep 5 # a few samples of both
else progress "sbd: not both Primary 150 s after the cut (n2's mailbox: $(mbox_read))"; fi
host_request link n1 on
wait_for 60 on_peer true
wait_for 60 sh -c "dmesg | grep -qi 'split-brain'"
dmesg > "$RESULTS/sbd-control-dmesg-n1.txt"; on_peer dmesg > "$RESULTS/sbd-control-dmesg-n2.txt" 2>&1
cp /tmp/roles "$RESULTS/sbd-control-roles-n1.txt"; on_peer "cat /tmp/roles" > "$RESULTS/sbd-control-roles-n2.txt" 2>&1
p1=$(grep -c '^Primary' "$RESULTS/sbd-control-roles-n1.txt"); p2=$(grep -c '^Primary' "$RESULTS/sbd-control-roles-n2.txt")
if [ "${p1:-0}" -gt 0 ] && [ "${p2:-0}" -gt 0 ]; then result $A control "unfenced cut: both nodes Primary (n1 for ${p1} s, n2 for ${p2} s of the samples)" PASS
else result $A control "unfenced cut: both nodes Primary" FAIL "n1 Primary in ${p1:-0} samples, n2 in ${p2:-0}"; fi
check $A control "DRBD reports the split brain on reconnect" grep -qi 'split-brain' "$RESULTS/sbd-control-dmesg-n1.txt"

progress "sbd: cleaning up for the next suite"
# every resource stopped while the configuration still holds the parameters, then the CIB erased
pcmk_clear
# (in the unfenced control a stop can fail, e.g. the LUN's under the split brain, and nothing then
# stops it: stop_pacemaker kills Pacemaker, sbd before it, and what the stack ran is taken down
# by hand)
down="stop_sbd; stop_pacemaker; targetcli clearconfig confirm=True >/dev/null 2>&1
  for d in \$(ip -o addr show | grep ' $VIP/' | awk '{print \$2}'); do ip addr del $VIP/24 dev \$d; done
  drbdadm down $RES; rm -f /etc/drbd.d/$RES.res"
on_peer "$down"
eval "$down"
exit 0 # results are in the rows; a non-zero exit means the suite itself broke
