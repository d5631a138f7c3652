corosync-cmapctl -g totem.nosuchkey
