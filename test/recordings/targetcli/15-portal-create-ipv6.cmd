targetcli /iscsi/iqn.2003-01.org.tsstor.lab:t1/tpg1/portals create ::1 3260
