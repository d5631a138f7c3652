drbdsetup wait-connect-resource r0 --wfc-timeout=2 --degr-wfc-timeout=2 --outdated-wfc-timeout=2
