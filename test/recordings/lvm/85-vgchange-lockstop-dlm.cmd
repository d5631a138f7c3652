vgchange --lock-stop vgd
