gfs2_jadd -T -j 1 /mnt/g0
