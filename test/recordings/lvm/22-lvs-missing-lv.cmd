lvs --noheadings --separator \| vg0/nosuchlv
