#!/usr/bin/env bash
# Install (or with --uninstall remove) the built tsstor executable: the agents and the command.
#   sudo ./packaging/install.sh [--uninstall]
# Honours DESTDIR (staging root, e.g. for packages), OCF_ROOT (default /usr/lib/ocf) and PREFIX
# (default /usr). One executable, $PREFIX/lib/tsstor/tsstor, is every agent and the command: the
# name it runs as picks which. Links: $PREFIX/sbin/tsstor and $PREFIX/lib/tsstor/tsstor-agents
# (`tsstor-agents AGENT ACTION`, --list); in $OCF_ROOT/resource.d/tsstor/ one shell front per
# agent that execs `tsstor-agents AGENT` (packaging/front.sh says why).
set -euo pipefail
cd "$(dirname "$0")/.."
DESTDIR=${DESTDIR:-}
OCF_ROOT=${OCF_ROOT:-/usr/lib/ocf}
PREFIX=${PREFIX:-/usr}
LIBDIR=$PREFIX/lib/tsstor
RADIR=$OCF_ROOT/resource.d/tsstor
BIN=build/tsstor

agents() {
  if [ -x "$BIN" ]; then build/tsstor-agents --list
  elif [ -x "$DESTDIR$LIBDIR/tsstor-agents" ]; then "$DESTDIR$LIBDIR/tsstor-agents" --list
  fi
}

if [ "${1:-}" = "--uninstall" ]; then
  for a in $(agents); do rm -f "$DESTDIR$RADIR/$a"; done
  rmdir "$DESTDIR$RADIR" 2>/dev/null || true
  rm -f "$DESTDIR$LIBDIR/tsstor-agents" "$DESTDIR$LIBDIR/tsstor" "$DESTDIR$PREFIX/sbin/tsstor"
  rmdir "$DESTDIR$LIBDIR" 2>/dev/null || true
  echo "tsstor removed from ${DESTDIR:-/}"
  exit 0
fi

[ -x "$BIN" ] && [ -e build/tsstor-agents ] || { echo "install: $BIN missing; run npm run build first" >&2; exit 1; }
install -d -m 0755 "$DESTDIR$LIBDIR" "$DESTDIR$RADIR" "$DESTDIR$PREFIX/sbin"
# a new file renamed over the old one: running agents keep the executable they started with
install -m 0755 "$BIN" "$DESTDIR$LIBDIR/tsstor.new"
mv -f "$DESTDIR$LIBDIR/tsstor.new" "$DESTDIR$LIBDIR/tsstor"
ln -sfn tsstor "$DESTDIR$LIBDIR/tsstor-agents"
source packaging/front.sh
for a in $(agents); do
  write_front "$a" "$LIBDIR/tsstor-agents" "$DESTDIR$RADIR/$a"
done
ln -sfn "$LIBDIR/tsstor" "$DESTDIR$PREFIX/sbin/tsstor"
echo "tsstor installed: $(agents | tr '\n' ' ')in ${DESTDIR}$RADIR, the command in ${DESTDIR}$PREFIX/sbin/tsstor"
