iscsiadm -m session -r 6 --logout
