targetcli /iscsi/iqn.2003-01.org.tsstor.lab:t1/tpg1/acls/iqn.1993-08.org.debian:01:labinit get auth userid
