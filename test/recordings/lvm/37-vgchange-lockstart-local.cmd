vgchange --lock-start vg0
