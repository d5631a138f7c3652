vgcreate vg0 /dev/vdd
