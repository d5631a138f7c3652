lvchange --refresh vg0/lv0
