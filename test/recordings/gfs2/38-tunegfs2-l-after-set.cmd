tunegfs2 -l /dev/loop3
