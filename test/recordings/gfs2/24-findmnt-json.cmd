findmnt -J -t gfs2
