dmsetup info -c -S vg_name=vg0
