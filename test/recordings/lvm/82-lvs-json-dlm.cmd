lvs --reportformat json -o lv_name\,vg_name\,lv_attr\,lv_size\,lv_active\,lv_active_locally\,lv_active_exclusively\,lv_active_remotely\,lv_uuid\,lv_path\,lv_dm_path\,lv_tags\,lv_lock_args vgd
