targetcli /iscsi/iqn.2003-01.org.tsstor.lab:t1/tpg1 set attribute authentication=1 generate_node_acls=0 demo_mode_write_protect=0 cache_dynamic_acls=1
