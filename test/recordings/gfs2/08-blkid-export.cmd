blkid -p -o export /dev/loop2
