iscsiadm -m session -r 7 -P 1
