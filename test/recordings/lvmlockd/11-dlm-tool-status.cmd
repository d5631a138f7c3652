dlm_tool status
