drbdadm sh-dev nosuch
