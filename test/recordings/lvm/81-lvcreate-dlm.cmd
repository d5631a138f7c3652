lvcreate -L 32M -n lv0 vgd
