drbdsetup sh-status r0
