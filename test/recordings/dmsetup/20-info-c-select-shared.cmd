dmsetup info -c -S vg_name=vgs\ \&\&\ lv_name=lv0
