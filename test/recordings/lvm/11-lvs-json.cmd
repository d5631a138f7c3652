lvs --reportformat json
