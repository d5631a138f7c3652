corosync-cmapctl totem.cluster_name
