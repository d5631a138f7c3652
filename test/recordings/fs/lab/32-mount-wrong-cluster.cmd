mount -t gfs2 /dev/loop3 /mnt/g1
