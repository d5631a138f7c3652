mkfs.gfs2 -O -p lock_dlm -t lab:fs0 -j 2 -J 8 /dev/loop0
