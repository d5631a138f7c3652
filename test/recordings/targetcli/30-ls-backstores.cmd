targetcli ls /backstores
