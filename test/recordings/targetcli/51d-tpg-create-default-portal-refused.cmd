targetcli /iscsi/iqn.2003-01.org.tsstor.lab:t3 create 2
