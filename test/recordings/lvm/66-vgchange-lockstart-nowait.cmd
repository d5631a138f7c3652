vgchange --lock-start --lock-opt nowait vgs
