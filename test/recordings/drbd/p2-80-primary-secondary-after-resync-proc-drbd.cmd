cat /proc/drbd
