#!/bin/bash
# One command from n1 (base64 of a bash script on stdin), run on this node (n2) by socat.
script=$(base64 -d)
source /lab/job
SUITE=peer
source /lab/guest/lib.sh
bash -c "source /lab/job; source /lab/guest/lib.sh; $script" 2>&1
echo "__RC__=$?"
