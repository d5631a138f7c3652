lvs --reportformat json nosuchvg
