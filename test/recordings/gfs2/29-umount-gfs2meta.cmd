umount /mnt/meta
