targetcli /iscsi/iqn.2003-01.org.tsstor.lab:nope ls
