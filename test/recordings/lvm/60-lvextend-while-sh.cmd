lvextend -L +16M vgs/lv0
