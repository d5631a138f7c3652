lvmlockctl --stop-lockspaces
