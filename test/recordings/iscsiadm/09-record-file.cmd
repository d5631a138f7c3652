cat /etc/iscsi/nodes/iqn.2003-01.org.tsstor.lab:array/127.0.0.1\,3260\,1/default
