drbdadm up r0
