dmsetup ls
