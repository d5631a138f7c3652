drbdsetup status r0
