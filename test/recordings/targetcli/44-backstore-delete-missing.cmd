targetcli /backstores/block delete nope
