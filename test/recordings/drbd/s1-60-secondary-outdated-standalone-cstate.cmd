drbdadm cstate r0
