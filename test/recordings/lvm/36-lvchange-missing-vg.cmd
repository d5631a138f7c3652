lvchange -ay nosuchvg/lv0
