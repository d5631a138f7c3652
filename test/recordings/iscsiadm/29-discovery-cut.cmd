timeout 60 iscsiadm -m discovery -t sendtargets -p 127.0.0.10:3260 -o new
