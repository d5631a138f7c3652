drbdsetup events2 --now --statistics r0
