targetcli ls /iscsi
