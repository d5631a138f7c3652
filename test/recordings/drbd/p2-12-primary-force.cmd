drbdadm primary --force r0
