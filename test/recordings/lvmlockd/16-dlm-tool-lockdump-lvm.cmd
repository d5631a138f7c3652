dlm_tool lockdebug lvm_vgd
