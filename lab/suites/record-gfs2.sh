# Recordings of real GFS2 (lock_dlm on a one-node corosync + dlm_controld) for the fs fakes:
# tunegfs2 -l, ways to count journals without gfs2_edit, mount/mountinfo lines, mount errors.
source /lab/guest/lib.sh
G=gfs2
versions $G dpkg-query -W gfs2-utils
versions $G mkfs.gfs2 -V
versions $G corosync -v
versions $G uname -r
note $G README "Recorded in the lab VM (Debian bookworm, kernel $(uname -r)): one-node corosync (cluster_name lab) + dlm_controld (enable_fencing=0); file systems on loop devices."
truncate -s 512M /var/tmp/gfs2a.img /var/tmp/gfs2b.img
A=$(losetup -f --show /var/tmp/gfs2a.img)
B=$(losetup -f --show /var/tmp/gfs2b.img)
start_corosync && start_dlm
modprobe gfs2
rec $G 01-corosync-cmapctl-cluster-name corosync-cmapctl totem.cluster_name
rec $G 02-corosync-cmapctl-g corosync-cmapctl -g totem.cluster_name
rec $G 03-corosync-cmapctl-missing corosync-cmapctl -g totem.nosuchkey
rec $G 03a-corosync-cmapctl-totem-prefix corosync-cmapctl totem.
rec $G 03b-dlm-tool-status dlm_tool status
rec $G 04-mkfs-gfs2 mkfs.gfs2 -O -p lock_dlm -t lab:fs0 -j 2 -J 8 $A
rec $G 05-mkfs-gfs2-other-cluster mkfs.gfs2 -O -p lock_dlm -t other:fs1 -j 1 -J 8 $B
rec $G 06-tunegfs2-l tunegfs2 -l $A
rec $G 07-tunegfs2-l-other tunegfs2 -l $B
rec $G 08-blkid-export blkid -p -o export $A
rec $G 09-blkid-label blkid -o value -s LABEL $A
rec $G 10-superblock-hexdump sh -c "dd if=$A bs=4096 skip=16 count=1 status=none | od -A d -t x1 -v | head -40"
rec $G 11-gfs2-edit-jindex gfs2_edit -p jindex $A
rec $G 11a-gfs2-edit-jindex-j1 gfs2_edit -p jindex $B
rec $G 12-gfs2-edit-sb gfs2_edit -p sb field sb_lockproto $A
rec $G 13-tunegfs2-l-not-gfs2 tunegfs2 -l /dev/disk/by-id/virtio-data
mkdir -p /mnt/g0 /mnt/g1 /mnt/meta
rec $G 20-mount mount -t gfs2 $A /mnt/g0
rec $G 21-proc-self-mountinfo sh -c "grep ' - gfs2 ' /proc/self/mountinfo"
rec $G 22-proc-mounts sh -c "grep ' gfs2 ' /proc/mounts"
rec $G 23-mount-t-gfs2 mount -t gfs2
rec $G 24-findmnt-json findmnt -J -t gfs2
rec $G 25-dlm-tool-ls-mounted dlm_tool ls
rec $G 26-sys-fs-gfs2 sh -c "ls /sys/fs/gfs2/; ls /sys/fs/gfs2/*/; for f in id fsname lock_module/proto_name lock_module/block lock_module/jid; do echo \$f=\$(cat /sys/fs/gfs2/*/\$f); done"
rec $G 27-mount-gfs2meta mount -t gfs2meta /mnt/g0 /mnt/meta
rec $G 28-jindex-ls ls -1 /mnt/meta/jindex
rec $G 29-umount-gfs2meta umount /mnt/meta
rec $G 30-gfs2-jadd-test gfs2_jadd -T -j 1 /mnt/g0
rec $G 31-mount-busy-again mount -t gfs2 $A /mnt/g1
rec $G 32-mount-wrong-cluster mount -t gfs2 $B /mnt/g1
rec $G 33-dmesg-after-wrong-cluster sh -c "dmesg | tail -8 | sed 's/^\[[ 0-9.]*\] //'"
rec $G 34-mount-lockproto-override mount -t gfs2 -o lockproto=lock_nolock $B /mnt/g1
rec $G 35-mountinfo-nolock sh -c "grep ' - gfs2 ' /proc/self/mountinfo"
rec $G 36-umount-nolock umount /mnt/g1
rec $G 37-tunegfs2-set-table tunegfs2 -o locktable=lab:fs1 $B
rec $G 38-tunegfs2-l-after-set tunegfs2 -l $B
rec $G 39-tunegfs2-while-mounted tunegfs2 -o locktable=lab:fs9 $A
exec 7< /mnt/g0
rec $G 40-umount-busy umount /mnt/g0
exec 7<&-
rec $G 41-umount umount /mnt/g0
rec $G 42-dlm-tool-ls-after-umount dlm_tool ls
rec $G 43-mount-no-dlm-controld-absent-fs mount -t gfs2 /dev/nonexistent /mnt/g0
result gfs2 - "recordings" PASS
