dmsetup info -c
