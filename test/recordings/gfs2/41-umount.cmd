umount /mnt/g0
