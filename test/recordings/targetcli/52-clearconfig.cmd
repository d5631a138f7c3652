targetcli clearconfig confirm=True
