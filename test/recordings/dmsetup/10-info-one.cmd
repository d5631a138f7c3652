dmsetup info vg0-lv0
