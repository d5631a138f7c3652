lvcreate -L 32M -n lv1 vg0
