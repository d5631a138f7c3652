#!/usr/bin/env bash
# Install (or with --uninstall remove) the built tsstor agents and command.
#   sudo ./packaging/install.sh [--uninstall]
# Honours DESTDIR (staging root, e.g. for packages), OCF_ROOT (default /usr/lib/ocf) and PREFIX
# (default /usr). The agents are one multi-call binary in $PREFIX/lib/tsstor, linked once per
# agent name in $OCF_ROOT/resource.d/tsstor/ (the name picks the agent).
set -euo pipefail
cd "$(dirname "$0")/.."
DESTDIR=${DESTDIR:-}
OCF_ROOT=${OCF_ROOT:-/usr/lib/ocf}
PREFIX=${PREFIX:-/usr}
LIBDIR=$PREFIX/lib/tsstor
RADIR=$OCF_ROOT/resource.d/tsstor
BIN=build/tsstor-agents

agents() {
  if [ -x "$BIN" ]; then "$BIN" --list
  elif [ -x "$DESTDIR$LIBDIR/tsstor-agents" ]; then "$DESTDIR$LIBDIR/tsstor-agents" --list
  fi
}

if [ "${1:-}" = "--uninstall" ]; then
  for a in $(agents); do rm -f "$DESTDIR$RADIR/$a"; done
  rmdir "$DESTDIR$RADIR" 2>/dev/null || true
  rm -f "$DESTDIR$LIBDIR/tsstor-agents" "$DESTDIR$PREFIX/sbin/tsstor"
  rmdir "$DESTDIR$LIBDIR" 2>/dev/null || true
  echo "tsstor removed from ${DESTDIR:-/}"
  exit 0
fi

[ -x "$BIN" ] || { echo "install: $BIN missing; run npm run build first" >&2; exit 1; }
install -d -m 0755 "$DESTDIR$LIBDIR" "$DESTDIR$RADIR"
install -m 0755 "$BIN" "$DESTDIR$LIBDIR/tsstor-agents.new"
mv -f "$DESTDIR$LIBDIR/tsstor-agents.new" "$DESTDIR$LIBDIR/tsstor-agents"
for a in $(agents); do
  ln -sfn "$LIBDIR/tsstor-agents" "$DESTDIR$RADIR/$a"
done
if [ -x build/tsstor ]; then
  install -d -m 0755 "$DESTDIR$PREFIX/sbin"
  install -m 0755 build/tsstor "$DESTDIR$PREFIX/sbin/tsstor"
fi
echo "tsstor installed: $(agents | tr '\n' ' ')in ${DESTDIR}$RADIR"
