drbdadm dump r0
