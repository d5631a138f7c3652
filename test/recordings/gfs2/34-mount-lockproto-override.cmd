mount -t gfs2 -o lockproto=lock_nolock /dev/loop3 /mnt/g1
