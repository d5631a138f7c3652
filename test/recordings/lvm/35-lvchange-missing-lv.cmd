lvchange -ay vg0/nosuch
