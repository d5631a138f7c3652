sh -c ls\ -1\ /dev/disk/by-path\ \|\ grep\ iscsi\ \|\ sort
