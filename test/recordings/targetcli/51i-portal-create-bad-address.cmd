targetcli /iscsi/iqn.2003-01.org.tsstor.lab:t4/tpg1/portals create 10.0.0.300 3263
