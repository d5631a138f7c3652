dmsetup info -c --noheadings -o name\,uuid\,open\,attr\,segments\,events -S vg_name=vg0
