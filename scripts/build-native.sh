#!/usr/bin/env bash
# Builds the optional native module of the bridge (native/udp-batch.c -> native/build/udp-batch.node) with the
# C compiler and the Node-API headers of the Node that runs Tertulia. Without a compiler or headers it says
# so and the bridge uses its TypeScript send path. Usage: scripts/build-native.sh <node binary>
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE="${1:-node}"
SRC="$ROOT/native/udp-batch.c"
OUT="$ROOT/native/build/udp-batch.node"
[ "$(uname -s)" = Linux ] || exit 0
[ -f "$OUT" ] && ! [ "$SRC" -nt "$OUT" ] && exit 0
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
if "$CC" -O2 -Wall -shared -fPIC -I"$INC" -o "$OUT.tmp" "$SRC" 2>"$ROOT/native/build/error.log"; then
  mv "$OUT.tmp" "$OUT"
  echo "[tertulia] built the bridge's native send module" >&2
else
  rm -f "$OUT.tmp"
  echo "[tertulia] could not build native/udp-batch.c (see native/build/error.log): the bridge sends with Node's dgram" >&2
fi
exit 0
