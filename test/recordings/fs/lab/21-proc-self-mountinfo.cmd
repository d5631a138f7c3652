sh -c grep\ \'\ -\ gfs2\ \'\ /proc/self/mountinfo
