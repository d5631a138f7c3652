mount -t gfs2 /dev/loop2 /mnt/g0
