iscsiadm -m discovery -t sendtargets -p 127.0.0.9:3260 -o new
