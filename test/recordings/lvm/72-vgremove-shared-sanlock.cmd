vgremove -y vgs
