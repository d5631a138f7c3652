targetcli /iscsi create notaniqn
