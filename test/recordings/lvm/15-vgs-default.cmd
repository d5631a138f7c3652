vgs
