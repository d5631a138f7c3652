tunegfs2 -o locktable=lab:fs1 /dev/loop1
