#!/bin/bash
# Runs inside a lab VM (started by tsstor-lab-boot with /lab = payload, /results = results disk).
# /lab/job sets ROLE (n1|n2), NODES (how many VMs), SUITES (names of /lab/suites/*.sh).
# Every suite writes result rows to /results/results.tsv (see lib.sh) and recordings to
# /results/recordings/. n2 in a pair only serves commands for n1 (lib.sh: on_peer).
set -u
set -a; source /lab/job; set +a
source /lab/guest/lib.sh
lab_setup_node
# a root shell on the second serial port, for looking inside a running VM (see lab/vm.sh)
[ -c /dev/ttyS1 ] && setsid bash -c 'exec bash -i </dev/ttyS1 >/dev/ttyS1 2>&1' &
echo "TSSTOR-LAB: $ROLE ready after $(cut -d' ' -f1 /proc/uptime) s; suites: $SUITES"
if [ "$ROLE" != n1 ]; then
  # The peer: serve commands from n1 until n1 says "done" (or the host's timeout kills us).
  serve_peer
  exit 0
fi
[ "$NODES" = 1 ] || wait_peer || { echo "TSSTOR-LAB: peer never answered"; exit 2; }
# multipath-tools starts multipathd at boot: only the SAN suites run it, with their own
# configuration (lab/guest/san.sh), so it claims no disk of the other suites
systemctl stop multipathd.service multipathd.socket >/dev/null 2>&1
rc=0
for s in $SUITES; do
  echo "TSSTOR-LAB: suite $s start"
  # a suite listed in run.sh but not in the payload: a FAIL row, not only a shell error in a log
  if [ ! -f "/lab/suites/$s.sh" ]; then
    SUITE=$s result - - "suite file lab/suites/$s.sh missing from the payload" FAIL
    printf '%s\t0\t127\n' "$s" >> /results/suite-times.tsv
    rc=1; continue
  fi
  t0=$(date +%s)
  # LAB_TRACE=1 (job file): every suite command traced on the console
  SUITE=$s BASH_XTRACEFD=3 bash ${LAB_TRACE:+-x} /lab/suites/$s.sh 3>&1 > "/results/$s.log" 2>&1
  src=$?
  echo "TSSTOR-LAB: suite $s exit $src after $(( $(date +%s) - t0 )) s"
  # suite, seconds, exit code (run.sh --record writes test/recordings/PACKAGES only when every
  # record suite exited 0)
  printf '%s\t%s\t%s\n' "$s" "$(( $(date +%s) - t0 ))" "$src" >> /results/suite-times.tsv
  [ $src -eq 0 ] || { rc=1; tail -30 "/results/$s.log"; }
done
[ "$NODES" = 1 ] || peer_done
exit $rc
