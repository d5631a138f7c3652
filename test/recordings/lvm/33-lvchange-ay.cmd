lvchange -ay vg0/lv0
