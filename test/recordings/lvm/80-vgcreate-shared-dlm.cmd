vgcreate --shared --lock-type dlm vgd /dev/loop1
