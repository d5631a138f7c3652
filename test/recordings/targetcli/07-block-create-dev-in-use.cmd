targetcli /backstores/block create name=b2 dev=/dev/loop0
