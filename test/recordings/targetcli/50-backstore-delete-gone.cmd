targetcli /backstores/block delete b0
