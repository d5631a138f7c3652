mount -t gfs2 /dev/nonexistent /mnt/g0
