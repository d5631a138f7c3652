pvcreate /dev/vdd
