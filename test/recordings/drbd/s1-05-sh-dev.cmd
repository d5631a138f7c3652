drbdadm sh-dev r0
