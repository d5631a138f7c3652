#!/bin/bash
# Runs ocf:linbit:drbd's own crm_resource_locate_master (what "Promoted" instance Pacemaker
# knows of, other than this node) and prints its answer in brackets.
# env: OCF_RESOURCE_INSTANCE, HOSTNAME (this node), CIB_file (a CIB with status, no cluster)
export OCF_ROOT=/usr/lib/ocf
agent=/usr/lib/ocf/resource.d/linbit/drbd
me=$HOSTNAME
cd "$(dirname "$agent")" || exit 1
source <(sed -n '/^# exporting this is useful/q; /^source_drbd_shellfuncs$/d; p' "$agent")
HOSTNAME=$me
crm_resource_locate_master
echo "[$DRBD_PRIMARY_PEER_according_to_pcmk]"
