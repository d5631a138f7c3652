umount /mnt/g1
