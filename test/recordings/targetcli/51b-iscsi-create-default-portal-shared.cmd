targetcli /iscsi create iqn.2003-01.org.tsstor.lab:t4
