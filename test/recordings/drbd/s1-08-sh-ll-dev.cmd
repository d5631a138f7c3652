drbdadm sh-ll-dev r0
