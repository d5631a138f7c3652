vgs --reportformat json -o vg_name\,vg_attr\,vg_size\,vg_free\,vg_lock_type\,vg_lock_args\,vg_shared\,vg_systemid\,vg_tags\,vg_uuid\,pv_count\,lv_count
