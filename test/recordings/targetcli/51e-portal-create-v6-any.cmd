targetcli /iscsi/iqn.2003-01.org.tsstor.lab:t3/tpg2/portals create :: 3262
