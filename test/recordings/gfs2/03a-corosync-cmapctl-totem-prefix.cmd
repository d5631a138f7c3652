corosync-cmapctl totem.
