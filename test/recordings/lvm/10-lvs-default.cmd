lvs
