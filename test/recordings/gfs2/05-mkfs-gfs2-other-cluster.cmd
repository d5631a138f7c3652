mkfs.gfs2 -O -p lock_dlm -t other:fs1 -j 1 -J 8 /dev/loop1
