pvs --reportformat json -o pv_name\,vg_name\,pv_attr\,pv_size\,pv_free\,pv_uuid
