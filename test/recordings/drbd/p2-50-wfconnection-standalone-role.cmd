drbdadm role r0
