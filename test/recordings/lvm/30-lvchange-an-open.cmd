lvchange -an vg0/lv0
