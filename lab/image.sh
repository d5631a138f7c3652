#!/usr/bin/env bash
# Build (once) the lab's guest image for $LAB_PLATFORM (lib.sh) and cache it under
# $LAB_CACHE/image-KEY/ (debian12) or $LAB_CACHE/image-debian13-KEY/:
#   root.img   ext4 (label "root") with the cluster/storage packages and the kernel's modules
#   vmlinuz, initrd.img   the kernel the guests boot directly: debian12, the host's Debian 6.1
#                         kernel; debian13, trixie's 6.12 kernel installed in the image by apt
#                         (its initrd made there by initramfs-tools)
# KEY hashes guest-packages.txt, this script, guest/tsstor-lab-boot and the kernel (lib.sh), so a
# change to any of them builds a new image; the platform's older images are removed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

dir=$(lab_image_dir)
if [ -f "$dir/root.img" ] && [ -f "$dir/done" ]; then
  echo "$dir"; exit 0
fi
kver=""
if [ "$LAB_PLATFORM" = debian12 ]; then
  kver=$(lab_kernel_version)
  [ -d "/lib/modules/$kver" ] || die "/lib/modules/$kver missing"
fi
mirror=$(lab_mirror)
mkdir -p "$LAB_CACHE"
work="$LAB_CACHE/build.$$"
root="$work/root"
cleanup() {
  for m in proc sys dev/pts dev; do mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"; done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$root"
t0=$SECONDS
log "image: debootstrap minbase $LAB_SUITE from $mirror"
debootstrap --variant=minbase "$LAB_SUITE" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }

mount -t proc proc "$root/proc"; mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"; mount --bind /dev/pts "$root/dev/pts"
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"; chmod +x "$root/usr/sbin/policy-rc.d"
mapfile -t pkgs < <(lab_guest_packages)
log "image: apt-get install ${#pkgs[@]} packages"
chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C apt-get install -y -q \
  --no-install-recommends "${pkgs[@]}" >"$work/apt.log" 2>&1 ||
  { tail -30 "$work/apt.log" >&2; die "apt-get install in the image failed"; }
chroot "$root" apt-get clean
rm -f "$root/usr/sbin/policy-rc.d"
for m in dev/pts dev sys proc; do umount "$root/$m"; done

log "image: configure"
if [ -n "$kver" ]; then # debian12: the host's kernel
  mkdir -p "$root/usr/lib/modules"
  cp -a "/lib/modules/$kver" "$root/usr/lib/modules/"
  cp "/boot/vmlinuz-$kver" "$work/vmlinuz"; cp "/boot/initrd.img-$kver" "$work/initrd.img"
else # the image's own kernel (guest-packages.txt: linux-image-amd64)
  kver=$(ls -1 "$root"/boot/vmlinuz-* 2>/dev/null | sed 's|.*/vmlinuz-||' | sort -V | tail -1)
  [ -n "$kver" ] && [ -f "$root/boot/initrd.img-$kver" ] || die "the image has no kernel and initrd in /boot (see $work/apt.log)"
  cp "$root/boot/vmlinuz-$kver" "$work/vmlinuz"; cp "$root/boot/initrd.img-$kver" "$work/initrd.img"
fi
for b in drbdadm targetcli lvmlockd sanlock dlm_controld mkfs.gfs2 corosync pacemakerd socat sbd fence_sbd pcs; do
  chroot "$root" sh -c "command -v $b" >/dev/null || die "image lacks $b (see $work/apt.log)"
done
chroot "$root" depmod "$kver"
echo lab > "$root/etc/hostname"
printf '127.0.0.1 localhost\n' > "$root/etc/hosts"
printf 'LABEL=root / ext4 rw,noatime 0 1\n' > "$root/etc/fstab"
chroot "$root" passwd -d root >/dev/null
# Nothing of the cluster starts by itself: the suites start what they test.
for u in corosync pacemaker dlm sanlock wdmd lvmlockd lvm2-lvmpolld iscsid open-iscsi \
         rtslib-fb-targetctl target drbd e2scrub_reread apt-daily.timer apt-daily-upgrade.timer \
         e2scrub_all.timer fstrim.timer systemd-timesyncd lvm2-monitor blk-availability sbd pcsd pcsd-ruby; do
  chroot "$root" systemctl disable "$u" >/dev/null 2>&1 || true
done
install -m 0755 "$LAB_DIR/guest/tsstor-lab-boot" "$root/usr/local/sbin/tsstor-lab-boot"
cat > "$root/etc/systemd/system/tsstor-lab.service" <<'UNIT'
[Unit]
Description=tsstor lab: run the payload's suites, then power off
After=local-fs.target systemd-udev-settle.service systemd-modules-load.service
Wants=systemd-udev-settle.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/tsstor-lab-boot
TimeoutStartSec=infinity
StandardOutput=tty
TTYPath=/dev/ttyS0

[Install]
WantedBy=multi-user.target
UNIT
chroot "$root" systemctl enable tsstor-lab.service >/dev/null 2>&1
chroot "$root" systemctl mask serial-getty@ttyS0.service getty@tty1.service >/dev/null 2>&1 || true
# Quiet, fast boot: the console belongs to the suites.
mkdir -p "$root/etc/systemd/system.conf.d"
printf '[Manager]\nShowStatus=no\nDefaultTimeoutStopSec=10s\n' > "$root/etc/systemd/system.conf.d/lab.conf"

log "image: mkfs.ext4 -d (3G sparse)"
rm -f "$work/root.img"
mkfs.ext4 -q -F -L root -d "$root" "$work/root.img" 3G >/dev/null
# this platform's older images (debian12's names are image- and 16 hex digits)
for old in "${LAB_CACHE:?}/$LAB_IMAGE_PREFIX"*; do
  [ -e "$old" ] || continue
  if [ "$LAB_PLATFORM" = debian12 ]; then [[ ${old##*/} =~ ^image-[0-9a-f]{16}$ ]] || continue; fi
  rm -rf "$old"
done
mkdir -p "$dir"
mv "$work/root.img" "$work/vmlinuz" "$work/initrd.img" "$dir/"
cp "$work/apt.log" "$dir/apt.log"
chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' > "$dir/packages.txt" 2>/dev/null || true
echo "$kver" > "$dir/kernel"
touch "$dir/done"
log "image: built in $((SECONDS - t0)) s: $dir"
echo "$dir"
