drbdadm down r0
