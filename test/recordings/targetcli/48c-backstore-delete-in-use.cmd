targetcli /backstores/fileio delete f0
