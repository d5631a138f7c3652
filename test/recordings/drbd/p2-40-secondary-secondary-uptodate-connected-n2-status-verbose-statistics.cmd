drbdsetup status r0 --verbose --statistics
