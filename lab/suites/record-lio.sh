# Recordings of real targetcli-fb / LIO (configfs) output for the fakes in test/fakes/.
source /lab/guest/lib.sh
T=targetcli
IQN=iqn.2003-01.org.tsstor.lab:t1
INIT=iqn.1993-08.org.debian:01:labinit
INIT2=iqn.1993-08.org.debian:01:labinit2
mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
modprobe target_core_mod; modprobe iscsi_target_mod; modprobe target_core_file; modprobe target_core_iblock
versions $T targetcli --version
versions $T dpkg-query -W targetcli-fb python3-rtslib-fb python3-configshell-fb
versions $T uname -r
truncate -s 64M /var/tmp/f0.img
truncate -s 64M /var/tmp/b0.img
LOOP=$(losetup -f --show /var/tmp/b0.img)
note $T README "Recorded in the lab VM (Debian bookworm, kernel $(uname -r)). LOOP=$LOOP. Cases in order; each CASE.cmd is the exact command line, .out/.err/.rc its stdout, stderr and exit code."

rec $T 01-ls-empty targetcli ls
rec $T 02-fileio-create targetcli /backstores/fileio create name=f0 file_or_dev=/var/tmp/f0.img size=64M
rec $T 03-block-create targetcli /backstores/block create name=b0 dev=$LOOP
rec $T 04-block-create-wwn targetcli /backstores/block create name=b1 dev=/dev/null wwn=0123456789abcdef
rec $T 05-fileio-create-exists targetcli /backstores/fileio create name=f0 file_or_dev=/var/tmp/f0.img size=64M
rec $T 06-block-create-exists targetcli /backstores/block create name=b0 dev=$LOOP
rec $T 07-block-create-dev-in-use targetcli /backstores/block create name=b2 dev=$LOOP
rec $T 08-iscsi-create targetcli /iscsi create $IQN
rec $T 09-iscsi-create-exists targetcli /iscsi create $IQN
rec $T 10-ls-after-target targetcli ls
rec $T 11-portal-create-default-conflict targetcli /iscsi/$IQN/tpg1/portals create 127.0.0.1 3260
rec $T 12-portal-delete-default targetcli /iscsi/$IQN/tpg1/portals delete 0.0.0.0 3260
rec $T 13-portal-create targetcli /iscsi/$IQN/tpg1/portals create 127.0.0.1 3260
rec $T 14-portal-create-exists targetcli /iscsi/$IQN/tpg1/portals create 127.0.0.1 3260
rec $T 15-portal-create-ipv6 targetcli /iscsi/$IQN/tpg1/portals create ::1 3260
rec $T 16-portal-create-ipv6-brackets targetcli /iscsi/$IQN/tpg1/portals create [::1] 3261
rec $T 17-lun-create-fileio targetcli /iscsi/$IQN/tpg1/luns create /backstores/fileio/f0
rec $T 18-lun-create-block-lun1 targetcli /iscsi/$IQN/tpg1/luns create /backstores/block/b0 1
rec $T 19-lun-create-exists targetcli /iscsi/$IQN/tpg1/luns create /backstores/block/b0 1
rec $T 20-acl-create targetcli /iscsi/$IQN/tpg1/acls create $INIT
rec $T 21-acl-create-exists targetcli /iscsi/$IQN/tpg1/acls create $INIT
rec $T 22-acl-create-no-map targetcli /iscsi/$IQN/tpg1/acls create $INIT2 add_mapped_luns=false
rec $T 23-acl-set-auth targetcli /iscsi/$IQN/tpg1/acls/$INIT set auth userid=labuser password=labsecret12
rec $T 24-tpg-set-attribute targetcli /iscsi/$IQN/tpg1 set attribute authentication=1 generate_node_acls=0 demo_mode_write_protect=0 cache_dynamic_acls=1
rec $T 25-tpg-get-attribute targetcli /iscsi/$IQN/tpg1 get attribute authentication generate_node_acls
rec $T 26-acl-get-auth targetcli /iscsi/$IQN/tpg1/acls/$INIT get auth userid
rec $T 27-mapped-lun-create targetcli /iscsi/$IQN/tpg1/acls/$INIT2 create 0 /backstores/fileio/f0
rec $T 28-ls-full targetcli ls
rec $T 29-ls-target-depth1 targetcli ls /iscsi/$IQN 1
rec $T 30-ls-backstores targetcli ls /backstores
rec $T 31-global-get targetcli / get global auto_add_default_portal auto_add_mapped_luns
rec $T 32-cd-nonexistent targetcli /iscsi/iqn.2003-01.org.tsstor.lab:nope ls
rec $T 33-tpg-enable-exists targetcli /iscsi/$IQN/tpg1 enable
rec $T 34-batch-stdin sh -c "printf '%s\n' 'ls /iscsi 1' 'exit' | targetcli"
# batch mode (one targetcli process, commands on stdin), as the tsstor adapter runs it: errors go
# to stderr and the batch goes on
G='set global auto_save_on_exit=false auto_add_default_portal=false auto_enable_tpgt=false auto_add_mapped_luns=false auto_cd_after_create=false export_backstore_name_as_model=true'
rec_in $T 35-batch-set-global-create-errors "$G
/iscsi create $IQN
/iscsi create iqn.2003-01.org.tsstor.lab:t2
/iscsi/iqn.2003-01.org.tsstor.lab:t2/tpg1/portals create 127.0.0.1 3261
/iscsi/iqn.2003-01.org.tsstor.lab:t2/tpg1/portals create 127.0.0.1 3261
/iscsi/iqn.2003-01.org.tsstor.lab:t2/tpg1 enable
/backstores/fileio create name=f0 file_or_dev=/var/tmp/f0.img
/iscsi/iqn.2003-01.org.tsstor.lab:t2/tpg1/luns create /backstores/fileio/f0 5
/iscsi/iqn.2003-01.org.tsstor.lab:t2/tpg1/acls create $INIT2
/iscsi/iqn.2003-01.org.tsstor.lab:t2/tpg1/acls/$INIT2 create 5 /backstores/fileio/f0
exit
" env TARGETCLI_HOME=/tmp/tch targetcli
rec_in $T 36-batch-ls-delete "ls /iscsi/iqn.2003-01.org.tsstor.lab:t2
/iscsi delete iqn.2003-01.org.tsstor.lab:t2
/iscsi delete iqn.2003-01.org.tsstor.lab:t2
exit
" env TARGETCLI_HOME=/tmp/tch targetcli
rec_in $T 37-batch-unknown-path "/iscsi/iqn.2003-01.org.tsstor.lab:nope/tpg1 enable
ls /nope
exit
" env TARGETCLI_HOME=/tmp/tch targetcli
dump_tree $T 40-configfs-tree /sys/kernel/config/target
rec $T 41-lun-delete-missing targetcli /iscsi/$IQN/tpg1/luns delete lun7
rec $T 42-acl-delete-missing targetcli /iscsi/$IQN/tpg1/acls delete iqn.1993-08.org.debian:01:none
rec $T 43-portal-delete-missing targetcli /iscsi/$IQN/tpg1/portals delete 127.0.0.2 3260
rec $T 44-backstore-delete-missing targetcli /backstores/block delete nope
rec $T 45-iscsi-create-bad-iqn targetcli /iscsi create notaniqn
rec $T 46-block-create-missing-dev targetcli /backstores/block create name=b3 dev=/dev/nonexistent
# the backing device vanishes under a live LUN (iSCSILogicalUnit stop after the path is gone)
losetup -d "$LOOP"
rec $T 47-ls-after-loop-detach targetcli ls
dump_tree $T 48-configfs-tree-loop-detached /sys/kernel/config/target
rec $T 48a-lun-delete-after-detach targetcli /iscsi/$IQN/tpg1/luns delete lun1
rec $T 48b-backstore-delete-after-detach targetcli /backstores/block delete b0
# deleting a backstore still mapped through a LUN: targetcli removes the LUN with it
rec $T 48c-backstore-delete-in-use targetcli /backstores/fileio delete f0
rec $T 48d-ls-after-delete-in-use targetcli ls /iscsi
rec $T 49-iscsi-delete targetcli /iscsi delete $IQN
rec $T 50-backstore-delete-gone targetcli /backstores/block delete b0
rec $T 51-iscsi-delete-missing targetcli /iscsi delete $IQN
# portals and the kernel's listening sockets: one ip:port is shared between targets, refused to a
# second TPG of the same target, and a wildcard cannot bind beside a specific address on its port
T3=iqn.2003-01.org.tsstor.lab:t3
T4=iqn.2003-01.org.tsstor.lab:t4
rec $T 51a-iscsi-create-default-portal targetcli /iscsi create $T3
rec $T 51b-iscsi-create-default-portal-shared targetcli /iscsi create $T4
rec $T 51c-portal-create-v6-any-beside-v4-any targetcli /iscsi/$T3/tpg1/portals create :: 3260
rec $T 51d-tpg-create-default-portal-refused targetcli /iscsi/$T3 create 2
rec $T 51e-portal-create-v6-any targetcli /iscsi/$T3/tpg2/portals create :: 3262
rec $T 51f-portal-create-v4-beside-v6-any targetcli /iscsi/$T4/tpg1/portals create 127.0.0.1 3262
rec $T 51g-portal-create-shared-other-target targetcli /iscsi/$T4/tpg1/portals create :: 3262
rec $T 51h-portal-create-same-target-other-tpg targetcli /iscsi/$T3/tpg1/portals create :: 3262
rec $T 51i-portal-create-bad-address targetcli /iscsi/$T4/tpg1/portals create 10.0.0.300 3263
rec $T 52-clearconfig targetcli clearconfig confirm=True
dump_tree $T 53-configfs-tree-clear /sys/kernel/config/target
result targetcli - "recordings" PASS
