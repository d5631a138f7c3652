drbdadm dump nosuch
