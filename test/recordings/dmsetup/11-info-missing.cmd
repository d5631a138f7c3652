dmsetup info vg0-nosuch
