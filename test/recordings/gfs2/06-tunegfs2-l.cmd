tunegfs2 -l /dev/loop0
