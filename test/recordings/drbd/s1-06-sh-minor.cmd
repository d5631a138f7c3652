drbdadm sh-minor r0
