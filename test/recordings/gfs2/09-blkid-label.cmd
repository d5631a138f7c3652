blkid -o value -s LABEL /dev/loop0
