lvchange -aey vg0/lv0
