#!/usr/bin/env bash
# Builds Tertulia's optional native modules with the C compiler and the Node-API headers of the Node that runs
# Tertulia: native/udp-batch.c + udp-receive.c + udp-send-queue.c + vp8-rewrite.c + routes.c (the bridge's batched sends and receives, kernel arrival times, the native data plane's VP8 rewrite and routes), native/srtp.c (SRTP protect
# with the OpenSSL inside Node, through Node's headers) and native/opus.c (libopus for the SIP gateway, when
# Debian's libopus-dev is installed). Each has a tested fallback (dgram and event-loop times; SRTP in TypeScript;
# a WebAssembly libopus), so a missing compiler, header or library is said and is not an error.
# Usage: scripts/build-native.sh <node binary>
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE="${1:-node}"
[ "$(uname -s)" = Linux ] || exit 0

# a module is rebuilt when its source, a shared header or one of its other files (udp-batch: its receive side,
# send queue and SRTP peers with the SRTP crypto; srtp: its crypto and stream states) changed
stale() {
  local out="$ROOT/native/build/$1.node" f
  [ -f "$out" ] || return 0
  for f in "$ROOT/native/$1.c" "$ROOT/native/napi-typed.h" "$ROOT/native/udp-receive.h" "$ROOT/native/udp-receive.c" \
    "$ROOT/native/udp-send-queue.h" "$ROOT/native/udp-send-queue.c" "$ROOT/native/srtp-streams.h" "$ROOT/native/srtp-streams.c" \
    "$ROOT/native/srtp-core.h" "$ROOT/native/srtp-core.c" "$ROOT/native/srtp-peers.h" "$ROOT/native/srtp-peers.c" \
    "$ROOT/native/open-table.h" "$ROOT/native/vp8-rewrite.h" "$ROOT/native/vp8-rewrite.c" \
    "$ROOT/native/routes.h" "$ROOT/native/routes.c"; do
    [ "$f" -nt "$out" ] && return 0
  done
  return 1
}
stale udp-batch || stale srtp || stale opus || exit 0

CC="${CC:-$(command -v cc || command -v gcc || true)}"
if [ -z "$CC" ]; then
  echo "[tertulia] no C compiler: the bridge sends with Node's dgram (install gcc for batched sends)" >&2
  exit 0
fi
# node_api.h of this Node: next to its binary (official builds and the npm 'node' package), else the system's
INC=""
EXEC="$("$NODE" -p process.execPath 2>/dev/null || true)"
# (the npm registry's node package keeps them in its platform package)
for d in "$(dirname "$EXEC")/../include/node" "$(dirname "$EXEC")"/../node_modules/node-*/include/node /usr/include/node /usr/local/include/node; do
  if [ -f "$d/node_api.h" ]; then INC="$d"; break; fi
done
if [ -z "$INC" ]; then
  echo "[tertulia] no Node-API headers found: the bridge sends with Node's dgram" >&2
  exit 0
fi
mkdir -p "$ROOT/native/build"

# build NAME WHAT FALLBACK [LIBS...]
build() {
  local name="$1" what="$2" fallback="$3"
  shift 3
  local out="$ROOT/native/build/$name.node"
  stale "$name" || return 0
  if "$CC" -O2 -Wall -shared -fPIC -I"$INC" -o "$out.tmp" "$ROOT/native/$name.c" "$@" 2>"$ROOT/native/build/$name-error.log"; then
    mv "$out.tmp" "$out"
    echo "[tertulia] built $what" >&2
  else
    # not the old one either: the modules share the SRTP contexts' layout, an older one may not match
    rm -f "$out.tmp" "$out"
    echo "[tertulia] could not build native/$name.c (see native/build/$name-error.log): $fallback" >&2
  fi
}
build udp-batch "the bridge's native UDP module" "the bridge sends and receives with Node's dgram" "$ROOT/native/udp-receive.c" "$ROOT/native/udp-send-queue.c" \
  "$ROOT/native/srtp-peers.c" "$ROOT/native/srtp-core.c" "$ROOT/native/srtp-streams.c" "$ROOT/native/vp8-rewrite.c" "$ROOT/native/routes.c" -lm
# no -lcrypto: the module uses the OpenSSL symbols Node itself exports (as Node's own headers describe them)
build srtp "the native SRTP module" "the bridge protects SRTP in TypeScript" "$ROOT/native/srtp-core.c" "$ROOT/native/srtp-streams.c"
if [ -f /usr/include/opus/opus.h ]; then
  build opus "the native Opus module (libopus)" "Opus through WebAssembly" -lopus
else
  echo "[tertulia] no libopus-dev: the SIP gateway uses Opus through WebAssembly" >&2
fi
exit 0
