targetcli /iscsi/iqn.2003-01.org.tsstor.lab:t3/tpg1/portals create :: 3260
