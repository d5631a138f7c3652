#!/usr/bin/env bash
# Runs a command in a fresh Debian 12 root, so that what the project's own set-up does not install
# is missing there, whatever this machine has collected (CI runs on a developer's machine).
#
#   bash scripts/fresh-root.sh [--keep] [--shell] -- 'bash scripts/setup.sh && npm test'
#
# - The base is `debootstrap --variant=minbase bookworm` plus systemd (every installed Debian 12
#   has it: pcs reads services' enablement through systemctl) from the mirror this machine's apt uses,
#   built once and cached in $TSSTOR_CI_CACHE (default /var/cache/tsstor-ci), keyed by this
#   script; every run copies it to a new root and deletes that root afterwards (--keep leaves it).
# - The root gets its own /proc (a new PID namespace: nothing started inside outlives the run),
#   /sys, /run, /tmp and a /dev of its own (tmpfs with the pseudo devices and loop nodes only,
#   devpts, /dev/shm), all in a private mount namespace that ends with the run.
# - From the host it takes only: this checkout (bound at the same path), Node.js and npm with
#   their configuration (the machine's toolchain: Debian 12's Node is too old), apt's sources and
#   Acquire settings, resolv.conf, the machine's own CA certificates, and download caches (apt's
#   .deb archive, npm's cache, the lab's and the package test's content-keyed images) so that a
#   run does not download everything again. Nothing that is *installed* carries over: the
#   command has to install it.
# - The root is entered with pivot_root, so nsenter and `ip netns exec` (which reset a process's
#   root to its mount namespace's) stay inside it.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${TSSTOR_CI_CACHE:-/var/cache/tsstor-ci}
keep=0 shell=0
while [ $# -gt 0 ]; do
  case $1 in
    --keep) keep=1 ;;
    --shell) shell=1 ;;
    --) shift; break ;;
    *) echo "fresh-root: unknown argument $1 (see the header of scripts/fresh-root.sh)" >&2; exit 2 ;;
  esac
  shift
done
[ $# -gt 0 ] || [ "$shell" = 1 ] || { echo "fresh-root: no command given" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "fresh-root: needs root" >&2; exit 1; }
source "$REPO/lab/lib.sh" # lab_mirror: the Debian mirror this machine's apt uses
log() { printf '[fresh-root %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
export DEBIAN_FRONTEND=noninteractive

command -v node >/dev/null && command -v npm >/dev/null ||
  { echo "fresh-root: Node.js and npm are needed on this machine (they are copied into the root)" >&2; exit 1; }
if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap on this machine"
  apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends debootstrap >/dev/null
fi

# --- the cached base -------------------------------------------------------------------------
MIRROR=$(lab_mirror)
# the security archive's URI, if this machine's apt uses one (deb822 or one-line form)
SECURITY=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ && $2 ~ /security/ { print $2; exit }')
[ -n "$SECURITY" ] || SECURITY=$(grep -hE '^deb[[:space:]].*bookworm-security' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
  sed 's/\[[^]]*\]//' | awk '{ print $2; exit }')
KEY=$({ sed -n '/^# --- the cached base/,/^# --- end of the base/p' "$0"; echo "$MIRROR $SECURITY"; } | sha256sum | cut -c1-12)
BASE=$CACHE/base-$KEY
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if [ ! -e "$BASE/.done" ]; then
  log "building the base root (debootstrap minbase bookworm from $MIRROR): once, then cached"
  rm -rf "$BASE" "$BASE.new"
  debootstrap --variant=minbase --include=systemd,systemd-sysv bookworm "$BASE.new" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
    { tail -20 "$CACHE/debootstrap.log" >&2; echo "fresh-root: debootstrap failed" >&2; exit 1; }
  {
    echo "deb $MIRROR bookworm main"
    echo "deb $MIRROR bookworm-updates main"
    [ -z "$SECURITY" ] || echo "deb $SECURITY bookworm-security main"
  } >"$BASE.new/etc/apt/sources.list"
  # services are not started by package installs (no init runs in the root), as in any chroot
  printf '#!/bin/sh\nexit 101\n' >"$BASE.new/usr/sbin/policy-rc.d"
  chmod 755 "$BASE.new/usr/sbin/policy-rc.d"
  rm -rf "$BASE.new/var/cache/apt/archives"/*.deb
  touch "$BASE.new/.done"
  mv "$BASE.new" "$BASE"
fi
# --- end of the base -------------------------------------------------------------------------
# older bases of this cache go (a changed script or mirror makes a new key)
for b in "$CACHE"/base-*; do [ "$b" = "$BASE" ] || [ ! -d "$b" ] || rm -rf "$b"; done

# --- this run's root ---------------------------------------------------------------------------
ROOT=$CACHE/root
# loop devices still attached to files of a root (a test killed before its cleanup): the
# namespaces that held their mounts are gone with the run, the kernel's loop devices are not
detach_loops() {
  losetup -nO NAME,BACK-FILE 2>/dev/null | awk -v r="$ROOT/" 'index($2, r) == 1 { print $1 }' |
    while read -r dev; do losetup -d "$dev" || true; done
}
detach_loops
rm -rf "$ROOT"
log "copying the base to $ROOT"
cp -a "$BASE" "$ROOT"
rm -f "$ROOT/.done"
flock -u 9
# apt: the machine's Acquire settings (proxies, validity checks), not its other hooks
for f in /etc/apt/apt.conf.d/*; do
  [ -f "$f" ] && grep -q '^Acquire::' "$f" && ! grep -vE '^[[:space:]]*(//|#|$)' "$f" | grep -qv '^Acquire::' &&
    cp "$f" "$ROOT/etc/apt/apt.conf.d/"
done
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# what a booted Debian has and a debootstrap root lacks: systemd-tmpfiles links /etc/mtab at boot
# (upstream's Filesystem agent reads it for bind mounts)
ln -sfn ../proc/self/mounts "$ROOT/etc/mtab"
# the machine's own certificate authorities (a TLS proxy's, say): update-ca-certificates adds
# them when the command installs ca-certificates
[ ! -d /usr/local/share/ca-certificates ] || cp -a /usr/local/share/ca-certificates/. "$ROOT/usr/local/share/ca-certificates/"
# Node.js and npm as this machine has them (the npm in place may be newer than the package's)
node_bin=$(readlink -f "$(command -v node)")
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
tar -C / -cf - "${node_bin#/}" "${npm_dir#/}" | tar -C "$ROOT" -xf -
mkdir -p "$ROOT/usr/bin"
[ -e "$ROOT/usr/bin/node" ] || ln -s "$node_bin" "$ROOT/usr/bin/node"
ln -sf "$npm_dir/bin/npm-cli.js" "$ROOT/usr/bin/npm"
ln -sf "$npm_dir/bin/npx-cli.js" "$ROOT/usr/bin/npx"
for f in /root/.npmrc /etc/npmrc /usr/etc/npmrc; do [ ! -f "$f" ] || { mkdir -p "$ROOT$(dirname "$f")"; cp "$f" "$ROOT$f"; }; done
mkdir -p "$ROOT$REPO" "$CACHE/apt-archives/partial" "$CACHE/npm" /var/cache/tsstor-lab /var/cache/tsstor

# The mounts happen inside the new mount and PID namespaces; both end with the run.
inner=$(cat <<'INNER'
set -euo pipefail
R=$1 REPO=$2 CACHE=$3; shift 3
# "/" must be a mount point: `ip netns exec` and `ip -n` remount it as a slave, which fails with
# EINVAL on a plain directory
mount --bind "$R" "$R"
mount -t proc proc "$R/proc"
mount -t sysfs sysfs "$R/sys"
[ ! -d /sys/fs/cgroup ] || ! mountpoint -q /sys/fs/cgroup || mount --rbind /sys/fs/cgroup "$R/sys/fs/cgroup"
mount -t tmpfs -o mode=755,size=64m fr-dev "$R/dev"
for d in null zero full random urandom tty loop-control net/tun fuse kvm vhost-net; do
  [ -c "/dev/$d" ] || continue
  mkdir -p "$(dirname "$R/dev/$d")"
  mknod -m "$(stat -c %a "/dev/$d")" "$R/dev/$d" c "$((0x$(stat -c %t "/dev/$d")))" "$((0x$(stat -c %T "/dev/$d")))"
done
# loop devices: a fresh /dev gets no nodes from devtmpfs, so every minor a test may be handed
for i in $(seq 0 255); do mknod -m 660 "$R/dev/loop$i" b 7 "$i"; done
mkdir -p "$R/dev/pts" "$R/dev/shm" "$R/dev/mqueue"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs -o mode=1777 fr-shm "$R/dev/shm"
mount -t mqueue mqueue "$R/dev/mqueue" 2>/dev/null || true
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"; ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"
mount -t tmpfs -o mode=755 fr-run "$R/run"
mkdir -m 1777 "$R/run/lock"
chmod 1777 "$R/tmp"
mount --bind "$REPO" "$R$REPO"
mount --bind "$CACHE/apt-archives" "$R/var/cache/apt/archives"
mkdir -p "$R/root/.npm" "$R/var/cache/tsstor-lab" "$R/var/cache/tsstor"
mount --bind "$CACHE/npm" "$R/root/.npm"
mount --bind /var/cache/tsstor-lab "$R/var/cache/tsstor-lab"
mount --bind /var/cache/tsstor "$R/var/cache/tsstor"
pass=() # the project's own TSSTOR_* settings (cache paths, bench knobs) go through
for v in ${!TSSTOR_@} NODE_EXTRA_CA_CERTS; do [ -z "${!v:-}" ] || pass+=("$v=${!v}"); done
# pivot_root, not chroot: the root becomes the mount namespace's own root, so that nsenter -m
# and `ip netns exec` (which reset a process's root to its namespace's) stay inside it
cd "$R"
mkdir -p .old-root
pivot_root . .old-root
exec chroot . /bin/bash -c 'umount -l /.old-root && rmdir /.old-root && exec "$@"' fresh-root \
  /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" CI="${CI:-}" DEBIAN_FRONTEND=noninteractive "${pass[@]}" \
  /bin/bash -c "cd '$REPO' && $*"
INNER
)
cmd=${*:-exec bash -i}
[ "$shell" = 0 ] || cmd="$cmd; exec bash -i"
log "running in the fresh root: $cmd"
rc=0
unshare --mount --pid --fork --kill-child --propagation private bash -c "$inner" inner "$ROOT" "$REPO" "$CACHE" "$cmd" || rc=$?
detach_loops
if [ "$keep" = 0 ]; then
  rm -rf "$ROOT"
else
  log "kept $ROOT"
fi
log "exit $rc"
exit "$rc"
