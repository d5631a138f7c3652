vgcreate --shared --lock-type sanlock vgs /dev/loop0
