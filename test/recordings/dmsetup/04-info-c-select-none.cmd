dmsetup info -c -S vg_name=nosuchvg
