gfs2_edit -p sb field sb_lockproto /dev/loop0
