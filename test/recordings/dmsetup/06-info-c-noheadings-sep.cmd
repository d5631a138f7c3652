dmsetup info -c --noheadings --separator : -o name\,uuid\,open\,attr\,blkdevname\,major\,minor
