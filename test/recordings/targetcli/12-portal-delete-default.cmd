targetcli /iscsi/iqn.2003-01.org.tsstor.lab:t1/tpg1/portals delete 0.0.0.0 3260
