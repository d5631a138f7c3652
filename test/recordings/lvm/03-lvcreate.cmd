lvcreate -L 64M -n lv0 vg0
