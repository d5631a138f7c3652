iscsiadm -m node
