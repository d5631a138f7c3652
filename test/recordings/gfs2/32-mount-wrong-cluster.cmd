mount -t gfs2 /dev/loop1 /mnt/g1
