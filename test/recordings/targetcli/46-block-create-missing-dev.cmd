targetcli /backstores/block create name=b3 dev=/dev/nonexistent
