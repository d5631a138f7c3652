drbdadm create-md --force r0
