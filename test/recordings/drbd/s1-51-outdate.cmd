drbdadm outdate r0
