mount -t gfs2 -o lockproto=lock_nolock /dev/loop1 /mnt/g1
