sh -c printf\ \'%s\\n\'\ \'ls\ /iscsi\ 1\'\ \'exit\'\ \|\ targetcli
