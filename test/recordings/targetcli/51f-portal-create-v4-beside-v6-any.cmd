targetcli /iscsi/iqn.2003-01.org.tsstor.lab:t4/tpg1/portals create 127.0.0.1 3262
