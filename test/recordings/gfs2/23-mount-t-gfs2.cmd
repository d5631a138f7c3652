mount -t gfs2
