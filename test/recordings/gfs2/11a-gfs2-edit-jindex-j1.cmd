gfs2_edit -p jindex /dev/loop1
