vgs --reportformat json nosuchvg
