#!/usr/bin/env bash
# One-time setup on Debian 12 (root): the Debian packages the agents, tests, demo and benchmarks
# use, Node's packages (npm ci), and the build. Used by the README's setup step and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

PKGS=(
  # Pacemaker's own tools the tests and the demo drive, and the upstream agents we compare against
  pacemaker pacemaker-cli-utils corosync pcs resource-agents drbd-utils libxml2-utils
  # what the upstream agents call on a real node (Filesystem exits 5 on every action without modprobe)
  kmod
  # real components the agents manage in tests and the demo
  iproute2 iputils-arping ndisc6 tcpdump tgt libiscsi-bin qemu-utils qemu-block-extra
  e2fsprogs xfsprogs gfs2-utils psmisc util-linux procps strace
  # benchmarks, status graphs and tooling
  hyperfine time graphviz librsvg2-bin tmux git ca-certificates
  # packaging tests: a debootstrap chroot, rpmbuild
  debootstrap rpm dpkg-dev man-db
  # doctor tests: fence agents metadata for pcs -f; sbd: pcs refuses stonith-watchdog-timeout
  # while SBD is not installed and enabled (the stack's watchdog method, checked with pcs -f)
  fence-agents sbd
)
apt-get update -q
apt-get install -y -q --no-install-recommends "${PKGS[@]}"

if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "setup: Node.js >= 20 is needed (Debian 12 ships 18: use NodeSource or nvm)" >&2
  exit 1
fi
npm ci --no-audit --no-fund
npm run build
