drbdadm secondary r0
