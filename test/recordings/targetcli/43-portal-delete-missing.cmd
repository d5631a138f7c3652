targetcli /iscsi/iqn.2003-01.org.tsstor.lab:t1/tpg1/portals delete 127.0.0.2 3260
