drbdadm dstate r0
