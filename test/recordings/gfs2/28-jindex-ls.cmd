ls -1 /mnt/meta/jindex
