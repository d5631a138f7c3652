#!/usr/bin/env bash
# The kernel lab (npm run lab): real LIO, DRBD 8.4, device-mapper/LVM/lvmlockd, GFS2 and DLM in
# QEMU TCG VMs running Debian's kernel, which this host kernel lacks.
#
#   bash lab/run.sh [--platform debian12|debian13] [--record] [--reference] [--no-build]
#                   [--phase single|pair|all] [--suites "a b"] [--keep]
#
# --platform: the guests' Debian (lib.sh): debian12 (the default: bookworm, kernel 6.1, Pacemaker
# 2.1) or debian13 (trixie, kernel 6.12, Pacemaker 3.0, pcs 0.12); each has its own image, run
# directory ($LAB_CACHE/run, $LAB_CACHE/run-debian13) and section of lab/RESULTS.md.
#
# 1. installs the host packages (QEMU, debootstrap, the kernel) when missing;
# 2. builds the agents (npm run build) unless --no-build;
# 3. builds or reuses the cached guest image (lab/image.sh, $TSSTOR_LAB_CACHE or /var/cache/tsstor-lab);
# 4. phase "single": one VM runs the single-node suites; phase "pair": two VMs (n1, n2) joined by a
#    socket netdev on 127.0.0.1 and sharing one raw disk (a SAN LUN) run the two-node suites;
# 5. collects every VM's results disk, writes its platform's section of lab/RESULTS.md (pass/fail
#    per agent and action) and
#    with --record copies the real tools' outputs into test/recordings/ and the image's versions of
#    the recorded packages into test/recordings/PACKAGES.
# The record-* suites run only with --record, when named in --suites, or when the image's versions
# of the recorded packages (lib.sh RECORDED_PACKAGES) differ from test/recordings/PACKAGES: with the
# same versions they would record the same outputs again. The same goes for the upstream agents'
# reference runs inside the agent suites (--reference or --record runs them regardless).
# Exit 0 only when no suite failed. No QEMU outlives this script (killed by PID on every exit).
set -euo pipefail
# --platform first: lib.sh reads it when sourced
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[i]}" = --platform ] && export TSSTOR_LAB_PLATFORM=${args[i + 1]:-}
done
source "$(dirname "$0")/lib.sh"
source "$LAB_DIR/vm.sh"

record=0 build=1 phase=all keep=0 suites="" reference=0
while [ $# -gt 0 ]; do
  case $1 in
    --platform) shift ;; # read above
    --record) record=1 ;;
    --no-build) build=0 ;;
    --phase) phase=$2; shift ;;
    --suites) suites=$2; shift ;;
    --keep) keep=1 ;;
    --reference) reference=1 ;;
    *) die "unknown argument $1 (see the header of lab/run.sh)" ;;
  esac
  shift
done
# test/recordings/ holds one platform's outputs, debian12's (the fakes replay them; PACKAGES names
# their versions): debian13's runs compare their tools' outputs with those and never replace them
[ "$record" = 0 ] || [ "$LAB_PLATFORM" = debian12 ] ||
  die "--record writes test/recordings/, which holds debian12's tool outputs; a $LAB_PLATFORM run compares its outputs with them (without --record)"

ALL_SINGLE="record-lio record-lvm record-drbd1 record-gfs2 record-iscsi lio lvm-sanlock iscsi"
ALL_PAIR="record-drbd2 lvm-dlm gfs2 sbd san-pair stacks drbd" # drbd last: it powers n2 off
SINGLE_SUITES=$ALL_SINGLE PAIR_SUITES=$ALL_PAIR
if [ -n "$suites" ]; then
  s1="" s2=""
  for s in $suites; do
    case " $SINGLE_SUITES " in *" $s "*) s1+=" $s" ;; esac
    case " $PAIR_SUITES " in *" $s "*) s2+=" $s" ;; esac
  done
  SINGLE_SUITES=${s1# } PAIR_SUITES=${s2# }
fi
[ "$phase" = pair ] && SINGLE_SUITES=""
[ "$phase" = single ] && PAIR_SUITES=""

T0=$SECONDS
RUN=${TSSTOR_LAB_RUN:-$LAB_CACHE/$LAB_RUN_NAME}
trap 'lab_kill_all' EXIT
trap 'lab_kill_all; exit 130' INT TERM

# 1. host packages; the kernel package only when the image for its version is not cached (the
#    guests boot the image's copy of the kernel: installing it, initramfs and all, is a minute of
#    CI's fresh root for nothing)
HOST_PKGS=(qemu-system-x86 qemu-utils debootstrap e2fsprogs socat)
if ! command -v qemu-system-x86_64 >/dev/null || ! command -v debootstrap >/dev/null || ! command -v socat >/dev/null; then
  want=("${HOST_PKGS[@]}")
else want=(); fi
[ "$LAB_PLATFORM" != debian12 ] || ls /boot/vmlinuz-* >/dev/null 2>&1 || [ -f "$(lab_image_dir)/done" ] || want+=(linux-image-amd64)
if [ ${#want[@]} -gt 0 ]; then
  log "installing host packages: ${want[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${want[@]}" >/dev/null
fi

# 2. the agents
cd "$REPO_DIR"
if [ "$build" = 1 ]; then
  log "npm run build"
  bash scripts/build.sh >/dev/null
fi
[ -x build/tsstor-agents ] || die "build/tsstor-agents missing: run npm run build"
AGENTS=$(build/tsstor-agents --list | tr '\n' ' ')
log "agents in the payload: ${AGENTS:-none}"

# 3. the image
t=$SECONDS
IMG=$(bash "$LAB_DIR/image.sh")
IMAGE_S=$((SECONDS - t))

# 3b. the record suites: skipped when they would only record the committed recordings' versions
# again (suites named in --suites run regardless; none of the other suites uses what a record
# suite leaves behind, each sets up its own state)
without() { # LIST DROP -> LIST without the names in DROP
  local s out=""
  for s in $1; do case " $2 " in *" $s "*) ;; *) out+=" $s" ;; esac; done
  echo "${out# }"
}
# the image's recorded package versions against test/recordings/PACKAGES, read once for both
# skips below: "same", "differ" (drift lists how) or "unread"
if drift=$(lab_recorded_packages_diff "$IMG"); then
  if [ -z "$drift" ]; then packages=same; else packages=differ; fi
else packages=unread; fi
SKIP_SINGLE="" SKIP_PAIR=""
RECORD_SEL=$(for s in $SINGLE_SUITES $PAIR_SUITES; do case $s in record-*) echo "$s" ;; esac; done | tr '\n' ' ')
if [ -n "$RECORD_SEL" ]; then
  if [ "$record" = 1 ]; then
    log "record suites run (--record): ${RECORD_SEL% }"
  elif [ "$packages" = unread ]; then
    log "record suites run: the image's package versions could not be read"
  elif [ "$packages" = differ ]; then
    log "record suites run: recorded packages differ from test/recordings/PACKAGES: $(printf '%s' "$drift" | paste -sd';' - | sed 's/;/; /g')"
  else
    named=""
    for s in $RECORD_SEL; do
      case " $suites " in *" $s "*) named+=" $s"; continue ;; esac
      case " $SINGLE_SUITES " in *" $s "*) SKIP_SINGLE+=" $s" ;; *) SKIP_PAIR+=" $s" ;; esac
    done
    SINGLE_SUITES=$(without "$SINGLE_SUITES" "$SKIP_SINGLE") PAIR_SUITES=$(without "$PAIR_SUITES" "$SKIP_PAIR")
    [ -z "$SKIP_SINGLE$SKIP_PAIR" ] ||
      log "record suites skipped:$SKIP_SINGLE$SKIP_PAIR (the image's recorded package versions equal test/recordings/PACKAGES; --record runs them)"
    [ -z "$named" ] || log "record suites run (named in --suites):$named"
  fi
fi
# 3c. the upstream agents' reference runs (rows heartbeat:/linbit:) observe upstream only: its
# agents (resource-agents, drbd-utils), the tools they drive and Pacemaker, all in the recorded
# packages; with the same versions they would show the same again, so they run only then
if [ "$record" = 1 ] || [ "$reference" = 1 ]; then REFERENCE=1
elif [ "$packages" = same ]; then
  REFERENCE=0
  log "upstream reference runs skipped (the image's recorded package versions equal test/recordings/PACKAGES; --reference runs them)"
else REFERENCE=1; fi
skip_rows() { # SUITES: one SKIP row per skipped record suite, for the report
  local s
  for s in $1; do
    printf '%s\t-\t-\t%s\tSKIP\t%s\n' "$s" "not run: recorded package versions unchanged" \
      "the image's versions of the recorded packages equal test/recordings/PACKAGES (bash lab/run.sh --record runs it)"
  done
}

# 4. payload + VMs
# only the phases run now are replaced: `--phase single` then `--phase pair` add up to one report
rm -rf "$RUN/payload" "$RUN"/payload-* "$RUN/host"
[ -z "$SINGLE_SUITES" ] || rm -rf "$RUN/single"
[ -z "$PAIR_SUITES" ] || rm -rf "$RUN/pair"
mkdir -p "$RUN/payload/bin"
# one executable: the agents (tsstor-agents and the fronts below) and the command (the sbd, san-pair and
# stacks suites run `tsstor stack ...`)
cp build/tsstor "$RUN/payload/bin/"
ln -s tsstor "$RUN/payload/bin/tsstor-agents"
# the agents as the package installs them: shell fronts, here to the guest's tsstor-agents
mkdir -p "$RUN/payload/agents"
source "$REPO_DIR/packaging/front.sh"
for a in $AGENTS; do write_front "$a" /usr/local/lib/tsstor/tsstor-agents "$RUN/payload/agents/$a"; done
cp -r "$LAB_DIR/guest" "$LAB_DIR/suites" "$RUN/payload/"
payload_img() { # ROLE NODES SUITES -> image path
  local p="$RUN/payload-$1"
  rm -rf "$p"; cp -a "$RUN/payload" "$p"
  printf 'ROLE=%s\nNODES=%s\nSUITES="%s"\nLAB_TRACE=%s\nREFERENCE=%s\n' "$1" "$2" "$3" "${TSSTOR_LAB_TRACE:-}" "$REFERENCE" > "$p/job"
  mkfs.ext4 -q -F -L payload -d "$p" "$RUN/payload-$1.img" 512M >/dev/null
  rm -rf "$p"
  echo "$RUN/payload-$1.img"
}
rc=0
declare -A PHASE_S=()
if [ -n "$SINGLE_SUITES" ]; then
  t=$SECONDS
  log "phase single: $SINGLE_SUITES"
  mkdir -p "$RUN/single"
  skip_rows "$SKIP_SINGLE" > "$RUN/single/record-skipped.tsv"
  vm_start n1 "$RUN/single" "$(payload_img n1 1 "$SINGLE_SUITES")"
  vm_wait n1 "$RUN/single" "${TSSTOR_LAB_SINGLE_TIMEOUT:-1800}" || rc=1
  lab_kill_all
  vm_results n1 "$RUN/single"
  PHASE_S[single]=$((SECONDS - t)); echo "${PHASE_S[single]}" > "$RUN/single/phase-seconds"
  log "phase single: $((SECONDS - t)) s, guest exit $(cat "$RUN/single/n1/exit-code" 2>/dev/null || echo none)"
fi
if [ -n "$PAIR_SUITES" ]; then
  t=$SECONDS
  log "phase pair: $PAIR_SUITES"
  mkdir -p "$RUN/pair"
  skip_rows "$SKIP_PAIR" > "$RUN/pair/record-skipped.tsv"
  # one UDP datagram socket per VM on 127.0.0.1, each sending to the other's: stateless, so a VM
  # that is reset and booted again is back on the wire (a TCP socket netdev never reconnects)
  port=$((20000 + RANDOM % 20000))
  # raw images attached to both VMs (SAN LUNs): shared1 for the LVM suite, shared2 for GFS2,
  # sbd for the SBD fencing suite (its header and 255 message slots)
  truncate -s 1G "$RUN/pair/shared1.img" "$RUN/pair/shared2.img"
  truncate -s 16M "$RUN/pair/sbd.img"
  shared="$(disk_args "$RUN/pair/shared1.img" shared1 raw shared) $(disk_args "$RUN/pair/shared2.img" shared2 raw shared) $(disk_args "$RUN/pair/sbd.img" sbd raw shared)"
  LAB_EXTRA_PIDS="$RUN/pair/extra-pids"; : > "$LAB_EXTRA_PIDS"
  # the two-node SAN suite's array, not a cluster node: tgtd on this host's loopback, one LUN of a
  # file; each VM reaches it through two QEMU user-mode networks of its own (path A and B: the
  # netdevs sana, sanb), isolated but for one forward each to tgtd (lab/guest/san.sh)
  san_nics() { # N TGTD_PORT: QEMU's arguments for VM nN's two path NICs, one a line
    local net id
    for net in 20 21; do
      [ $net = 20 ] && id=sana || id=sanb
      printf '%s\n' -netdev "user,id=$id,net=10.213.$net.0/24,restrict=on,guestfwd=tcp:10.213.$net.100:3260-cmd:socat - TCP:127.0.0.1:$2" \
        -device "virtio-net-pci,netdev=$id,mac=52:54:00:12:$net:0$1"
    done
  }
  san1=() san2=()
  case " $PAIR_SUITES " in *" san-pair "*)
    if tport=$(san_array_host "$RUN/pair" $((port + 2))); then
      mapfile -t san1 < <(san_nics 1 "$tport"); mapfile -t san2 < <(san_nics 2 "$tport")
    else log "the SAN array (tgtd on this host) did not start: the san-pair suite will fail"; rc=1; fi ;;
  esac
  # shellcheck disable=SC2086
  vm_start n2 "$RUN/pair" "$(payload_img n2 2 "$PAIR_SUITES")" $shared \
    -netdev "socket,id=n0,udp=127.0.0.1:$port,localaddr=127.0.0.1:$((port + 1))" -device virtio-net-pci,netdev=n0,mac=52:54:00:12:09:02 "${san2[@]}"
  sleep 1
  # shellcheck disable=SC2086
  vm_start n1 "$RUN/pair" "$(payload_img n1 2 "$PAIR_SUITES")" $shared \
    -netdev "socket,id=n0,udp=127.0.0.1:$((port + 1)),localaddr=127.0.0.1:$port" -device virtio-net-pci,netdev=n0,mac=52:54:00:12:09:01 "${san1[@]}"
  # n1 drives; the host cuts links and powers fenced VMs on again when n1's console asks
  vm_host_agent "$RUN/pair" n1 &
  agent=$!
  vm_wait n1 "$RUN/pair" "${TSSTOR_LAB_PAIR_TIMEOUT:-3000}" || rc=1
  vm_wait n2 "$RUN/pair" 60 || true
  kill "$agent" 2>/dev/null || true; kill "$(cat "$RUN/pair/host-agent-tail.pid" 2>/dev/null)" 2>/dev/null || true
  wait "$agent" 2>/dev/null || true
  lab_kill_all
  vm_results n1 "$RUN/pair"; vm_results n2 "$RUN/pair"
  PHASE_S[pair]=$((SECONDS - t)); echo "${PHASE_S[pair]}" > "$RUN/pair/phase-seconds"
  log "phase pair: $((SECONDS - t)) s, guest exit $(cat "$RUN/pair/n1/exit-code" 2>/dev/null || echo none)"
fi

# 5. results
# the real tools' outputs of this run vs the committed recordings (a format change fails the lab)
if [ "$record" = 0 ] && [ -d "$REPO_DIR/test/recordings" ]; then
  mkdir -p "$RUN/host/recordings-check"
  if node_modules/@oven/bun-linux-x64-baseline/bin/bun test/recordings/check-fresh.ts "$RUN"/*/n*/recordings \
      > "$RUN/host/check-recordings.log" 2>&1; then st=PASS; else st=FAIL; fi
  detail=$(tail -1 "$RUN/host/check-recordings.log")
  # no record suite ran: nothing was compared, and the row says so instead of passing
  if [ "$st" = PASS ] && grep -q ': 0 outputs compared' "$RUN/host/check-recordings.log"; then
    st=SKIP
    if [ -n "$SKIP_SINGLE$SKIP_PAIR" ]; then detail="no fresh recordings: the record suites were skipped (recorded package versions unchanged)"
    else detail="no fresh recordings in this run"; fi
  fi
  # test/recordings/ is Debian 12's (the fakes replay it): another platform's outputs are compared
  # with it to show what differs there, which fails nothing
  if [ "$st" = FAIL ] && [ "$LAB_PLATFORM" != debian12 ]; then
    st=differs
    detail="$(grep -c 'DRIFT ' "$RUN/host/check-recordings.log") outputs differ from Debian 12's recordings: $(sed -n 's/^check-recordings: DRIFT //p' "$RUN/host/check-recordings.log" | sort | paste -sd' ' -)"
  fi
  printf 'recordings\t-\t-\treal tool outputs match test/recordings (shape)\t%s\t%s\n' "$st" "$detail" \
    > "$RUN/host/recordings-check/results.tsv"
fi
TOTAL_S=$((SECONDS - T0))
SINGLE_S=$(cat "$RUN/single/phase-seconds" 2>/dev/null || true)
PAIR_S=$(cat "$RUN/pair/phase-seconds" 2>/dev/null || true)
export IMAGE_S TOTAL_S SINGLE_S PAIR_S AGENTS REFERENCE IMG LAB_PLATFORM LAB_SUITE
mkdir -p "$RUN/host"
bash "$LAB_DIR/report.sh" "$RUN" > "$RUN/host/RESULTS-$LAB_PLATFORM.md" || rc=1
lab_results_merge "$RUN/host/RESULTS-$LAB_PLATFORM.md"
if [ "$record" = 1 ]; then
  bash "$LAB_DIR/collect-recordings.sh" "$RUN"
  # PACKAGES vouches for every recording: written only when each record suite recorded in this
  # image in this run and exited 0 (main.sh: suite-times.tsv = suite, seconds, exit code)
  missing=""
  for s in $ALL_SINGLE $ALL_PAIR; do
    case $s in record-*) ;; *) continue ;; esac
    f="$RUN/single/n1/suite-times.tsv"
    case " $ALL_PAIR " in *" $s "*) f="$RUN/pair/n1/suite-times.tsv" ;; esac
    case " $SINGLE_SUITES $PAIR_SUITES " in *" $s "*) ;; *) missing+=" $s"; continue ;; esac
    awk -F'\t' -v s="$s" '$1 == s && $3 == "0" { ok = 1 } END { exit !ok }' "$f" 2>/dev/null || missing+=" $s"
  done
  if [ -z "$missing" ]; then
    lab_write_recorded_packages "$IMG" && log "test/recordings/PACKAGES written from the image"
  else
    log "test/recordings/PACKAGES left as it was: not recorded (or failed) in this run:$missing"
  fi
fi
for d in "$RUN"/single/n1 "$RUN"/pair/n1 "$RUN"/pair/n2; do
  [ -f "$d/exit-code" ] || continue
  [ "$(cat "$d/exit-code")" = 0 ] || rc=1
done
if grep -q $'\tFAIL\t' "$RUN"/*/*/results.tsv 2>/dev/null; then rc=1; fi
[ "$keep" = 1 ] || rm -f "$RUN"/*/*.qcow2 "$RUN"/*/*-data.img "$RUN"/pair/shared*.img "$RUN"/pair/sbd.img "$RUN"/payload-*.img
if grep -qs $'\tFAIL\t' "$RUN"/*/*/results.tsv; then
  log "failed cases:"; awk -F'\t' '$5 == "FAIL" { printf "  %s %s %s: %s (%s)\n", $1, $2, $3, $4, $6 }' "$RUN"/*/*/results.tsv >&2
fi
log "done in ${TOTAL_S}s (image ${IMAGE_S}s); results: lab/RESULTS.md, logs: $RUN; exit $rc"
exit $rc
