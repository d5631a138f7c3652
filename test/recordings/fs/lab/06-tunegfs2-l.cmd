tunegfs2 -l /dev/loop2
