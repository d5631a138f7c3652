# Guest-side helpers for the lab suites (sourced by main.sh, the suites and peer-exec.sh).
# Result rows: /results/results.tsv = suite<TAB>agent<TAB>action<TAB>case<TAB>PASS|FAIL|SKIP<TAB>detail
# Recordings: /results/recordings/<tool>/<case>.{cmd,out,err,rc} (+ .note), copied by the host
# into test/recordings/ with `bash lab/run.sh --record`.

export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export OCF_ROOT=/usr/lib/ocf
RESULTS=${RESULTS:-/results}
[ -n "${ROLE:-}" ] || { set -a; source /lab/job 2>/dev/null; set +a; }
RA_DIR=/usr/lib/ocf/resource.d/tsstor
PEER_PORT=7001
SUITE=${SUITE:-none}

lab_setup_node() {
  hostname "$ROLE"
  echo "$ROLE" > /etc/hostname
  printf '127.0.0.1 localhost\n10.213.9.1 n1\n10.213.9.2 n2\n' > /etc/hosts
  mkdir -p "$RESULTS/recordings" "$RA_DIR" /usr/local/lib/tsstor
  if [ -x /lab/bin/tsstor-agents ]; then
    ln -sf /lab/bin/tsstor-agents /usr/local/lib/tsstor/tsstor-agents
    for a in $(/usr/local/lib/tsstor/tsstor-agents --list); do
      # the package's shell front (packaging/front.sh) when the payload has it
      if [ -f "/lab/agents/$a" ]; then install -m 0755 "/lab/agents/$a" "$RA_DIR/$a"
      else ln -sf /usr/local/lib/tsstor/tsstor-agents "$RA_DIR/$a"; fi
    done
  fi
  echo "TSSTOR-LAB: agents: $(ls "$RA_DIR" | tr '\n' ' ')"
  if [ "${NODES:-1}" -ge 2 ]; then
    local nic n=${ROLE#n}
    # by its MAC (run.sh): the pair phase's VMs also have the two-node SAN suite's NICs
    nic=$(ip -o link show | grep -i "link/ether 52:54:00:12:09:0$n " | cut -d: -f2 | tr -d ' ')
    ip link set "$nic" up
    ip addr add "10.213.9.$n/24" dev "$nic"
    echo "TSSTOR-LAB: $nic 10.213.9.$n/24"
  fi
}

# progress MSG: to the suite log and (fd 3, opened by main.sh) to the serial console.
progress() { echo "$*"; { echo "$*" >&3; } 2>/dev/null || true; }

# ---- results -----------------------------------------------------------------------------
# The agent column is PROVIDER:AGENT when a suite sets PROV (tsstor, or heartbeat for upstream).
result() { # AGENT ACTION CASE STATUS [DETAIL]
  local a=$1 st=$4
  [ -n "${PROV:-}" ] && [ "${a#*:}" = "$a" ] && a="$PROV:$a"
  # upstream agents run as a reference: their rows never fail the lab
  case "$a" in tsstor:*|-|*:-) ;; *:*) case $st in PASS) st=ref-pass ;; FAIL) st=ref-fail ;; esac ;; esac
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$SUITE" "$a" "$2" "$3" "$st" "${5:-}" >> "$RESULTS/results.tsv"
  progress "RESULT $st $a $2: $3${5:+ ($5)}"
}
have_agent() { [ -x "$RA_DIR/$1" ]; }
# reference: whether this run includes the upstream agents' reference runs (run.sh: only when the
# recorded package versions changed, or with --reference / --record)
reference() { [ "${REFERENCE:-1}" = 1 ]; }
# Skip a whole agent's part of a suite with a clear message when the payload lacks it.
need_agent() {
  have_agent "$1" && return 0
  result "$1" - "agent not in payload (tsstor-agents --list)" SKIP
  return 1
}

# ra AGENT ACTION [name=value...]: run an agent as Pacemaker would (CRM_meta_x=v becomes
# OCF_RESKEY_CRM_meta_x); returns its rc, its output in $RA_LOG.
RA_LOG=/tmp/ra.log
RA_INSTANCE=${RA_INSTANCE:-lab}
ra() {
  local agent=$1 action=$2; shift 2
  local -a envs=(OCF_ROOT=/usr/lib/ocf OCF_RA_VERSION_MAJOR=1 OCF_RA_VERSION_MINOR=1
    "OCF_RESOURCE_INSTANCE=$RA_INSTANCE" "OCF_RESOURCE_TYPE=$agent" OCF_RESOURCE_PROVIDER=tsstor
    "OCF_RESKEY_CRM_meta_timeout=${RA_TIMEOUT_MS:-120000}" HA_RSCTMP=/run/resource-agents)
  local kv
  for kv in "$@"; do
    case "$kv" in
      OCF_CHECK_LEVEL=*) envs+=("$kv") ;;
      *) envs+=("OCF_RESKEY_$kv") ;; # parameters and CRM_meta_* (as Pacemaker passes meta)
    esac
  done
  mkdir -p /run/resource-agents
  # Pacemaker kills an action at its timeout: so does the lab (an agent that loops forever, as
  # upstream iscsi's udev wait can, ends with 137 instead of hanging the suite)
  timeout -s KILL "$(( ${RA_TIMEOUT_MS:-120000} / 1000 + 5 ))" \
    env -i "${envs[@]}" PATH="$PATH" "$RA_DIR/$agent" "$action" > "$RA_LOG" 2>&1 3>&-
  local rc=$?
  cat "$RA_LOG" >> /tmp/ra-all.log
  { echo "--- $agent $action rc=$rc ($*)" | sed 's/password=[^ ]*/password=***/g'; cat "$RA_LOG"; } >&2
  return $rc
}
# expect RC AGENT ACTION CASE [name=value...]: one result row from an agent call.
expect() {
  local want=$1 agent=$2 action=$3 case=$4; shift 4
  ra "$agent" "$action" "$@"
  local rc=$?
  if [ "$rc" = "$want" ]; then result "$agent" "$action" "$case" PASS "rc=$rc"
  else result "$agent" "$action" "$case" FAIL "rc=$rc want $want: $(grep -m1 exit-reason "$RA_LOG" | cut -c1-150)"; fi
  [ "$rc" = "$want" ]
}
# check AGENT ACTION CASE CMD...: a result row from any command's success.
check() {
  local agent=$1 action=$2 case=$3; shift 3
  # the detail is this check's own output (not an earlier check's last line)
  if "$@" >/tmp/check.out 2>&1 3>&-; then result "$agent" "$action" "$case" PASS
  else result "$agent" "$action" "$case" FAIL "$(tail -1 /tmp/check.out | cut -c1-150)"; fi
  cat /tmp/check.out >> /tmp/check.log
}

# ---- recordings ----------------------------------------------------------------------------
# rec TOOL CASE CMD...: run CMD, keep its exact argv, stdout, stderr and exit code.
# REC_LIMIT=SECONDS rec ...: CMD killed (SIGKILL, rc 137) if it has not returned by then.
rec() {
  local tool=$1 case=$2; shift 2
  local d="$RESULTS/recordings/$tool"
  mkdir -p "$d"
  printf '%q ' "$@" | sed 's/ $//' > "$d/$case.cmd"; echo >> "$d/$case.cmd"
  ${REC_LIMIT:+timeout -s KILL "$REC_LIMIT"} "$@" 3>&- > "$d/$case.out" 2> "$d/$case.err"
  local rc=$?
  echo "$rc" > "$d/$case.rc"
  progress "REC $tool/$case rc=$rc"
  return $rc
}
# rec_in TOOL CASE INPUT CMD...: like rec, with INPUT (a string) on stdin, kept as CASE.in.
rec_in() {
  local tool=$1 case=$2 input=$3; shift 3
  local d="$RESULTS/recordings/$tool"
  mkdir -p "$d"
  printf '%s' "$input" > "$d/$case.in"
  printf '%q ' "$@" | sed 's/ $//' > "$d/$case.cmd"; echo >> "$d/$case.cmd"
  "$@" 3>&- < "$d/$case.in" > "$d/$case.out" 2> "$d/$case.err"
  local rc=$?
  echo "$rc" > "$d/$case.rc"
  progress "REC $tool/$case rc=$rc (stdin)"
  return $rc
}
# note TOOL CASE TEXT: what state the system was in when CASE was recorded.
note() { mkdir -p "$RESULTS/recordings/$1"; echo "$3" > "$RESULTS/recordings/$1/$2.note"; }
# rec_file TOOL CASE FILE: a file's content (e.g. /proc/drbd) as a recording.
rec_file() { rec "$1" "$2" cat "$3"; }
# versions TOOL CMD...: append version lines to recordings/TOOL/VERSIONS.
versions() {
  local tool=$1; shift
  mkdir -p "$RESULTS/recordings/$tool"
  { echo "\$ $*"; "$@" 2>&1 | head -5; } >> "$RESULTS/recordings/$tool/VERSIONS"
}
# dump_tree TOOL CASE DIR: every file under DIR (configfs) with its readable content.
dump_tree() {
  local tool=$1 case=$2 dir=$3 d="$RESULTS/recordings/$1"
  mkdir -p "$d"
  echo "find $dir -> path | type | content" > "$d/$case.cmd"
  python3 - "$dir" > "$d/$case.out" 2> "$d/$case.err" <<'PY'
import os, signal, stat, sys
root = sys.argv[1]
def on_alarm(sig, frame):
    raise TimeoutError()
signal.signal(signal.SIGALRM, on_alarm)
out = []
for base, dirs, files in os.walk(root, followlinks=False):
    dirs.sort()
    rel = os.path.relpath(base, root)
    out.append(("." if rel == "." else "./" + rel) + "/")
    for name in sorted(files + [x for x in dirs if os.path.islink(os.path.join(base, x))]):
        p = os.path.join(base, name)
        r = "./" + os.path.relpath(p, root)
        if os.path.islink(p):
            out.append(f"{r} -> {os.readlink(p)}")
            continue
        mode = os.stat(p).st_mode
        if not mode & stat.S_IRUSR:
            out.append(f"{r} (write-only)")
            continue
        try:
            signal.alarm(2)
            with open(p, "rb") as f:
                v = f.read(300)
            signal.alarm(0)
            v = v.decode("utf-8", "replace").replace("\0", ".").replace("\n", "|").rstrip("|")
            out.append(f"{r} = {v}")
        except TimeoutError:
            out.append(f"{r} (read blocked)")
        except OSError as e:
            signal.alarm(0)
            out.append(f"{r} (read error: {e.strerror})")
    dirs[:] = [x for x in dirs if not os.path.islink(os.path.join(base, x))]
print("\n".join(out))
PY
  echo $? > "$d/$case.rc"
  progress "REC $tool/$case (tree of $dir)"
}

# ---- two VMs: n1 drives, n2 serves commands ------------------------------------------------
serve_peer() {
  # -t: after n1 half-closes, wait for the whole output (the default 0.5 s cuts long commands)
  socat -t 3600 TCP-LISTEN:$PEER_PORT,reuseaddr,fork EXEC:/lab/guest/peer-exec.sh &
  local pid=$!
  while [ ! -e /tmp/peer-done ]; do sleep 1; done
  kill "$pid"
}
# on_peer SCRIPT: run bash SCRIPT on n2 (with this lib sourced); prints its output, returns its rc.
on_peer() {
  local out rc
  out=$(printf '%s\n' "$1" | base64 -w0 | timeout "${PEER_TIMEOUT:-900}" socat -t 3600 -T 3600 - TCP:10.213.9.2:$PEER_PORT,connect-timeout=5)
  rc=$(printf '%s\n' "$out" | sed -n 's/^__RC__=//p' | tail -1)
  printf '%s\n' "$out" | grep -v '^__RC__='
  return "${rc:-255}"
}
wait_peer() {
  for _ in $(seq 1 240); do
    on_peer true >/dev/null 2>&1 && return 0
    sleep 1
  done
  return 1
}
peer_done() { [ -e /tmp/peer-dead ] || on_peer 'touch /tmp/peer-done' >/dev/null 2>&1 || true; }

# ---- what a suite needs, set up by the suite itself ------------------------------------------
# No suite may count on what an earlier one left: the record-* suites are skipped while the
# recorded package versions are unchanged (run.sh), and --suites runs any subset. Each suite starts
# what it uses with these helpers and the starters below; all are idempotent.

# lio_target_up: configfs, the LIO target core with the iSCSI fabric and the fileio/iblock
# backstores (the kernel would load those on first use; loaded here so nothing depends on who was
# first), and no target configuration left by an earlier suite.
lio_target_up() {
  mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config || return 1
  local m
  for m in target_core_mod iscsi_target_mod target_core_file target_core_iblock; do modprobe "$m" || return 1; done
  targetcli clearconfig confirm=True >/dev/null 2>&1
  return 0
}
# open-iscsi's node database, compiled into iscsiadm: /etc/iscsi on Debian 12 (2.1.8), /var/lib/iscsi
# on Debian 13 (2.1.11); the agent finds it the same way (lib/iscsi/initiator.ts iscsiDbOf)
ISCSI_DB=/etc/iscsi
grep -qa /var/lib/iscsi/nodes /usr/sbin/iscsiadm 2>/dev/null && ISCSI_DB=/var/lib/iscsi
# iscsi_initiator_up INITIATOR_IQN: the kernel initiator (iscsi_tcp) with that name, iscsid running.
# iscsid reads the name once, when it starts: one that an earlier suite started with another name
# is stopped first (its sessions logged out), or every login would present the old name (the SAN
# suites' san_initiator_up, lab/guest/san.sh, always restarts it).
iscsi_initiator_up() {
  modprobe iscsi_tcp || return 1
  mkdir -p /etc/iscsi
  # systemd's iscsid.socket would hold iscsid's IPC socket (san.sh says more)
  systemctl stop iscsid.socket iscsid.service >/dev/null 2>&1
  if pidof iscsid >/dev/null && ! grep -qx "InitiatorName=$1" /etc/iscsi/initiatorname.iscsi 2>/dev/null; then
    iscsiadm -m session -u >/dev/null 2>&1
    # shellcheck disable=SC2046
    kill $(pidof iscsid) 2>/dev/null
    for _ in $(seq 1 50); do pidof iscsid >/dev/null || break; sleep 0.2; done
  fi
  echo "InitiatorName=$1" > /etc/iscsi/initiatorname.iscsi
  pidof iscsid >/dev/null || iscsid </dev/null >/dev/null 2>&1
  return 0
}

# ---- cluster stacks (idempotent: suites in one VM may share them) --------------------------
# corosync for NODES nodes (n1..nN at 10.213.9.N; a single VM uses 127.0.0.1), cluster "lab".
start_corosync() {
  pidof corosync >/dev/null && return 0
  local nodes="" i addr
  for i in $(seq 1 "${NODES:-1}"); do
    addr=10.213.9.$i; [ "${NODES:-1}" = 1 ] && addr=127.0.0.1
    nodes+="  node {
    ring0_addr: $addr
    name: n$i
    nodeid: $i
  }
"
  done
  mkdir -p /etc/corosync
  cat > /etc/corosync/corosync.conf <<CONF
totem {
  version: 2
  cluster_name: lab
  transport: knet
  crypto_cipher: none
  crypto_hash: none
  token: 3000
}
nodelist {
$nodes}
quorum {
  provider: corosync_votequorum
$( [ "${NODES:-1}" = 2 ] && echo "  two_node: 1" )
}
logging {
  to_logfile: yes
  logfile: /var/log/corosync/corosync.log
  to_syslog: no
}
CONF
  mkdir -p /var/log/corosync
  corosync </dev/null >/dev/null 2>&1
  # up = answering (quorum needs the other node too: dlm_controld and Pacemaker wait for it)
  for _ in $(seq 1 60); do corosync-cfgtool -s >/dev/null 2>&1 && return 0; sleep 1; done
  echo "corosync did not come up"; return 1
}
# dlm_controld without fencing (the lab has no fence devices).
start_dlm() {
  pidof dlm_controld >/dev/null && return 0
  mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
  modprobe dlm
  mkdir -p /etc/dlm
  echo "enable_fencing=0" > /etc/dlm/dlm.conf
  dlm_controld </dev/null >/dev/null 2>&1
  for _ in $(seq 1 60); do dlm_tool status >/dev/null 2>&1 && return 0; sleep 1; done
  echo "dlm_controld did not come up"; return 1
}
# lvmlockd with use_lvmlockd=1 and this node's sanlock host_id; sanlock + wdmd (softdog).
lvm_use_lvmlockd() {
  sed -i 's/^\s*#\?\s*use_lvmlockd = .*/\tuse_lvmlockd = 1/' /etc/lvm/lvm.conf
  grep -q '^\s*use_lvmlockd = 1' /etc/lvm/lvm.conf || sed -i 's/^global {/global {\n\tuse_lvmlockd = 1/' /etc/lvm/lvm.conf
  local id=${ROLE#n}
  printf 'local {\n\thost_id = %s\n}\n' "$id" > /etc/lvm/lvmlocal.conf
}
start_sanlock() {
  pidof sanlock >/dev/null && return 0
  modprobe softdog
  pidof wdmd >/dev/null || wdmd </dev/null >/dev/null 2>&1
  sanlock daemon -U sanlock -G sanlock </dev/null >/dev/null 2>&1 || sanlock daemon </dev/null >/dev/null 2>&1
  for _ in $(seq 1 30); do sanlock client status >/dev/null 2>&1 && return 0; sleep 1; done
  echo "sanlock did not come up"; return 1
}
start_lvmlockd() {
  pidof lvmlockd >/dev/null && return 0
  lvm_use_lvmlockd
  lvmlockd </dev/null >/dev/null 2>&1
  for _ in $(seq 1 30); do lvmlockctl --info >/dev/null 2>&1 && return 0; sleep 1; done
  echo "lvmlockd did not come up"; return 1
}

# ---- DRBD 8.4 -------------------------------------------------------------------------------
# drbd_conf RES MINOR DISK ADDR1 ADDR2 [extra net options]: /etc/drbd.d/RES.res for n1 and n2.
drbd_conf() {
  local res=$1 minor=$2 disk=$3 a1=$4 a2=$5 net=${6:-}
  cat > /etc/drbd.d/$res.res <<CONF
resource $res {
  protocol C;
  net { $net }
  disk { c-plan-ahead 0; resync-rate 100M; }
  on n1 {
    device /dev/drbd$minor minor $minor;
    disk $disk;
    address $a1;
    meta-disk internal;
  }
  on n2 {
    device /dev/drbd$minor minor $minor;
    disk $disk;
    address $a2;
    meta-disk internal;
  }
}
CONF
}
# drbd_down RES: RES down on this node, whatever state an earlier suite left it in (one that
# stopped half-way can leave it up, even Primary, holding its minor, port and backing device).
# Call it before writing RES's new configuration: drbdadm reads the old one to take it down.
drbd_down() {
  [ -e /proc/drbd ] || return 0 # no module, nothing up
  drbdadm down "$1" >/dev/null 2>&1 || drbdsetup down "$1" >/dev/null 2>&1
  return 0
}
# the full state of RES as recordings under drbd/PREFIX-*
drbd_record_state() {
  local res=$1 p=$2
  rec drbd $p-events2-now drbdsetup events2 --now $res
  rec drbd $p-events2-now-statistics drbdsetup events2 --now --statistics $res
  rec drbd $p-status-verbose-statistics drbdsetup status $res --verbose --statistics
  rec drbd $p-status drbdsetup status $res
  rec drbd $p-sh-status drbdsetup sh-status $res
  rec drbd $p-role drbdadm role $res
  rec drbd $p-cstate drbdadm cstate $res
  rec drbd $p-dstate drbdadm dstate $res
  rec drbd $p-proc-drbd cat /proc/drbd
}
# drbd_wait RES AWK_CONDITION_ON_SH_STATUS [SECONDS]: wait until `drbdsetup sh-status RES` matches
# (a grep -E pattern), e.g. drbd_wait r0 '_cstate=Connected'.
drbd_wait() {
  local res=$1 pat=$2 n=${3:-120}
  for _ in $(seq 1 "$n"); do drbdsetup sh-status "$res" 2>/dev/null | grep -Eq "$pat" && return 0; sleep 1; done
  echo "drbd_wait $res $pat: timeout; $(drbdsetup sh-status "$res" 2>&1 | tr '\n' ' ')"; return 1
}

# ---- Pacemaker (two VMs) ----------------------------------------------------------------------
# wait_for SECONDS CMD...: poll CMD each second until it succeeds.
wait_for() {
  local n=$1; shift
  for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  return 1
}
# start_pacemaker: corosync + pacemakerd on this node (no systemd units: started by hand).
start_pacemaker() {
  start_corosync || return 1
  pidof pacemakerd >/dev/null && return 0
  mkdir -p /var/log/pacemaker /var/lib/pacemaker/cib && chown -R hacluster:haclient /var/lib/pacemaker /var/log/pacemaker
  setsid pacemakerd </dev/null >/var/log/pacemaker/pacemakerd.out 2>&1 &
  # (crmadmin -D -t 2000 hangs for minutes in Pacemaker 2.1.5 despite -t: read crm_mon instead)
  wait_for 180 sh -c "timeout 20 crm_mon -1 2>/dev/null | grep -q 'Current DC: n'"
}

# pcmk_blocked: a resource Pacemaker will not touch again, its stop having failed with no fencing
pcmk_blocked() { timeout 10 crm_mon -1 --output-as=xml 2>/dev/null | grep '<resource ' | grep -q 'blocked="true"'; }
# stop_pacemaker: a clean shutdown; if it is not over in 120 s (a stop that fails with fencing off
# holds the shutdown until shutdown-escalation, 20 min), the daemons are killed: the next suite
# then starts Pacemaker afresh instead of finding a pacemakerd that exits under it later
stop_pacemaker() {
  pidof pacemakerd >/dev/null || return 0
  pacemakerd --shutdown >/dev/null 2>&1 || kill -TERM "$(pidof pacemakerd)" 2>/dev/null
  local i
  for i in $(seq 1 120); do
    pidof pacemakerd >/dev/null || return 0
    # a resource blocked by a failed stop: the shutdown cannot end (fencing is what would end it)
    [ $((i % 10)) = 0 ] && pcmk_blocked && break
    sleep 1
  done
  progress "stop_pacemaker: $(hostname) still shutting down after $i s, daemons killed: $(timeout 20 crm_mon -1 2>&1 | grep -iE 'stopping|failed|FAILED|unclean|blocked' | head -5 | tr '\n' ' ')"
  # (sbd, if it runs, first: it resets a node whose Pacemaker dies with resources running)
  stop_sbd
  # shellcheck disable=SC2046
  kill -KILL $(pidof pacemakerd pacemaker-controld pacemaker-schedulerd pacemaker-execd pacemaker-attrd pacemaker-fenced pacemaker-based) 2>/dev/null
  sleep 1
  ! pidof pacemakerd >/dev/null
}

# start_sbd DEVICE: sbd watching DEVICE with softdog, run as sbd.service runs it (its
# EnvironmentFile; pidfile /run/sbd.pid, where Pacemaker looks for it). stop_sbd: TERM, which
# disarms the watchdog, and wait for it to go.
start_sbd() {
  printf "SBD_DEVICE=%s\nSBD_WATCHDOG_DEV=/dev/watchdog\nSBD_PACEMAKER=yes\nSBD_STARTMODE=always\nSBD_SYNC_RESOURCE_STARTUP=no\n" "$1" > /etc/default/sbd &&
    modprobe softdog && (set -a; . /etc/default/sbd; set +a; sbd -p /run/sbd.pid watch </dev/null >/dev/null 2>&1) || return 1
  for _ in $(seq 1 30); do [ -s /run/sbd.pid ] && kill -0 "$(cat /run/sbd.pid)" 2>/dev/null && return 0; sleep 1; done
  return 1
}
stop_sbd() {
  [ -s /run/sbd.pid ] || return 0
  local p; p=$(cat /run/sbd.pid); kill -TERM "$p" 2>/dev/null
  for _ in $(seq 1 30); do kill -0 "$p" 2>/dev/null || return 0; sleep 1; done
  return 1
}

# pcmk_clear: every resource stopped, then the CIB erased, stonith-enabled=false. Stopping first
# matters: a resource removed from the CIB while it runs becomes an orphan whose demote/stop the
# agents refuse ("drbd_resource is required").
pcmk_clear() {
  crm_attribute -t crm_config -n stop-all-resources -v true >/dev/null 2>&1
  crm_resource --cleanup >/dev/null 2>&1
  # (the XML: crm_mon's text puts a clone's instances on lines without the resource's name, so a
  # text grep passed at once while both split-brain Primaries were still up, and they became orphans)
  local active='crm_mon -1 --output-as=xml | grep "<resource " | grep -E "active=\"true\"|failed=\"true\""'
  # (a resource blocked by a failed stop stays active: no use waiting for it)
  settled() { ! sh -c "$active" || pcmk_blocked; }
  wait_for 180 settled || progress "pcmk_clear: resources still active: $(sh -c "$active" | grep -o 'id="[^"]*"' | tr '\n' ' ')"
  cibadmin --erase --force >/dev/null 2>&1
  crm_attribute -t crm_config -n stonith-enabled -v false >/dev/null 2>&1
}
# pcmk_pair_up: Pacemaker on both nodes and both online, no resource left in the CIB by an earlier
# suite (pcmk_clear), stonith-enabled=false, and the CIB taking writes (that write retried: right
# after a node joins, the DC's join can hold one up). Prints what failed.
pcmk_pair_up() {
  start_pacemaker && on_peer start_pacemaker >/dev/null || { echo "Pacemaker did not start on both nodes"; return 1; }
  wait_for 120 sh -c "crm_mon -1 | grep -q 'Online: \[ n1 n2 \]'" ||
    { echo "not both online: $(crm_mon -1 2>&1 | head -20 | tr '\n' ' ')"; return 1; }
  if cibadmin -Q -o resources 2>/dev/null | grep -q '<primitive'; then
    progress "pcmk_pair_up: resources left in the CIB by an earlier suite: $(cibadmin -Q -o resources | grep -o '<primitive [^>]*' | grep -o ' id="[^"]*"' | cut -d'"' -f2 | tr '\n' ' ')"
    pcmk_clear
  fi
  wait_for 60 crm_attribute -t crm_config -n stonith-enabled -v false ||
    { echo "the CIB takes no write: $(crm_attribute -t crm_config -n stonith-enabled -v false 2>&1 | tail -1)"; return 1; }
}

# ---- the host's help (two VMs; run.sh's vm_host_agent reads n1's console) ------------------
# host_request link NAME on|off: QEMU's link control cuts (or restores) every network of NAME.
# host_request boot NAME: power NAME on again after a reset (QEMU runs with -no-reboot).
host_request() { progress "TSSTOR-LAB-HOST: $*"; }
