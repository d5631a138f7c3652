lvmlockctl --info
