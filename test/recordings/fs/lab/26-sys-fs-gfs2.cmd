sh -c ls\ /sys/fs/gfs2/\;\ ls\ /sys/fs/gfs2/\*/\;\ for\ f\ in\ id\ fsname\ lock_module/proto_name\ lock_module/block\ lock_module/jid\;\ do\ echo\ \$f=\$\(cat\ /sys/fs/gfs2/\*/\$f\)\;\ done
