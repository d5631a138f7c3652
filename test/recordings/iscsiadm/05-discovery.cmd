iscsiadm -m discovery -t sendtargets -p 127.0.0.1:3260 -o new
