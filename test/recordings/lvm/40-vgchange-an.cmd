vgchange -an vg0
