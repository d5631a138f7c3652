vgchange --lock-stop vgs
