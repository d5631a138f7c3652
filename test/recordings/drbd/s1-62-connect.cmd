drbdadm connect r0
