blkid -p -o export /dev/loop0
