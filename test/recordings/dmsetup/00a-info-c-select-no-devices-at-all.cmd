dmsetup info -c --noheadings -o name -S vg_name=vg0
