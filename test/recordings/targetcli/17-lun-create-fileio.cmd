targetcli /iscsi/iqn.2003-01.org.tsstor.lab:t1/tpg1/luns create /backstores/fileio/f0
