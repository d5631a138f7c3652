targetcli /backstores/block create name=b0 dev=/dev/loop0
