dmsetup status
