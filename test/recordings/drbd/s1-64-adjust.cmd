drbdadm adjust r0
