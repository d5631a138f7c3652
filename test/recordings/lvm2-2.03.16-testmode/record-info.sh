export LD_LIBRARY_PATH=/tmp/lvmx/root/usr/lib/x86_64-linux-gnu:/tmp/lvmx/root/lib/x86_64-linux-gnu
export LVM_SYSTEM_DIR=/tmp/lvmx/etc/lvm LVM_SUPPRESS_FD_WARNINGS=1
mount -t tmpfs none /run; mkdir -p /run/lvm /run/lock/lvm
L=/tmp/lvmx/root/sbin/lvm
C=/tmp/lvmx/root/sbin/lvmlockctl
r() { echo "\$ $*"; "$@"; echo "rc=$?"; }
/tmp/lvmx/root/sbin/lvmlockd -T -g dlm -A 1 -S debug; echo "lvmlockd rc=$?"
sleep 0.3; ls -la /run /run/lvm
r $L vgs
r $L vgchange --locktype dlm vg1 --driverloaded n
r $L vgs -o+locktype,lockargs
r $L vgs --reportformat json -o vg_name,vg_lock_type,vg_lock_args,vg_systemid,vg_tags,vg_attr,lv_count,vg_clustered,vg_shared vg1
r $C --info
r $L vgchange --lockstart vg1
r $C --info
r $C -i -d
r $L lvchange -asy vg1/lv1 --driverloaded n
r $C --info
r $L lvchange -aey vg1/my-lv --driverloaded n
r $C --info
r $C -i -d
r $L lvchange -an vg1/lv1 --driverloaded n
r $L vgchange --lockstop vg1
r $C --info
r $L vgchange --lockstart
r $C --info
r $C --stop-lockspaces
r $C --info
r $L vgchange --lockstart vg1
r $L vgchange --lockstop vg1
r $L vgchange --locktype none vg1 --driverloaded n
r $L vgs -o+locktype,lockargs
r $C --quit
sleep 0.3
r $C --info
