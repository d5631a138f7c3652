find /sys/kernel/config/target -> path | type | content
