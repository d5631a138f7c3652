corosync-cmapctl -g totem.cluster_name
