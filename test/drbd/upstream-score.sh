#!/bin/bash
# Runs ocf:linbit:drbd's own score code (drbd_set_status_variables + drbd_update_master_score)
# on a saved drbdsetup output, to compare its decision with lib/drbd/score.ts row by row.
# usage: upstream-score.sh v9|v84 FILE   (events2 for v9, sh-status for v84)
# env: DRBD_RESOURCE, OCF_RESKEY_* options, PCMK_PRIMARY (the Promoted node Pacemaker knows)
# prints: "set N", "delete" or nothing (score left alone), plus "unfence" when the hook would run
export OCF_ROOT=/usr/lib/ocf
agent=/usr/lib/ocf/resource.d/linbit/drbd
file=$2
cd "$(dirname "$agent")" || exit 1
# the agent up to its main section: functions and defaults only
source <(sed -n '/^# exporting this is useful/q; /^source_drbd_shellfuncs$/d; p' "$agent")
source ./drbd.shellfuncs.sh
set_master_score() { if [[ $1 -le 0 ]]; then echo delete; else echo "set $1"; fi; }
remove_master_score() { echo delete; }
get_current_master_score() { true; }
call_unfence() { echo unfence; }
crm_resource_locate_master() { DRBD_PRIMARY_PEER_according_to_pcmk=${PCMK_PRIMARY:-}; }
drbdsetup() { cat "$file"; }
DRBD_RESOURCE=${DRBD_RESOURCE:-r0}
DRBDSETUP=drbdsetup
DRBD_MY_NODE_ID=0
if [[ $1 = v9 ]]; then DRBD_HAS_EVENTS2=true; else DRBD_HAS_EVENTS2=false; DRBD_HAS_MULTI_VOLUME=true; fi
init_optional_params
drbd_set_status_variables
drbd_update_master_score
