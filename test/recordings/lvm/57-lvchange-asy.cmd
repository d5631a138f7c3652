lvchange -asy vgs/lv0
