drbdadm primary r0
