mount -t gfs2 /dev/loop0 /mnt/g1
