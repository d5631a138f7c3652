tunegfs2 -l /dev/disk/by-id/virtio-data
