drbdadm sh-mod-parms
