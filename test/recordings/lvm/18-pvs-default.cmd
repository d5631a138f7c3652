pvs
