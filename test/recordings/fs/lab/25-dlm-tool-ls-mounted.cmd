dlm_tool ls
