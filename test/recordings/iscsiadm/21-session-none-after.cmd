iscsiadm -m session
