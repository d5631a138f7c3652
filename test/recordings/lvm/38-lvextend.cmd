lvextend -L +16M vg0/lv0
