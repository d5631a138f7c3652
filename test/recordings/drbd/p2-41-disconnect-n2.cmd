drbdadm disconnect r0
