# DRBD 8.4 under a real two-node Pacemaker cluster (n1, n2): the drbd agent as a promotable clone.
# Promotion, promotion scores read back from the CIB, demotion/promotion on the other node, no
# promotion of an Outdated node, and hard failover (n2 powered off) as the very last step.
# Runs the upstream ocf:linbit:drbd first (reference rows "linbit:drbd"), then the tsstor agent.
source /lab/guest/lib.sh
RES=r0
# (r0 taken down first: a suite before this one, record-drbd2 among them, may have left it up)
setup='drbd_down r0
  truncate -s 128M /var/tmp/drbd-pm.img
  L=$(losetup -f --show /var/tmp/drbd-pm.img)
  drbd_conf r0 0 $L 10.213.9.1:7789 10.213.9.2:7789
  modprobe drbd && drbdadm create-md --force r0 >/dev/null 2>&1 && drbdadm up r0'
progress "drbd: DRBD r0 on both nodes"
eval "$setup" && on_peer "$setup" >/dev/null || { result drbd - "DRBD setup on both nodes" FAIL; exit 1; }
# initial sync (operators do this once by hand): n1 becomes UpToDate, n2 syncs from it
progress "drbd: initial sync"
drbd_wait r0 '_cstate=Connected' 120 && drbdadm primary --force r0 &&
  drbd_wait r0 '_pdsk=UpToDate' 600 && drbdadm secondary r0 && drbdadm down r0 && on_peer 'drbdadm down r0' >/dev/null ||
  { result drbd - "initial sync" FAIL "$(drbdsetup sh-status r0 | tr '\n' ' ')"; exit 1; }
progress "drbd: Pacemaker on both nodes"
# started here, whatever ran before: an empty CIB that takes writes (lib.sh pcmk_pair_up)
if ! pcmk_pair_up > /tmp/pcmk-up.out 2>&1; then
  cat /tmp/pcmk-up.out; result drbd - "Pacemaker on both nodes, online, CIB empty and writable" FAIL "$(tail -1 /tmp/pcmk-up.out | cut -c1-200)"; exit 1
fi
cat /tmp/pcmk-up.out
crm_attribute -t rsc_defaults -n resource-stickiness -v 100
crm_attribute -t crm_config -n cluster-recheck-interval -v 30s

role() { if [ "$1" = n1 ]; then drbdadm role $RES 2>/dev/null; else on_peer "drbdadm role $RES" 2>/dev/null; fi; }
primary_on() { # NODE: NODE is Primary and the other one is not
  local o=n2; [ "$1" = n2 ] && o=n1
  case "$(role "$1")" in Primary*) ;; *) return 1 ;; esac
  case "$(role "$o")" in Primary*) return 1 ;; esac
}
score() { crm_attribute -N "$1" -n "master-$RID" -l reboot -G -q 2>/dev/null; }
scored() { local s; s=$(score "$1"); [ -n "$s" ] && [ "$s" -gt 0 ]; } # NODE has a promotion score
both_scored() { scored n1 && scored n2; }
n1_unscored() { ! scored n1; }
promoted_node() { primary_on n1 && echo n1 && return; primary_on n2 && echo n2; }
has_promoted() { [ -n "$(promoted_node)" ]; }

suite() { # PROVIDER LAST
  PROV=$1; local last=$2 A=drbd
  if [ "$PROV" = tsstor ]; then need_agent drbd || return 0; fi
  RID=drbd-$PROV
  cibadmin -C -o resources -X "<clone id=\"$RID-clone\">
    <meta_attributes id=\"$RID-clone-meta\">
      <nvpair id=\"$RID-m1\" name=\"promotable\" value=\"true\"/>
      <nvpair id=\"$RID-m2\" name=\"promoted-max\" value=\"1\"/>
      <nvpair id=\"$RID-m3\" name=\"promoted-node-max\" value=\"1\"/>
      <nvpair id=\"$RID-m4\" name=\"clone-max\" value=\"2\"/>
      <nvpair id=\"$RID-m5\" name=\"clone-node-max\" value=\"1\"/>
      <nvpair id=\"$RID-m6\" name=\"notify\" value=\"true\"/>
    </meta_attributes>
    <primitive id=\"$RID\" class=\"ocf\" provider=\"$PROV\" type=\"drbd\">
      <instance_attributes id=\"$RID-ia\"><nvpair id=\"$RID-p1\" name=\"drbd_resource\" value=\"$RES\"/></instance_attributes>
      <operations>
        <op id=\"$RID-mon-p\" name=\"monitor\" interval=\"10s\" role=\"Promoted\" timeout=\"30s\"/>
        <op id=\"$RID-mon-u\" name=\"monitor\" interval=\"15s\" role=\"Unpromoted\" timeout=\"30s\"/>
        <op id=\"$RID-start\" name=\"start\" interval=\"0\" timeout=\"240s\"/>
        <op id=\"$RID-stop\" name=\"stop\" interval=\"0\" timeout=\"100s\"/>
        <op id=\"$RID-promote\" name=\"promote\" interval=\"0\" timeout=\"90s\"/>
        <op id=\"$RID-demote\" name=\"demote\" interval=\"0\" timeout=\"90s\"/>
      </operations>
    </primitive>
  </clone>" 2>/tmp/cibadmin.err || { cat /tmp/cibadmin.err; result $A - "resource created in the CIB" FAIL "$(tail -1 /tmp/cibadmin.err | cut -c1-200)"; return 1; }
  local t0=$SECONDS
  progress "drbd: $PROV clone created, waiting for a promotion"
  wait_for 180 has_promoted || true
  local P; P=$(promoted_node)
  if [ -n "$P" ]; then result $A promote "clone started, one node promoted ($P after $((SECONDS - t0)) s)" PASS
  else result $A promote "clone started, one node promoted" FAIL "$(crm_mon -1 | tail -6 | tr '\n' ' ')"; fi
  wait_for 45 both_scored || true # a monitor on each node sets its score
  local s1 s2; s1=$(score n1); s2=$(score n2)
  if [ -n "$s1" ] && [ -n "$s2" ] && [ "$s1" -gt 0 ] && [ "$s2" -gt 0 ]; then
    result $A monitor "promotion scores in the CIB (n1=$s1 n2=$s2)" PASS
  else result $A monitor "promotion scores in the CIB" FAIL "n1=$s1 n2=$s2"; fi
  # demote here, promote there: ban the promoted role from the current node
  local O=n2; [ "$P" = n2 ] && O=n1
  t0=$SECONDS
  crm_resource --ban --promoted -r $RID-clone -N "$P" >/dev/null 2>&1
  if wait_for 120 primary_on "$O"; then result $A demote "promoted role moved $P -> $O ($((SECONDS - t0)) s)" PASS
  else result $A demote "promoted role moved $P -> $O" FAIL "$(crm_mon -1 | tail -6 | tr '\n' ' ')"; fi
  crm_resource --clear -r $RID-clone >/dev/null 2>&1
  # make n2 the promoted one for what follows
  if ! primary_on n2; then crm_resource --ban --promoted -r $RID-clone -N n1 >/dev/null 2>&1; wait_for 120 primary_on n2; crm_resource --clear -r $RID-clone >/dev/null 2>&1; fi
  progress "drbd: $PROV Outdated case"
  # n1 Outdated: its score goes, and it must not be promoted when n2 gives the role up
  drbdadm disconnect $RES >/dev/null 2>&1; drbdadm outdate $RES >/dev/null 2>&1
  wait_for 45 n1_unscored || true
  s1=$(score n1)
  if [ -z "$s1" ] || [ "$s1" -le 0 ]; then result $A monitor "Outdated node's score removed (n1='$s1')" PASS
  else result $A monitor "Outdated node's score removed" FAIL "n1=$s1 ($(drbdadm dstate $RES))"; fi
  crm_resource --ban --promoted -r $RID-clone -N n2 >/dev/null 2>&1
  sleep 30
  case "$(role n1)" in
    Primary*) result $A promote "Outdated node not promoted" FAIL "n1 $(drbdadm dstate $RES)" ;;
    *) result $A promote "Outdated node not promoted" PASS "n1 $(drbdadm dstate $RES)" ;;
  esac
  crm_resource --clear -r $RID-clone >/dev/null 2>&1
  drbdadm connect $RES >/dev/null 2>&1
  wait_for 120 primary_on n2 || true
  drbd_wait $RES '_disk=UpToDate' 300 >/dev/null
  wait_for 45 scored n1 || true
  s1=$(score n1)
  if [ -n "$s1" ] && [ "$s1" -gt 0 ]; then result $A monitor "score back after resync (n1=$s1)" PASS
  else result $A monitor "score back after resync" FAIL "n1='$s1'"; fi
  crm_mon -1 > "$RESULTS/crm_mon-$PROV.txt" 2>&1
  if [ "$last" = yes ]; then
    progress "drbd: $PROV hard failover"
    # hard failover: n2 (promoted) loses power
    primary_on n2 || { crm_resource --ban --promoted -r $RID-clone -N n1 >/dev/null 2>&1; wait_for 120 primary_on n2; crm_resource --clear -r $RID-clone >/dev/null 2>&1; }
    t0=$SECONDS
    on_peer 'sync; echo o > /proc/sysrq-trigger' >/dev/null 2>&1 &
    if wait_for 180 sh -c 'drbdadm role r0 | grep -q ^Primary'; then
      result $A promote "hard failover: n2 powered off, n1 promoted after $((SECONDS - t0)) s" PASS
    else result $A promote "hard failover: n2 powered off, n1 promoted" FAIL "$(crm_mon -1 | tail -8 | tr '\n' ' ')"; fi
    crm_mon -1 > "$RESULTS/crm_mon-failover.txt" 2>&1
    echo dead > /tmp/peer-dead
  else
    # remove the resource cleanly for the next provider
    crm_resource -r $RID-clone --meta -p target-role -v Stopped >/dev/null 2>&1
    if wait_for 120 sh -c "! drbdsetup sh-status $RES 2>/dev/null | grep -q _role= && ! crm_mon -1 | grep -q 'drbd-$PROV.*\(Promoted\|Unpromoted\|Started\)'"; then
      result $A stop "clone stopped on both nodes" PASS
    else result $A stop "clone stopped on both nodes" FAIL "$(drbdadm role $RES 2>&1)"; fi
    cibadmin -D -o resources -X "<clone id=\"$RID-clone\"/>" >/dev/null 2>&1
    crm_resource --cleanup >/dev/null 2>&1
    sleep 5
  fi
}
if have_agent drbd; then if reference; then suite linbit no; fi; suite tsstor yes
else suite linbit yes; PROV=tsstor; need_agent drbd; fi
exit 0 # results are in the rows; a non-zero exit means the suite itself broke
