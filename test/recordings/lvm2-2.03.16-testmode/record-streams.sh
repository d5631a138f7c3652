export LD_LIBRARY_PATH=/tmp/lvmx/root/usr/lib/x86_64-linux-gnu:/tmp/lvmx/root/lib/x86_64-linux-gnu
export LVM_SYSTEM_DIR=/tmp/lvmx/etc/lvm LVM_SUPPRESS_FD_WARNINGS=1
mount -t tmpfs none /run; mkdir -p /run/lvm /run/lock/lvm
L=/tmp/lvmx/root/sbin/lvm
C=/tmp/lvmx/root/sbin/lvmlockctl
r() { echo "\$ $*"; "$@" >/tmp/lvmx/o 2>/tmp/lvmx/e; echo "rc=$?"; sed 's/^/OUT|/' /tmp/lvmx/o; sed 's/^/ERR|/' /tmp/lvmx/e; }
r $C --info
r $L vgs vg1
r $L vgchange --lockstart vg1
/tmp/lvmx/root/sbin/lvmlockd -T -g dlm -A 1; sleep 0.3
r $L vgchange --locktype dlm vg1 --driverloaded n
r $L vgs --reportformat json -o vg_name,vg_lock_type vg1
r $L vgchange --lockstart vg1
r $L vgchange --lockstart vg1
r $L lvchange -aey vg1/lv1 --driverloaded n
r $L vgchange --lockstop vg1
r $L lvchange -an vg1/lv1 --driverloaded n
r $L vgchange --lockstop vg1
r $L lvchange -aey vg1/lv1 --driverloaded n
r $L lvs vg1/nosuch
r $L vgs nosuch
r $L lvmconfig global/nosuch
r $L systemid
r $L vgscan
r $L vgchange --addtag foo vg1
r $C --info
r $C --stop-lockspaces
r $C --info
r $L vgchange --locktype none vg1 --driverloaded n
r $L vgchange --lockstart vg1
kill $(cat /run/lvmlockd.pid); sleep 2
r $L vgs
