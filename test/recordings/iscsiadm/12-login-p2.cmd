iscsiadm -m node -T iqn.2003-01.org.tsstor.lab:array -p 127.0.0.10:3260 --login
