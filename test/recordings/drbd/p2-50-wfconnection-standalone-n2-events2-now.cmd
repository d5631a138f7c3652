drbdsetup events2 --now r0
