# Host-side helpers shared by the lab scripts (sourced, not run).
# Everything the lab keeps between runs lives under $LAB_CACHE (outside the repository).

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$LAB_DIR/.." && pwd)
LAB_CACHE=${TSSTOR_LAB_CACHE:-/var/cache/tsstor-lab}
LAB_SUITE=bookworm

log() { printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The kernel the guests boot: the host's linux-image-amd64 (Debian's 6.1, with configfs/LIO,
# DRBD 8.4, device-mapper, GFS2, DLM as modules).
lab_kernel_version() {
  local v
  v=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sed 's|.*/vmlinuz-||' | sort -V | tail -1)
  [ -n "$v" ] || die "no /boot/vmlinuz-*: install linux-image-amd64 (bash lab/run.sh installs it)"
  echo "$v"
}

# The Debian mirror the host's apt already uses (deb822 .sources or one-line .list), so the
# image comes from wherever this machine is allowed to fetch packages.
lab_mirror() {
  local m
  m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
    /^URIs:/ { uri=$2 } /^Suites:/ { s=$0 }
    /^$/ { if (uri != "" && s ~ /[ \t]bookworm([ \t]|$)/) { print uri; exit } uri=""; s="" }
    END { if (uri != "" && s ~ /[ \t]bookworm([ \t]|$)/) print uri }' | head -1)
  if [ -z "$m" ]; then
    m=$(grep -hE '^deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$3 == "bookworm" { print $2; exit }' | sed 's/\[.*\]//')
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

# Cache key: the guest package list, the image script and the kernel version.
lab_image_key() {
  { cat "$LAB_DIR/guest-packages.txt" "$LAB_DIR/image.sh" "$LAB_DIR/guest/tsstor-lab-boot";
    lab_kernel_version; } | sha256sum | cut -c1-16
}
lab_image_dir() { echo "$LAB_CACHE/image-$(lab_image_key)"; }
