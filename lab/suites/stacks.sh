# Stack files (`tsstor stack apply FILE`, kind failover) on two real nodes, real kernels:
# 1. two DRBD 8.4 volumes behind one VIP: an ext4 volume and an iSCSI target volume (LIO),
#    both created with `tsstor drbd init` on each node and `tsstor drbd first-sync` on one;
#    the stack starts on one node, moves to the other with everything (data intact), and
#    `tsstor stack delete` stops it (constraints still in place) and removes it all;
# 2. an exclusive LV: lvmlockd with sanlock on both nodes over the shared disk, the LV activated
#    exclusively where the group runs, ext4 on it, a VIP and a service; it moves to the other
#    node (the LV deactivated here first, data intact) and is deleted.
# Unfenced (stonith-enabled=false, as every pair suite but sbd and san-pair): moves are bans.
source /lab/guest/lib.sh
T=/lab/bin/tsstor
need_agent drbd || exit 0
[ -x $T ] || { result - - "tsstor command not in the payload" SKIP; exit 0; }
A=stack PROV=tsstor
other() { if [ "$1" = n1 ]; then echo n2; else echo n1; fi; }
# on NODE: run SCRIPT there (this node or the peer)
on() { if [ "$1" = n1 ]; then bash -c "source /lab/guest/lib.sh; $2"; else on_peer "$2"; fi; }
# the node running RESOURCE (crm_resource --locate), or nothing
where() { crm_resource --locate -r "$1" 2>/dev/null | sed -n 's/.*is running on: \(n[12]\).*/\1/p' | head -1; }

# ---- 1. two DRBD volumes behind one VIP ------------------------------------------------------
DEV_CFG=/dev/drbd5 DEV_TGT=/dev/drbd6 MNT=/srv/stk IQN=iqn.2003-01.org.example.lab:stk VIP=10.213.9.50
node_prep='drbd_down cfg; drbd_down tgt; rm -f /etc/drbd.d/cfg.res /etc/drbd.d/tgt.res
  for f in cfg tgt; do losetup -j /var/tmp/stk-$f.img -O NAME -n | xargs -r -n1 losetup -d; rm -f /var/tmp/stk-$f.img; truncate -s 40M /var/tmp/stk-$f.img; done
  echo "$(losetup -f --show /var/tmp/stk-cfg.img) $(losetup -f --show /var/tmp/stk-tgt.img)"
  modprobe drbd && lio_target_up && mkdir -p '"$MNT"
progress "stacks: loop disks, LIO, DRBD module on both nodes"
read -r C1 G1 < <(eval "$node_prep" | tail -1)
read -r C2 G2 < <(on_peer "$node_prep" | tail -1)
[ -n "$C1" ] && [ -n "$G2" ] || { result $A - "both nodes: loop disks, LIO, DRBD" FAIL "n1: $C1 $G1, n2: $C2 $G2"; exit 1; }
init() { # RES MINOR PORT DISK1 DISK2
  echo "$T drbd init --resource $1 --node n1:10.213.9.1:$3 --node n2:10.213.9.2:$3 --disk n1:$4 --disk n2:$5 --device /dev/drbd$2 --fencing none --drbd-version 8.4 --link-mbit 1000"
}
progress "stacks: tsstor drbd init on both nodes"
ok=1
for r in "cfg 5 7795 $C1 $C2" "tgt 6 7796 $G1 $G2"; do
  set -- $r
  cmd=$(init "$@")
  $cmd > /tmp/stk-init-$1.log 2>&1 && on_peer "$cmd" >> /tmp/stk-init-$1.log 2>&1 || { ok=0; tail -5 /tmp/stk-init-$1.log; }
done
if [ $ok = 1 ] && drbd_wait cfg '_cstate=Connected' 60 >/dev/null && drbd_wait tgt '_cstate=Connected' 60 >/dev/null; then
  result drbd init "tsstor drbd init on both nodes: resource files written, metadata created, cfg and tgt up and Connected" PASS "$(grep -c . /etc/drbd.d/cfg.res) lines"
else result drbd init "tsstor drbd init on both nodes" FAIL "$(tail -1 /tmp/stk-init-cfg.log /tmp/stk-init-tgt.log | tr '\n' ' ' | cut -c1-200)"; exit 1; fi
cp /etc/drbd.d/cfg.res "$RESULTS/drbd-init-cfg.res" 2>/dev/null
# a second init with the same options: nothing to do; on a disk holding data (the peer's): refused
$(init cfg 5 7795 "$C1" "$C2") > /tmp/stk-init-again.log 2>&1
check drbd init "a second tsstor drbd init with the same file: nothing to do (rc 0)" test $? = 0
t0=$SECONDS
if $T drbd first-sync cfg > /tmp/stk-sync.log 2>&1 && $T drbd first-sync tgt >> /tmp/stk-sync.log 2>&1 &&
  drbd_wait cfg '_pdsk=UpToDate' 300 >/dev/null && drbd_wait tgt '_pdsk=UpToDate' 300 >/dev/null; then
  result drbd first-sync "tsstor drbd first-sync on n1: both resources UpToDate on both nodes after $((SECONDS - t0)) s" PASS
else result drbd first-sync "tsstor drbd first-sync on n1" FAIL "$(tail -1 /tmp/stk-sync.log) $(drbdsetup sh-status cfg | tr '\n' ' ' | cut -c1-120)"; exit 1; fi
on_peer "$T drbd first-sync cfg" > /tmp/stk-sync-peer.log 2>&1
check drbd first-sync "first-sync refused on the other node once the pair is synced" test $? != 0
# the configuration volume's filesystem, made once by hand as an operator does; then DRBD down
drbdadm primary cfg && mkfs.ext4 -q $DEV_CFG && drbdadm secondary cfg
drbdadm down cfg; drbdadm down tgt; on_peer 'drbdadm down cfg; drbdadm down tgt' >/dev/null

progress "stacks: Pacemaker on both nodes"
if ! pcmk_pair_up > /tmp/pcmk-up.out 2>&1; then
  cat /tmp/pcmk-up.out; result $A - "Pacemaker on both nodes, online, CIB empty and writable" FAIL "$(tail -1 /tmp/pcmk-up.out | cut -c1-200)"; exit 1
fi
crm_attribute -t rsc_defaults -n resource-stickiness -v 100
cat > /tmp/two-volumes.yaml <<EOF
# two DRBD volumes behind one VIP
kind: failover
name: stk
fencing:
  method: none
drbd:
  - resource: cfg
  - resource: tgt
filesystems:
  - device: $DEV_CFG
    directory: $MNT
    fstype: ext4
targets:
  - iqn: $IQN
    implementation: lio-t
    allow-any-initiator: true
    luns:
      - lun: 0
        path: $DEV_TGT
ips:
  - address: $VIP/24
EOF
G=stk-group F=stk-front LUN=stk-target-stk-lun0
serving() { # NODE: everything of the stack runs on NODE, both DRBD Primary there
  [ "$(where $G)" = "$1" ] && [ "$(where $LUN)" = "$1" ] && [ "$(where $F)" = "$1" ] || return 1
  on "$1" "mountpoint -q $MNT && [ -e /sys/kernel/config/target/iscsi/$IQN/tpgt_1/lun/lun_0 ] && ip -o addr | grep -q ' $VIP/' &&
    drbdadm role cfg | grep -q ^Primary && drbdadm role tgt | grep -q ^Primary" >/dev/null 2>&1
}
progress "stacks: tsstor stack apply (two DRBD volumes behind one VIP)"
t0=$SECONDS
check $A apply "tsstor stack apply: two DRBD volumes behind one VIP" $T stack apply /tmp/two-volumes.yaml --quiet
wait_for 240 sh -c "[ -n \"\$(crm_resource --locate -r $F 2>/dev/null | grep 'running on')\" ]"
N=$(where $G)
if [ -n "$N" ] && serving "$N"; then
  result $A start "both DRBD Primary, ext4 mounted, LUN 0 in LIO, VIP up, all on $N ($((SECONDS - t0)) s after apply)" PASS
else result $A start "the stack runs on one node" FAIL "$(crm_mon -1 | tail -12 | tr '\n' ' ' | cut -c1-250)"; fi
on "$N" "echo two-volumes > $MNT/proof && sync" >/dev/null
O=$(other "$N")
t0=$SECONDS
crm_resource --ban -r $G -N "$N" >/dev/null 2>&1
if wait_for 240 serving "$O" && [ "$(on "$O" "cat $MNT/proof")" = two-volumes ]; then
  result $A move "moved $N -> $O: both promotions, mount, LUN and VIP together, the file intact ($((SECONDS - t0)) s)" PASS
else result $A move "moved $N -> $O with everything" FAIL "$(crm_mon -1 | tail -12 | tr '\n' ' ' | cut -c1-250)"; fi
crm_resource --clear -r $G >/dev/null 2>&1
# (a second apply on a live cluster changing nothing is shown on the namespace rig,
# test/rig/stackfile.test.ts: 54 s here in TCG, left out of the lab's budget)
t0=$SECONDS
check $A delete "tsstor stack delete stk" $T stack delete stk --quiet
gone() { ! crm_mon -1 | grep -q 'stk-' && ! mountpoint -q $MNT && ! on_peer "mountpoint -q $MNT" >/dev/null && ! ip -o addr | grep -q " $VIP/"; }
if wait_for 180 gone && ! cibadmin -Q -o resources | grep -q 'id="stk-'; then
  result $A delete "everything stopped on both nodes and removed from the CIB ($((SECONDS - t0)) s)" PASS
else result $A delete "everything stopped and removed" FAIL "$(crm_mon -1 | grep stk- | head -3 | tr '\n' ' ')"; fi
drbd_down cfg; drbd_down tgt; on_peer 'drbd_down cfg; drbd_down tgt' >/dev/null

# ---- 2. an exclusive LV (lvmlockd + sanlock) -> ext4 -> VIP -> service --------------------------
SH=/dev/disk/by-id/virtio-shared1 MNT2=/srv/app VIP2=10.213.9.51
progress "stacks: sanlock on both nodes, a shared VG (sanlock) on the shared disk"
prep2='for p in $(pidof lvmlockd dlm_controld); do kill $p; done; sleep 1; lvm_use_lvmlockd && start_sanlock && mkdir -p '"$MNT2"
make_vg() {
  wipefs -a -q $SH && start_lvmlockd && vgcreate -q --shared --lock-type sanlock vgx $SH >/dev/null && lvcreate -q -L 64M -n lvx vgx >/dev/null &&
    mkfs.ext4 -q /dev/vgx/lvx && lvchange -an vgx/lvx && vgchange -q --lockstop vgx >/dev/null || return 1
  kill "$(pidof lvmlockd)"; sleep 1
}
t0=$SECONDS
if eval "$prep2" > /tmp/stk-lv.log 2>&1 && on_peer "$prep2" >> /tmp/stk-lv.log 2>&1 && make_vg >> /tmp/stk-lv.log 2>&1; then
  result $A - "sanlock + wdmd on both nodes; VG vgx (--shared, sanlock) with ext4 on lvx ($((SECONDS - t0)) s)" PASS
else result $A - "sanlock on both nodes, shared VG with sanlock" FAIL "$(tail -1 /tmp/stk-lv.log)"; exit 1; fi
cat > /tmp/exclusive-lv.yaml <<EOF
# an exclusive LV with a local filesystem, a VIP and a service, moving together
kind: failover
name: app
fencing:
  method: none
lock-type: sanlock
lvm:
  - vg: vgx
    lv: lvx
filesystems:
  - device: /dev/vgx/lvx
    directory: $MNT2
    fstype: ext4
ips:
  - address: $VIP2/24
services:
  - agent: ocf:pacemaker:Dummy
EOF
G2=app-group
active_on() { on "$1" "dmsetup info vgx-lvx" >/dev/null 2>&1; }
runs() { # NODE: the group on NODE, the LV active there only, ext4 mounted, VIP up, service started
  [ "$(where $G2)" = "$1" ] && [ "$(where app-Dummy)" = "$1" ] && active_on "$1" && ! active_on "$(other "$1")" &&
    on "$1" "mountpoint -q $MNT2 && ip -o addr | grep -q ' $VIP2/'" >/dev/null 2>&1
}
progress "stacks: tsstor stack apply (exclusive LV)"
t0=$SECONDS
check $A apply "tsstor stack apply: an exclusive LV (lvmlockd, sanlock) -> ext4 -> VIP -> service" $T stack apply /tmp/exclusive-lv.yaml --quiet
wait_for 300 sh -c "[ -n \"\$(crm_resource --locate -r app-Dummy 2>/dev/null | grep 'running on')\" ]"
N=$(where $G2)
if [ -n "$N" ] && runs "$N"; then
  result $A start "lvmlockd on both nodes; LV active on $N only, ext4 mounted, VIP and service up ($((SECONDS - t0)) s after apply)" PASS
else result $A start "the exclusive-LV stack runs on one node" FAIL "$(crm_mon -1 | tail -10 | tr '\n' ' ' | cut -c1-250)"; fi
on "$N" "echo exclusive > $MNT2/proof && sync" >/dev/null
O=$(other "$N")
t0=$SECONDS
crm_resource --ban -r $G2 -N "$N" >/dev/null 2>&1
if wait_for 300 runs "$O" && [ "$(on "$O" "cat $MNT2/proof")" = exclusive ]; then
  result $A move "moved $N -> $O: LV deactivated on $N, activated exclusively on $O, the file intact ($((SECONDS - t0)) s)" PASS
else result $A move "exclusive LV moved $N -> $O" FAIL "$(crm_mon -1 | tail -10 | tr '\n' ' ' | cut -c1-250)"; fi
crm_resource --clear -r $G2 >/dev/null 2>&1
# the LV is exclusive: activating it by hand on the node without the group is refused by its lock
on "$N" "lvchange -aey vgx/lvx" > /tmp/stk-lv-ex.log 2>&1
check $A move "lvchange -aey on $N while the group runs on $O: refused by the sanlock lease" test $? != 0
t0=$SECONDS
check $A delete "tsstor stack delete app" $T stack delete app --quiet
gone2() { ! crm_mon -1 | grep -q 'app-' && ! active_on n1 && ! active_on n2 && ! pidof lvmlockd >/dev/null; }
if wait_for 180 gone2; then result $A delete "everything stopped: LV inactive on both nodes, lvmlockd stopped ($((SECONDS - t0)) s)" PASS
else result $A delete "everything stopped" FAIL "$(crm_mon -1 | grep app- | head -3 | tr '\n' ' ')"; fi
pcmk_clear
exit 0 # results are in the rows; a non-zero exit means the suite itself broke
