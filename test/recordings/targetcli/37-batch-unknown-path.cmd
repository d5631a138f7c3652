env TARGETCLI_HOME=/tmp/tch targetcli
