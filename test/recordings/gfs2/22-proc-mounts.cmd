sh -c grep\ \'\ gfs2\ \'\ /proc/mounts
