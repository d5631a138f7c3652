tunegfs2 -l /dev/loop1
