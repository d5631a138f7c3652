iscsiadm -m discoverydb -t sendtargets -p 127.0.0.1:3260 -D
