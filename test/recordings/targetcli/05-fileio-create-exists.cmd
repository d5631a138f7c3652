targetcli /backstores/fileio create name=f0 file_or_dev=/var/tmp/f0.img size=64M
