# Host-side helpers shared by the lab scripts (sourced, not run).
# Everything the lab keeps between runs lives under $LAB_CACHE (outside the repository).

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$LAB_DIR/.." && pwd)
LAB_CACHE=${TSSTOR_LAB_CACHE:-/var/cache/tsstor-lab}

log() { printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The guests' platform (run.sh --platform, or TSSTOR_LAB_PLATFORM for the scripts run alone):
#   debian12  bookworm guests booting the host's own kernel (Debian's 6.1)
#   debian13  trixie guests booting trixie's kernel (6.12), installed in the image by apt
# Each platform has its own image (image-KEY, image-debian13-KEY) and run directory.
LAB_PLATFORM=${TSSTOR_LAB_PLATFORM:-debian12}
case $LAB_PLATFORM in
  debian12) LAB_SUITE=bookworm LAB_IMAGE_PREFIX=image- LAB_RUN_NAME=run ;;
  debian13) LAB_SUITE=trixie LAB_IMAGE_PREFIX=image-debian13- LAB_RUN_NAME=run-debian13 ;;
  *) die "unknown platform \"$LAB_PLATFORM\" (debian12 or debian13)" ;;
esac

# The guest packages of this platform: guest-packages.txt's lines, a package alone or followed by
# the platforms it is for.
lab_guest_packages() {
  awk -v p="$LAB_PLATFORM" '/^[[:space:]]*(#|$)/ { next }
    { if (NF == 1) { print $1; next } for (i = 2; i <= NF; i++) if ($i == p) { print $1; next } }' \
    "$LAB_DIR/guest-packages.txt"
}

# debian12's kernel, the one the guests boot: the host's linux-image-amd64 (Debian's 6.1, with
# configfs/LIO, DRBD 8.4, device-mapper, GFS2, DLM as modules).
# Not installed (CI's fresh root): the version apt would install, so that a cached image for it is
# used without installing the kernel (run.sh installs it when the image must be built).
lab_kernel_version() {
  local v
  v=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sed 's|.*/vmlinuz-||' | sort -V | tail -1)
  [ -n "$v" ] || v=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: linux-image-\([0-9].*\)$/\1/p' | head -1)
  [ -n "$v" ] || die "no /boot/vmlinuz-* and apt knows no linux-image-amd64: install linux-image-amd64"
  echo "$v"
}

# The Debian mirror the host's apt already uses for bookworm (deb822 .sources or one-line .list),
# so the image comes from wherever this machine is allowed to fetch packages; a Debian mirror
# serves trixie as well.
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

# Cache key: the guest package list, the image script and the kernel: debian12's version (the
# host's kernel is copied in); for debian13 the platform's name (its kernel is whatever version
# trixie's linux-image-amd64 had when the image was built: the image's "kernel" file says which).
lab_image_key() {
  { cat "$LAB_DIR/guest-packages.txt" "$LAB_DIR/image.sh" "$LAB_DIR/guest/tsstor-lab-boot"
    if [ "$LAB_PLATFORM" = debian12 ]; then lab_kernel_version; else echo "$LAB_PLATFORM"; fi
  } | sha256sum | cut -c1-16
}
lab_image_dir() { echo "$LAB_CACHE/$LAB_IMAGE_PREFIX$(lab_image_key)"; }

# ---- the recordings' package versions ---------------------------------------------------------
# The packages whose tools' outputs the record-* suites save in test/recordings/<tool>/ (targetcli
# and its shell; lvm/dmsetup/lvmlockd with sanlock, dlm_tool and corosync-cmapctl; drbdadm and
# drbdsetup; the gfs2 tools with blkid, findmnt and mount; iscsiadm). test/recordings/PACKAGES
# holds their versions in the image the committed recordings were made with: while the image has
# the same ones, recording again would only reproduce them, and run.sh skips the record suites.
# Not the kernel: it is in the image key and changes with every Debian kernel update, while the
# in-kernel DRBD 8.4.11 and LIO outputs the recordings hold have not (--record re-records at will).
RECORDED_PACKAGES="targetcli-fb python3-rtslib-fb python3-configshell-fb lvm2 dmsetup lvm2-lockd sanlock dlm-controld corosync drbd-utils gfs2-utils util-linux mount open-iscsi resource-agents pacemaker"
RECORDED_LIST=$REPO_DIR/test/recordings/PACKAGES

# lab_recorded_packages IMAGE_DIR: "package version" for each of RECORDED_PACKAGES as installed in
# IMAGE_DIR/root.img ("package not-installed" when absent), without booting or mounting it: its
# /var/lib/dpkg/status read with debugfs (read-only, safe while VMs run on the image; ~20 ms).
lab_recorded_packages() {
  local img=$1/root.img status
  [ -f "$img" ] || { log "no image at $img"; return 1; }
  command -v debugfs >/dev/null || { log "debugfs missing (e2fsprogs)"; return 1; }
  # debugfs exits 0 even when the file is missing: check what came out
  status=$(debugfs -R "cat /var/lib/dpkg/status" "$img" 2>/dev/null)
  case "$status" in *"Package: "*) ;; *) log "no dpkg status in $img"; return 1 ;; esac
  printf '%s\n' "$status" | awk -v want="$RECORDED_PACKAGES" '
    BEGIN { RS = ""; FS = "\n"; n = split(want, w, " ") }
    { p = v = s = ""
      for (i = 1; i <= NF; i++) {
        if ($i ~ /^Package: /) p = substr($i, 10)
        else if ($i ~ /^Version: /) v = substr($i, 10)
        else if ($i ~ /^Status: /) s = substr($i, 9)
      }
      if (p != "" && s ~ / installed$/ && !(p in ver)) ver[p] = v }
    END { for (i = 1; i <= n; i++) print w[i], (w[i] in ver ? ver[w[i]] : "not-installed") }'
}

# lab_recorded_packages_diff IMAGE_DIR: one line per difference between the image's recorded
# packages and test/recordings/PACKAGES ("lvm2 2.03.16-2 -> 2.03.16-3", "open-iscsi (not in
# PACKAGES) -> 2.1.8-1"); nothing when they are the same. Fails when the image cannot be read.
lab_recorded_packages_diff() {
  local now
  now=$(lab_recorded_packages "$1") || return 1
  [ -f "$RECORDED_LIST" ] || { echo "test/recordings/PACKAGES missing"; return 0; }
  # comments and blank lines allowed in PACKAGES; a package listed twice counts once (the last)
  awk '/^[[:space:]]*(#|$)/ { next }
    !($1 in seen) { seen[$1] = 1; order[++n] = $1 }
    FILENAME == ARGV[1] { old[$1] = $2; next } { new[$1] = $2 }
    END { for (i = 1; i <= n; i++) { p = order[i]
      o = (p in old) ? old[p] : "(not in PACKAGES)"; c = (p in new) ? new[p] : "(no longer recorded)"
      if (o != c) print p, o, "->", c } }' "$RECORDED_LIST" <(printf '%s\n' "$now")
}

# lab_write_recorded_packages IMAGE_DIR: test/recordings/PACKAGES from the image (run.sh --record,
# once every record suite has recorded in this image).
lab_write_recorded_packages() {
  local now
  now=$(lab_recorded_packages "$1") || return 1
  printf '%s\n' "$now" > "$RECORDED_LIST.tmp" && mv "$RECORDED_LIST.tmp" "$RECORDED_LIST"
}

# ---- lab/RESULTS.md: one section per platform -------------------------------------------------
LAB_PLATFORMS="debian12 debian13"
# lab_results_merge SECTION_FILE: lab/RESULTS.md with $LAB_PLATFORM's section replaced by
# SECTION_FILE (report.sh's output) and every other platform's section kept as its last run left it.
lab_results_merge() {
  local out=$LAB_DIR/RESULTS.md p
  {
    cat <<'HEAD'
# Kernel lab results

One section per guest platform, each written by that platform's last run of the lab
(`bash lab/run.sh --platform debian12|debian13`; `npm run lab` is debian12, the one CI runs).
HEAD
    for p in $LAB_PLATFORMS; do
      printf '\n<!-- lab:%s -->\n' "$p"
      if [ "$p" = "$LAB_PLATFORM" ]; then cat "$1"
      elif [ -f "$out" ] && grep -q "^<!-- lab:$p -->\$" "$out"; then
        awk -v b="<!-- lab:$p -->" -v e="<!-- /lab:$p -->" '$0 == e { on = 0 } on { print } $0 == b { on = 1 }' "$out"
      else printf '## %s\n\nNot run yet: `bash lab/run.sh --platform %s`.\n' "$p" "$p"; fi
      printf '<!-- /lab:%s -->\n' "$p"
    done
  } > "$out.tmp" && mv "$out.tmp" "$out"
}
