lvchange -an vgd/lv0
