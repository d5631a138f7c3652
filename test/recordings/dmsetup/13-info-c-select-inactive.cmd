dmsetup info -c -S vg_name=vg0\ \&\&\ lv_name=lv0
