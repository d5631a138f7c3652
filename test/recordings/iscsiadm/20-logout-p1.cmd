iscsiadm -m session -r 1 --logout
