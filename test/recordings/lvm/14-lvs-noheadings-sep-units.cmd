lvs --noheadings --nosuffix --units b --separator \| -o lv_name\,lv_size\,lv_attr vg0/lv0
