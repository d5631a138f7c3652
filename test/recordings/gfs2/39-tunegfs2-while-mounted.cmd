tunegfs2 -o locktable=lab:fs9 /dev/loop0
