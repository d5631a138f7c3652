drbdadm disk-options --resync-rate=100M r0
