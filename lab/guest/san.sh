# The storage arrays of the SAN suites (sourced by suites/record-iscsi.sh, iscsi.sh, san-pair.sh).
# For record-iscsi and iscsi: a LIO target on this VM that is not managed by any agent here,
# exporting two LUNs through two portals, 127.0.0.1:3260 and 127.0.0.10:3260 (two paths for
# multipath; the second address starts with the first's text, as 10.0.0.1 and 10.0.0.10 do), plus
# a CHAP-only target (mutual CHAP) on 127.0.0.1:3261; paths are cut with nft. For san-pair: tgtd on
# the lab host (below). The initiator is this VM's open-iscsi.
ARRAY_IQN=iqn.2003-01.org.tsstor.lab:array
CHAP_IQN=iqn.2003-01.org.tsstor.lab:array-chap
SAN_INIT=iqn.1993-08.org.debian:01:sanlab
P1=127.0.0.1:3260
P2=127.0.0.10:3260
PCHAP=127.0.0.1:3261

# san_initiator_up INITIATOR_NAME: this VM's open-iscsi with that name and the path timeouts
# multipath wants, iscsid (re)started so that it reads them
san_initiator_up() {
  modprobe iscsi_tcp
  echo "InitiatorName=$1" > /etc/iscsi/initiatorname.iscsi
  # multipath wants a path failed within seconds, not after open-iscsi's default 120 s
  # (the usual multipath setting; the records made by discovery take it from here)
  sed -i 's/^node.session.timeo.replacement_timeout = .*/node.session.timeo.replacement_timeout = 10/' /etc/iscsi/iscsid.conf
  # and a login through a cut path gives up after one 5 s attempt (default: 8 x 15 s), so a
  # path resource's start fails inside its timeout instead of being killed at it
  sed -i -e 's/^node.session.initial_login_retry_max = .*/node.session.initial_login_retry_max = 1/' \
    -e 's/^node.conn\[0\].timeo.login_timeout = .*/node.conn[0].timeo.login_timeout = 5/' /etc/iscsi/iscsid.conf
  # iscsid reads the initiator name once, at its start: an earlier suite's iscsid would log in
  # under that suite's name, which the array's ACL refuses (as an authorization failure)
  iscsiadm -m session -u >/dev/null 2>&1
  # and by hand: with systemd's iscsid.socket holding iscsid's IPC socket, an iscsid started here
  # cannot bind it ("Can not bind IPC socket"); the next iscsiadm would start systemd's instead
  systemctl stop iscsid.socket iscsid.service >/dev/null 2>&1
  for p in $(pidof iscsid); do kill "$p"; done
  for _ in $(seq 1 20); do pidof iscsid >/dev/null || break; sleep 0.5; done
  iscsid </dev/null >/dev/null 2>&1
}

san_array_up() {
  mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
  modprobe target_core_mod; modprobe iscsi_target_mod; modprobe target_core_file
  san_initiator_up "$SAN_INIT"
  targetcli clearconfig confirm=True >/dev/null 2>&1
  # blank LUNs for every suite: an earlier suite's filesystem on a LUN makes vgcreate stop at
  # "existing signature left on the device" (it asks before wiping, and nobody answers)
  rm -f /var/tmp/array-lun1.img /var/tmp/array-lun2.img /var/tmp/chap-lun1.img
  truncate -s 256M /var/tmp/array-lun1.img /var/tmp/array-lun2.img
  truncate -s 64M /var/tmp/chap-lun1.img
  printf '%s\n' 'set global auto_add_default_portal=false auto_save_on_exit=false auto_add_mapped_luns=true' \
    '/backstores/fileio create name=array1 file_or_dev=/var/tmp/array-lun1.img' \
    '/backstores/fileio create name=array2 file_or_dev=/var/tmp/array-lun2.img' \
    '/backstores/fileio create name=chap1 file_or_dev=/var/tmp/chap-lun1.img' \
    "/iscsi create $ARRAY_IQN" \
    "/iscsi/$ARRAY_IQN/tpg1/portals create 127.0.0.1 3260" \
    "/iscsi/$ARRAY_IQN/tpg1/portals create 127.0.0.10 3260" \
    "/iscsi/$ARRAY_IQN/tpg1/luns create /backstores/fileio/array1 1" \
    "/iscsi/$ARRAY_IQN/tpg1/luns create /backstores/fileio/array2 2" \
    "/iscsi/$ARRAY_IQN/tpg1/acls create $SAN_INIT" \
    "/iscsi/$ARRAY_IQN/tpg1 set attribute authentication=0" \
    "/iscsi create $CHAP_IQN" \
    "/iscsi/$CHAP_IQN/tpg1/portals create 127.0.0.1 3261" \
    "/iscsi/$CHAP_IQN/tpg1/luns create /backstores/fileio/chap1 1" \
    "/iscsi/$CHAP_IQN/tpg1/acls create $SAN_INIT" \
    "/iscsi/$CHAP_IQN/tpg1/acls/$SAN_INIT set auth userid=labuser password=sanchapsecret1 mutual_userid=labarray mutual_password=sanarraysecret2" \
    "/iscsi/$CHAP_IQN/tpg1 set attribute authentication=1" \
    exit | targetcli >/tmp/array-setup.log 2>&1
  # the address 127.0.0.10 is on lo already (127.0.0.0/8)
  test -d "/sys/kernel/config/target/iscsi/$ARRAY_IQN/tpgt_1/np/127.0.0.10:3260"
}

# a clean initiator: no sessions, no records
san_initiator_reset() {
  iscsiadm -m session -u >/dev/null 2>&1
  iscsiadm -m node -o delete >/dev/null 2>&1
  rm -rf "$ISCSI_DB"/nodes/* "$ISCSI_DB"/send_targets/* 2>/dev/null
  true
}

# cut / restore the path to one portal (both directions, the TCP port on that address only)
san_cut() { # ADDR PORT
  nft list table inet sancut >/dev/null 2>&1 || { nft add table inet sancut &&
    nft add chain inet sancut in '{ type filter hook input priority 0; }' &&
    nft add chain inet sancut out '{ type filter hook output priority 0; }'; }
  nft add rule inet sancut in ip daddr "$1" tcp dport "$2" drop
  nft add rule inet sancut out ip saddr "$1" tcp sport "$2" drop
}
san_restore() { nft delete table inet sancut 2>/dev/null; true; }

# multipathd for the array's LUNs only (vd* are the VM's own disks)
san_multipath_up() {
  modprobe dm_multipath
  cat > /etc/multipath.conf <<'MP'
defaults {
    user_friendly_names yes
    find_multipaths off
    polling_interval 2
    no_path_retry 12
}
overrides {
    no_path_retry 12
}
blacklist {
    devnode "^vd[a-z]"
}
MP
  pidof multipathd >/dev/null || multipathd
  sleep 1
  multipath -r >/dev/null 2>&1; true
}
# the disk (sdX) behind one portal's path to a LUN of the array, from udev's by-path link
san_disk() { # PORTAL LUN [IQN]
  local l=/dev/disk/by-path/ip-$1-iscsi-${3:-$ARRAY_IQN}-lun-$2
  for _ in $(seq 1 30); do [ -e "$l" ] && break; sleep 1; done
  basename "$(readlink -f "$l")"
}
# the device-mapper map holding a disk (the multipath map of its LUN), waiting up to 30 s for it
san_map_of() { # sdX
  local h
  for _ in $(seq 1 30); do
    h=$(ls /sys/block/"$1"/holders 2>/dev/null | head -1)
    [ -n "$h" ] && { cat /sys/block/"$h"/dm/name; return 0; }
    sleep 1
  done
  return 1
}
# wait up to 60 s until MAP has N paths its kernel table calls active ("M:m A" in dmsetup status)
san_active_paths() { dmsetup status "$1" 2>/dev/null | grep -Eo '[0-9]+:[0-9]+ A' | wc -l; }
san_wait_paths() { # MAP N
  for _ in $(seq 1 60); do [ "$(san_active_paths "$1")" = "$2" ] && return 0; sleep 1; done
  echo "$1: $(san_active_paths "$1") active paths, want $2: $(dmsetup status "$1" 2>&1)"; return 1
}

# san_stop_order_ok LOG FROM: in Pacemaker's LOG from line FROM on (a stop of the whole SAN stack),
# both logouts came after the unmount and the deactivation
san_stop_order_ok() {
  local fs lv p
  fs=$(tail -n +"$2" "$1" | grep -nE 'Result of stop operation for san-fs(:[0-9]+)? on ' | tail -1 | cut -d: -f1)
  lv=$(tail -n +"$2" "$1" | grep -nE 'Result of stop operation for san-lv(:[0-9]+)? on ' | tail -1 | cut -d: -f1)
  p=$(tail -n +"$2" "$1" | grep -nE 'Result of stop operation for san-path[0-9]*(:[0-9]+)? on ' | head -1 | cut -d: -f1)
  echo "fs stop line $fs, lv stop line $lv, first path stop line $p"
  [ -n "$fs" ] && [ -n "$lv" ] && [ -n "$p" ] && [ "$fs" -lt "$lv" ] && [ "$lv" -lt "$p" ]
}

# ---- the two-node SAN (suite san-pair) ------------------------------------------------------
# The array is not a cluster node: tgtd on the lab host (run.sh), one LUN of a file there. Each
# VM reaches it through two networks of its own, QEMU user-mode networks isolated from everything
# but one forward each, to tgtd on the host's loopback: path A 10.213.20.0/24 (the array at
# .100:3260), path B 10.213.21.0/24; QEMU's link control cuts one path (netdevs sana, sanb).
PAIR_IQN=iqn.2003-01.org.tsstor.lab:pair-array
PA=10.213.20.100:3260
PB=10.213.21.100:3260
# san_pair_node_up: this node's two path NICs addressed (found by their MACs, run.sh), its own
# initiator name, and a static node record per portal: tgtd answers a SendTargets discovery with
# the address it listens on, the host's loopback, which is not the array's address seen from here
# (an array behind NAT: operators add the records by hand, as here; the agent then skips discovery)
san_pair_node_up() {
  local n=${ROLE#n} net nic
  for net in 20 21; do
    nic=$(ip -o link show | grep -i "link/ether 52:54:00:12:$net:0$n " | cut -d: -f2 | tr -d ' ')
    [ -n "$nic" ] || { echo "no NIC with MAC 52:54:00:12:$net:0$n"; return 1; }
    ip link set "$nic" up && ip addr replace "10.213.$net.1$n/24" dev "$nic" || return 1
  done
  san_initiator_up "iqn.1993-08.org.debian:01:sanpair-$ROLE" || return 1
  san_initiator_reset
  iscsiadm -m node -o new -T $PAIR_IQN -p $PA >/dev/null && iscsiadm -m node -o new -T $PAIR_IQN -p $PB >/dev/null
}
