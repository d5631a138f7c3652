# Host-side VM control for the lab (sourced by run.sh). QEMU TCG (the host's /dev/kvm cannot run
# a stock kernel), one vCPU and ~1 GiB per VM, every disk a virtio-blk-pci with a serial (the
# guest finds them under /dev/disk/by-id/virtio-SERIAL), a qcow2 overlay per VM over the cached
# image. Every QEMU we start is recorded in LAB_PIDS and killed by PID on every exit path.

LAB_PIDS=()
LAB_VM_MEM=${TSSTOR_LAB_VM_MEM:-1024}

lab_kill_all() {
  local p
  # VMs booted again by the host agent (a background subshell) are in $LAB_EXTRA_PIDS
  [ -n "${LAB_EXTRA_PIDS:-}" ] && [ -f "$LAB_EXTRA_PIDS" ] && mapfile -t -O "${#LAB_PIDS[@]}" LAB_PIDS < "$LAB_EXTRA_PIDS" && rm -f "$LAB_EXTRA_PIDS"
  for p in "${LAB_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${LAB_PIDS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.3; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  LAB_PIDS=()
}

# disk_args FILE SERIAL FORMAT [ro|rw|shared]
disk_args() {
  local file=$1 serial=$2 fmt=$3 mode=${4:-rw} opts=""
  case $mode in
    ro) opts=",readonly=on" ;;
    shared) opts=",file.locking=off,cache=none" ;;
    *) opts=",cache=unsafe" ;;
  esac
  local dev="virtio-blk-pci,drive=d-$serial,serial=$serial"
  [ "$mode" = shared ] && dev+=",share-rw=on"
  echo "-drive file=$file,format=$fmt,if=none,id=d-$serial$opts -device $dev"
}

# vm_start NAME RUNDIR PAYLOAD_IMG [qemu args...]: boots NAME in the background.
vm_start() {
  local name=$1 run=$2 payload=$3; shift 3
  local img; img=$(lab_image_dir)
  qemu-img create -q -f qcow2 -b "$img/root.img" -F raw "$run/$name-root.qcow2"
  rm -f "$run/$name-results.img"
  truncate -s 256M "$run/$name-results.img"
  mkfs.ext4 -q -F -L results "$run/$name-results.img"
  truncate -s 1G "$run/$name-data.img"
  # the whole command line, kept so that vm_boot_again can power the same VM on again
  # shellcheck disable=SC2046
  local -a argv=(qemu-system-x86_64 -name "$name" -nodefaults -display none -no-reboot
    -accel tcg,tb-size=256 -cpu max -m "$LAB_VM_MEM" -smp 1
    -kernel "$img/vmlinuz" -initrd "$img/initrd.img"
    -append "console=ttyS0 root=LABEL=root rw quiet systemd.show_status=0 panic=-1"
    -serial "file:$run/$name-console.log"
    -serial "unix:$run/$name-shell.sock,server=on,wait=off"
    -monitor "unix:$run/$name-monitor.sock,server=on,wait=off"
    $(disk_args "$run/$name-root.qcow2" root qcow2)
    $(disk_args "$payload" payload raw ro)
    $(disk_args "$run/$name-results.img" results raw)
    $(disk_args "$run/$name-data.img" data raw)
    "$@")
  printf '%q ' "${argv[@]}" > "$run/$name.argv"
  # its networks' ids, for the host agent's link control
  local a prev="" ids=""
  for a in "$@"; do
    if [ "$prev" = -netdev ]; then ids+=" $(sed -n 's/.*id=\([^,]*\).*/\1/p' <<< "$a")"; fi
    prev=$a
  done
  echo "${ids# }" > "$run/$name.netdevs"
  "${argv[@]}" > "$run/$name-qemu.log" 2>&1 &
  LAB_PIDS+=("$!")
  echo "$!" > "$run/$name.pid"
  log "$name: qemu pid $!"
}

# vm_boot_again NAME RUNDIR: power a VM that reset itself (-no-reboot: QEMU exited) on again,
# same disks (its root overlay and results disk keep what the first boot wrote). Prints the pid.
vm_boot_again() {
  local name=$1 run=$2 old
  old=$(cat "$run/$name.pid")
  for _ in $(seq 1 120); do kill -0 "$old" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$old" 2>/dev/null && { log "$name: still running, not booting it again"; return 1; }
  # the second boot appends to the console log (QEMU's file: chardev truncates it)
  mv "$run/$name-console.log" "$run/$name-console.$(date +%s).log"
  eval "exec $(cat "$run/$name.argv")" >> "$run/$name-qemu.log" 2>&1 &
  echo "$!" > "$run/$name.pid"
  log "$name: booted again, qemu pid $!"
  echo "$!"
}

# vm_monitor NAME RUNDIR COMMAND: one QEMU monitor (HMP) command, e.g. "set_link n0 off".
vm_monitor() {
  printf '%s\n' "$3" | socat -t 2 - "UNIX-CONNECT:$2/$1-monitor.sock" >/dev/null
}

# vm_host_agent RUNDIR DRIVER: the host's half of the two-node suites. DRIVER's console lines
# "TSSTOR-LAB-HOST: link NAME on|off [NETDEV]" (QEMU's link control: NAME's NICs lose carrier,
# every network of that VM is cut, or only NETDEV's) and "TSSTOR-LAB-HOST: boot NAME" (power NAME on
# again after its watchdog or a fencing reset it) are carried out; a log line each in RUNDIR/host-agent.log.
# Runs until killed; booted VMs' pids go to $LAB_EXTRA_PIDS for lab_kill_all.
vm_host_agent() {
  local run=$1 driver=$2 line cmd name arg dev d pid fd
  # tail exits with run.sh (--pid) at the latest; its pid is kept so run.sh stops it by PID
  exec {fd}< <(exec tail -n +1 -F --pid=$$ "$run/$driver-console.log" 2>/dev/null)
  echo "$!" > "$run/host-agent-tail.pid"
  while IFS= read -r -u "$fd" line; do
    line=${line//$'\r'/}
    case "$line" in *"TSSTOR-LAB-HOST: "*) ;; *) continue ;; esac
    read -r cmd name arg dev <<< "${line##*TSSTOR-LAB-HOST: }"
    case "$cmd" in
      link)
        for d in ${dev:-$(cat "$run/$name.netdevs" 2>/dev/null)}; do
          if vm_monitor "$name" "$run" "set_link $d $arg"; then log "host agent: $name link $d $arg"; else log "host agent: $name link $d $arg FAILED (monitor socket)"; fi
        done ;;
      boot) pid=$(vm_boot_again "$name" "$run") && echo "$pid" >> "$LAB_EXTRA_PIDS" ;;
      *) log "host agent: unknown request: $line" ;;
    esac
    echo "$(date +%s) $cmd $name $arg $dev" >> "$run/host-agent.log"
  done
}

# Debugging a running VM: a root shell on its second serial port (guest/main.sh starts it):
#   socat -,raw,echo=0 UNIX-CONNECT:/var/cache/tsstor-lab/run/PHASE/NAME-shell.sock

# vm_wait NAME RUNDIR TIMEOUT_S: wait until the VM powers itself off; kill it at the timeout.
vm_wait() {
  local name=$1 run=$2 limit=$3 pid
  pid=$(cat "$run/$name.pid")
  local t0=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    if (( SECONDS - t0 > limit )); then
      log "$name: still running after ${limit}s: killing pid $pid"
      kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
      return 124
    fi
    sleep 1
  done
  wait "$pid" 2>/dev/null || true
  return 0
}

# vm_results NAME RUNDIR: copy the results disk's files to RUNDIR/NAME/ (debugfs: no mount).
vm_results() {
  local name=$1 run=$2
  rm -rf "$run/$name"; mkdir -p "$run/$name"
  debugfs -R "rdump / $run/$name" "$run/$name-results.img" >/dev/null 2>&1 || log "$name: results disk unreadable"
}

# san_array_host RUNDIR PORT: the two-node SAN suite's storage array, tgtd on 127.0.0.1:PORT (its
# own control port, so no other tgtd is touched) exporting iqn.2003-01.org.tsstor.lab:pair-array
# LUN 1, a 512 MiB file, to every initiator. Its pid goes to $LAB_EXTRA_PIDS (lab_kill_all).
# Prints PORT once the target is there.
san_array_host() {
  local run=$1 port=$2 ctl=$(( $2 % 1000 + 3000 )) pid
  command -v tgtd >/dev/null || { log "tgtd missing (package tgt, installed by scripts/setup.sh)"; return 1; }
  rm -f "$run/san-lun.img"; truncate -s 512M "$run/san-lun.img"
  tgtd -f -C "$ctl" --iscsi "portal=127.0.0.1:$port" > "$run/tgtd.log" 2>&1 &
  pid=$!; echo "$pid" >> "$LAB_EXTRA_PIDS"
  local t="tgtadm -C $ctl --lld iscsi"
  for _ in $(seq 1 50); do $t --op show --mode target >/dev/null 2>&1 && break; sleep 0.2; done
  $t --op new --mode target --tid 1 -T iqn.2003-01.org.tsstor.lab:pair-array &&
    $t --op new --mode logicalunit --tid 1 --lun 1 -b "$run/san-lun.img" &&
    $t --op bind --mode target --tid 1 -I ALL || { log "tgtd (pid $pid): the array's target could not be made: $(tail -1 "$run/tgtd.log")"; return 1; }
  log "SAN array: tgtd pid $pid on 127.0.0.1:$port"
  echo "$port"
}
