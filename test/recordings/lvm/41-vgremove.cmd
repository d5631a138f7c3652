vgremove -y vg0
