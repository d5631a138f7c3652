lvchange -aey vgs/lv0
