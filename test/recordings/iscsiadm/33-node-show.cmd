iscsiadm -m node -T iqn.2003-01.org.tsstor.lab:array -p 127.0.0.1:3260
