iscsiadm --version
