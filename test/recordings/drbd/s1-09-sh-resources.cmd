drbdadm sh-resources
