vgchange --lock-start vgs
