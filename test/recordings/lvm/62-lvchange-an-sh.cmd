lvchange -an vgs/lv0
