targetcli / get global auto_add_default_portal auto_add_mapped_luns
