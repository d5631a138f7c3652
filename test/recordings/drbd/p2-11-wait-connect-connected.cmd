drbdsetup wait-connect-resource r0 --wfc-timeout=5
