sanlock client status
