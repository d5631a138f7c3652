dmsetup table
