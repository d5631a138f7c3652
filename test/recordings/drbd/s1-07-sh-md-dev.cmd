drbdadm sh-md-dev r0
