targetcli ls
