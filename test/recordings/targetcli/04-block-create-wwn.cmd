targetcli /backstores/block create name=b1 dev=/dev/null wwn=0123456789abcdef
