drbdadm adjust --skip-net r0
