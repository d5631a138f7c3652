iscsiadm -m session -r 2 --logout
