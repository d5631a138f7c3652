#!/usr/bin/env bash
# npm run package: the Debian package build/pkg/tsstor_<version>_amd64.deb (dpkg-deb), staged with
# packaging/install.sh; man pages generated from the agent declarations. The RPM spec for
# RHEL-family systems is packaging/rpm/tsstor.spec.
set -euo pipefail
cd "$(dirname "$0")/.."
BUN=node_modules/@oven/bun-linux-x64-baseline/bin/bun
VERSION=$(node -p 'require("./package.json").version')
[ -x build/tsstor-agents ] || bash scripts/build.sh

STAGE=build/pkg/root
rm -rf build/pkg && mkdir -p "$STAGE/DEBIAN"
DESTDIR="$PWD/$STAGE" bash packaging/install.sh >/dev/null

# man pages, docs, bash completion
"$BUN" scripts/gen-man.ts "$STAGE/usr/share/man/man7" >/dev/null
if [ -x build/tsstor ]; then
  mkdir -p "$STAGE/usr/share/man/man8" "$STAGE/usr/share/bash-completion/completions"
  "$BUN" scripts/gen-cli-man.ts build/tsstor "$STAGE/usr/share/man/man8/tsstor.8"
  build/tsstor completion > "$STAGE/usr/share/bash-completion/completions/tsstor" 2>/dev/null || true
fi
gzip -9n "$STAGE"/usr/share/man/man*/*
DOC="$STAGE/usr/share/doc/tsstor"
mkdir -p "$DOC"
cp README.md "$DOC/"
[ -f BENCHMARKS.md ] && cp BENCHMARKS.md "$DOC/"
cp -r docs/agents "$DOC/agents"
cp packaging/copyright "$DOC/copyright"

SIZE=$(du -sk "$STAGE" --exclude=DEBIAN | cut -f1)
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: tsstor
Version: $VERSION
Architecture: amd64
Maintainer: tsstor developers <tsstor@localhost>
Installed-Size: $SIZE
Depends: libc6 (>= 2.17)
Recommends: pacemaker-cli-utils, iproute2, iputils-arping
Suggests: resource-agents, tgt | targetcli-fb, open-iscsi, multipath-tools, drbd-utils, lvm2, lvm2-lockd, dlm-controld, gfs2-utils, sanlock, psmisc, libiscsi-bin
Enhances: pacemaker
Section: admin
Priority: optional
Homepage: https://example.invalid/tsstor
Description: Pacemaker OCF resource agents for highly available shared storage
 Drop-in replacements, compiled to one native executable, for ocf:heartbeat:IPaddr2,
 iSCSITarget, iSCSILogicalUnit, iscsi (the initiator), Filesystem, lvmlockd, LVM-activate and ocf:linbit:drbd
 (provider "tsstor", same parameters), plus the tsstor command: stack scripts for pcs,
 status and configuration checks. No language runtime is needed on the storage nodes.
CONTROL
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | xargs -0 md5sum) > build/pkg/md5sums
mv build/pkg/md5sums "$STAGE/DEBIAN/md5sums"
OUT="build/pkg/tsstor_${VERSION}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$OUT" >/dev/null
echo "$OUT"
