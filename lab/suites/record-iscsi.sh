# Recordings of real open-iscsi (iscsiadm, the kernel's iSCSI sysfs, udev's links) for the fake
# iscsiadm and the emulated sysfs in test/fakes/iscsiadm.ts. The array: lab/guest/san.sh.
source /lab/guest/lib.sh
source /lab/guest/san.sh
T=iscsiadm
san_array_up || { result - - "array set up" FAIL "$(tail -1 /tmp/array-setup.log)"; exit 1; }
san_initiator_reset
versions $T iscsiadm --version
versions $T dpkg-query -W open-iscsi multipath-tools
versions $T uname -r
note $T README "Recorded in the lab VM (Debian bookworm, kernel $(uname -r)). The array (lab/guest/san.sh): $ARRAY_IQN (tpgt 1, LUNs 1 and 2) at $P1 and $P2, $CHAP_IQN (LUN 1, mutual CHAP labuser/labarray) at $PCHAP; nothing listens on 127.0.0.9. Cases in order; each CASE.cmd is the exact command line, .out/.err/.rc its stdout, stderr and exit code."

sysfs_of() { # CASE SID: the files the agent reads, as path = value lines
  local s=/sys/class/iscsi_session/session$2 c
  c=$(ls -d /sys/class/iscsi_connection/connection$2:* | head -1)
  rec $T "$1" sh -c "cd $s && for f in targetname tpgt state recovery_tmo; do echo \"session/\$f = \$(cat \$f)\"; done;
    cd $c && for f in persistent_address persistent_port address port state; do echo \"connection/\$f = \$(cat \$f 2>&1)\"; done;
    cd $s/device && ls -d target*/*:*:*:*/block/* | sort; for d in target*/*:*:*:*; do echo \"\$d/state = \$(cat \$d/state)\"; done"
}
sid_of() { iscsiadm -m session 2>/dev/null | awk -v p="$1," -v t="$2" 'index($3, p) == 1 && $4 == t { gsub(/[][]/, "", $2); print $2 }'; }

rec $T 01-version iscsiadm --version
rec $T 02-session-none iscsiadm -m session
rec $T 03-node-none iscsiadm -m node
rec $T 04-login-no-record iscsiadm -m node -T $ARRAY_IQN -p $P1 --login
rec $T 05-discovery iscsiadm -m discovery -t sendtargets -p $P1 -o new
rec $T 06-discovery-again iscsiadm -m discovery -t sendtargets -p $P1 -o new
rec $T 07-discovery-refused iscsiadm -m discovery -t sendtargets -p 127.0.0.9:3260 -o new
rec $T 08-node-list iscsiadm -m node
rec_file $T 09-record-file "$ISCSI_DB/nodes/$ARRAY_IQN/127.0.0.1,3260,1/default"
rec $T 10-login iscsiadm -m node -T $ARRAY_IQN -p $P1 --login
rec $T 11-login-again iscsiadm -m node -T $ARRAY_IQN -p $P1 --login
rec $T 12-login-p2 iscsiadm -m node -T $ARRAY_IQN -p $P2 --login
rec $T 13-session-list iscsiadm -m session
udevadm settle
S1=$(sid_of $P1 $ARRAY_IQN) S2=$(sid_of $P2 $ARRAY_IQN)
note $T 14-sysfs-session "session $S1 ($P1)"
sysfs_of 14-sysfs-session "$S1"
rec $T 15-by-path sh -c "ls -1 /dev/disk/by-path | grep iscsi | sort"
# a cut path: the session fails, then recovers when the path returns
san_cut 127.0.0.10 3260
sleep 25
note $T 16-sysfs-session-cut "session $S2 ($P2) about 25 s after its path was cut (nft drop)"
sysfs_of 16-sysfs-session-cut "$S2"
san_restore
for _ in $(seq 1 60); do [ "$(cat /sys/class/iscsi_session/session$S2/state)" = LOGGED_IN ] && break; sleep 1; done
note $T 17-sysfs-session-restored "session $S2 after its path came back"
sysfs_of 17-sysfs-session-restored "$S2"
rec $T 18-logout-sid iscsiadm -m session -r "$S2" --logout
rec $T 19-logout-sid-gone iscsiadm -m session -r "$S2" --logout
rec $T 20-logout-p1 iscsiadm -m session -r "$S1" --logout
rec $T 21-session-none-after iscsiadm -m session
# CHAP: the secrets written into the node record file (as the agent does), not through argv
rec $T 22-discovery-chap iscsiadm -m discovery -t sendtargets -p $PCHAP -o new
rec $T 23-login-chap-none iscsiadm -m node -T $CHAP_IQN -p $PCHAP --login
REC=$ISCSI_DB/nodes/$CHAP_IQN/127.0.0.1,3261,1/default
set_keys() { # FILE KEY=VALUE...: replace or add "key = value" before "# END RECORD"
  local f=$1 kv k v; shift
  for kv in "$@"; do
    k=${kv%%=*} v=${kv#*=}
    if grep -q "^$k = " "$f"; then sed -i "s|^$k = .*|$k = $v|" "$f"
    else sed -i "s|^# END RECORD|$k = $v\n# END RECORD|" "$f"; fi
  done
}
set_keys "$REC" node.session.auth.authmethod=CHAP node.session.auth.username=labuser node.session.auth.password=wrongsecret99
rec $T 24-login-chap-wrong iscsiadm -m node -T $CHAP_IQN -p $PCHAP --login
set_keys "$REC" node.session.auth.password=sanchapsecret1 node.session.auth.username_in=labarray node.session.auth.password_in=wrongsecret99
rec $T 25-login-chap-mutual-wrong iscsiadm -m node -T $CHAP_IQN -p $PCHAP --login
set_keys "$REC" node.session.auth.password_in=sanarraysecret2
rec $T 26-login-chap iscsiadm -m node -T $CHAP_IQN -p $PCHAP --login
S3=$(sid_of $PCHAP $CHAP_IQN)
rec $T 27-logout-chap iscsiadm -m session -r "$S3" --logout
# a login through a cut path (the record exists): how long, which error
iscsiadm -m node -T $ARRAY_IQN -p $P2 -o update -n node.session.initial_login_retry_max -v 1
iscsiadm -m node -T $ARRAY_IQN -p $P2 -o update -n node.conn[0].timeo.login_timeout -v 5
san_cut 127.0.0.10 3260
note $T 28-login-cut "path to $P2 cut (nft drop); login_timeout 5, initial_login_retry_max 1"
rec $T 28-login-cut iscsiadm -m node -T $ARRAY_IQN -p $P2 --login
rec $T 29-discovery-cut timeout 60 iscsiadm -m discovery -t sendtargets -p $P2 -o new
san_restore
# iscsid not running
kill "$(pidof iscsid)" 2>/dev/null; sleep 1
systemctl stop iscsid.socket iscsid.service 2>/dev/null
rec $T 30-login-no-iscsid iscsiadm -m node -T $ARRAY_IQN -p $P1 --login
rec $T 31-discovery-no-iscsid iscsiadm -m discovery -t sendtargets -p $P1 -o new
iscsid </dev/null >/dev/null 2>&1
sleep 1
# what upstream's agent runs: discoverydb -D, a record shown, a session printed (-P 1)
rec $T 32-discoverydb iscsiadm -m discoverydb -t sendtargets -p $P1 -D
rec $T 33-node-show iscsiadm -m node -T $ARRAY_IQN -p $P1
iscsiadm -m node -T $ARRAY_IQN -p $P1 --login >/dev/null 2>&1
S1=$(sid_of $P1 $ARRAY_IQN)
rec $T 34-session-print iscsiadm -m session -r "$S1" -P 1
san_cut 127.0.0.1 3260
sleep 25
note $T 35-session-print-cut "session $S1 about 25 s after its path was cut"
rec $T 35-session-print-cut iscsiadm -m session -r "$S1" -P 1
san_restore
for _ in $(seq 1 60); do [ "$(cat /sys/class/iscsi_session/session$S1/state)" = LOGGED_IN ] && break; sleep 1; done
iscsiadm -m session -r "$S1" --logout >/dev/null 2>&1
san_initiator_reset
result - - "iscsiadm recorded" PASS
