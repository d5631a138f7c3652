mount -t gfs2meta /mnt/g0 /mnt/meta
