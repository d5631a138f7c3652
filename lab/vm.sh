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
# "TSSTOR-LAB-HOST: link NAME on|off" (QEMU's link control: NAME's NIC loses carrier, every
# network of that VM is cut) and "TSSTOR-LAB-HOST: boot NAME" (power NAME on again after its
# watchdog or a fencing reset it) are carried out; a log line each in RUNDIR/host-agent.log.
# Runs until killed; booted VMs' pids go to $LAB_EXTRA_PIDS for lab_kill_all.
vm_host_agent() {
  local run=$1 driver=$2 line cmd name arg pid fd
  # tail exits with run.sh (--pid) at the latest; its pid is kept so run.sh stops it by PID
  exec {fd}< <(exec tail -n +1 -F --pid=$$ "$run/$driver-console.log" 2>/dev/null)
  echo "$!" > "$run/host-agent-tail.pid"
  while IFS= read -r -u "$fd" line; do
    line=${line//$'\r'/}
    case "$line" in *"TSSTOR-LAB-HOST: "*) ;; *) continue ;; esac
    read -r cmd name arg <<< "${line##*TSSTOR-LAB-HOST: }"
    case "$cmd" in
      link) if vm_monitor "$name" "$run" "set_link n0 $arg"; then log "host agent: $name link $arg"; else log "host agent: $name link $arg FAILED (monitor socket)"; fi ;;
      boot) pid=$(vm_boot_again "$name" "$run") && echo "$pid" >> "$LAB_EXTRA_PIDS" ;;
      *) log "host agent: unknown request: $line" ;;
    esac
    echo "$(date +%s) $cmd $name $arg" >> "$run/host-agent.log"
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
