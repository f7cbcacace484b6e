# Sourced by ./tertulia, scripts/test and scripts/bench. Makes sure this checkout can run:
#  - a Node.js >= 22.12 (installs one from the npm registry into .tools/ when the system's is older),
#  - the npm dependencies (npm ci when node_modules is missing or was installed from another package-lock.json),
#  - the built web app (dist/web, rebuilt when src/web changed),
#  - the server's JavaScript build (dist/ beside dist/web, rebuilt when the rest of src/ changed),
#  - the bridge's optional native send module (native/build, when a C compiler is there),
#  - the phone voice menu's prompts (dist/sip-prompts, spoken by espeak-ng, resampled by ffmpeg),
#  - Debian's coturn (turnserver), which the server runs as its TURN server (src/turn/).
# Exports TERTULIA_NODE (the node binary to use) and puts it first on PATH.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_WANTED_MAJOR=22
NODE_WANTED_MINOR=12

node_ok() {
  local v
  v="$("$1" -p 'process.versions.node' 2>/dev/null)" || return 1
  local major="${v%%.*}" rest="${v#*.}"
  local minor="${rest%%.*}"
  [ "$major" -gt "$NODE_WANTED_MAJOR" ] || { [ "$major" -eq "$NODE_WANTED_MAJOR" ] && [ "$minor" -ge "$NODE_WANTED_MINOR" ]; }
}

log() { echo "[tertulia] $*" >&2; }

# apt_need CMD:PACKAGE ...: installs (apt-get) the Debian packages whose command is missing.
apt_need() {
  local need=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
  done
  [ "${#need[@]}" -gt 0 ] || return 0
  log "installing Debian packages: ${need[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >&2
}

# apt_need_file FILE:PACKAGE...: installs the packages whose file is missing (libraries' headers: no command to look for).
apt_need_file() {
  local pair
  for pair in "$@"; do
    [ -e "${pair%%:*}" ] || apt_need "tertulia-no-such-command:${pair#*:}"
  done
}

# The recorder composes with GStreamer, driven from Debian's Python (src/recorder/compose/compose.py); live
# streams go out with rtmp2sink (plugins-bad), RTMPS through GIO's TLS (glib-networking).
RECORDER_PACKAGES=(gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-x python3-gi python3-gst-1.0 gir1.2-gstreamer-1.0 glib-networking)
# recorder_need: installs them when Debian's python3 cannot make the elements a recording needs.
recorder_need() {
  /usr/bin/python3 - >/dev/null 2>&1 <<'PY' && return 0
import gi
gi.require_version('Gst', '1.0')
from gi.repository import Gst
Gst.init(None)
need = ['compositor', 'audiomixer', 'textoverlay', 'x264enc', 'avenc_aac', 'matroskamux', 'srtpdec', 'rtpssrcdemux', 'vp8dec', 'opusdec',
        'flvmux', 'rtmp2sink', 'appsink', 'appsrc']
gi.require_version('Gio', '2.0')
from gi.repository import Gio
raise SystemExit(any(Gst.ElementFactory.find(n) is None for n in need) or not Gio.TlsBackend.get_default().supports_tls())
PY
  log "installing Debian packages for the recorder: ${RECORDER_PACKAGES[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3 "${RECORDER_PACKAGES[@]}" >&2
}

if ! command -v npm >/dev/null 2>&1; then
  log "npm is missing; installing Debian's nodejs and npm"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >&2
fi

TERTULIA_NODE=""
if command -v node >/dev/null 2>&1 && node_ok "$(command -v node)"; then
  TERTULIA_NODE="$(command -v node)"
else
  LOCAL_NODE="$ROOT/.tools/node22/node_modules/node/bin/node"
  if ! [ -x "$LOCAL_NODE" ] || ! node_ok "$LOCAL_NODE"; then
    log "system Node is $(node --version 2>/dev/null || echo missing); installing Node 22 from the npm registry into .tools/"
    npm install --prefix "$ROOT/.tools/node22" --no-save --no-audit --no-fund --loglevel=error "node@$NODE_WANTED_MAJOR" >&2
  fi
  TERTULIA_NODE="$LOCAL_NODE"
fi
export TERTULIA_NODE
export PATH="$(dirname "$TERTULIA_NODE"):$PATH"

# Whether node_modules was installed from this package-lock.json: by content (a copy kept in node_modules), not by
# modification time, which a checkout sets to now (a git worktree sharing node_modules through a symlink would
# otherwise empty and reinstall it under everyone using it). An install from before the copy was kept: by time.
INSTALLED_LOCK="$ROOT/node_modules/.tertulia-installed-lock.json"
deps_stale() {
  [ -d "$ROOT/node_modules" ] || return 0
  if [ -f "$INSTALLED_LOCK" ]; then
    ! cmp -s "$ROOT/package-lock.json" "$INSTALLED_LOCK"
  else
    [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]
  fi
}
if deps_stale; then
  log "installing npm dependencies"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
[ -f "$INSTALLED_LOCK" ] || cp "$ROOT/package-lock.json" "$INSTALLED_LOCK"

bash "$ROOT/scripts/build-native.sh" "$TERTULIA_NODE"

web_stale() {
  [ -f "$ROOT/dist/web/index.html" ] || return 0
  [ -n "$(find "$ROOT/src/web" "$ROOT/src/protocol" -newer "$ROOT/dist/web/index.html" -type f 2>/dev/null | head -1)" ]
}
if web_stale; then
  log "building the web app"
  (cd "$ROOT" && "$TERTULIA_NODE" node_modules/vite/bin/vite.js build --config src/web/vite.config.ts --logLevel warn >&2 &&
    "$TERTULIA_NODE" node_modules/vite/bin/vite.js build --config src/web/external-api/vite.config.ts --logLevel warn >&2)
fi

# the server's JavaScript (scripts/server-dist.mjs): rebuilt when any file under src/ (but src/web) changed, ~4 s;
# flock: starts at the same moment build once. Without it (a failed build) scripts/launch.mjs runs the TypeScript.
mkdir -p "$ROOT/dist"
if command -v flock >/dev/null 2>&1; then
  flock "$ROOT/dist/.server-build.lock" "$TERTULIA_NODE" "$ROOT/scripts/server-dist.mjs" || true
else
  "$TERTULIA_NODE" "$ROOT/scripts/server-dist.mjs" || true
fi

# the SIP PIN menu's prompts: rebuilt when their texts changed (scripts/build-prompts.ts)
if ! [ -f "$ROOT/dist/sip-prompts/texts.json" ] || [ "$ROOT/src/sip/prompt-texts.ts" -nt "$ROOT/dist/sip-prompts/texts.json" ]; then
  apt_need espeak-ng:espeak-ng ffmpeg:ffmpeg || log "could not install espeak-ng and ffmpeg: the phone PIN menu has no prompts until they are installed"
  "$TERTULIA_NODE" --disable-warning=ExperimentalWarning "$ROOT/scripts/build-prompts.ts" || log "the phone prompts were not built"
fi

# TURN (src/turn/): Debian's coturn, run by tertulia as its own child with its own settings. Installing the
# package may enable and start the system's own coturn service on 3478, which would take tertulia's TURN port:
# when this script installed the package, that service is disabled again (an admin's earlier coturn is left alone;
# tertulia then says the port is taken).
coturn_need() {
  command -v turnserver >/dev/null 2>&1 && return 0
  apt_need turnserver:coturn || { log "could not install coturn: TURN is off until it is installed (apt-get install coturn)"; return 0; }
  if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled coturn >/dev/null 2>&1; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    log "disabling the coturn service the package enabled (tertulia runs its own coturn)"
    $sudo systemctl disable --now coturn >&2 || log "could not disable the coturn service: if it runs, set turnPort to another port"
  fi
}
coturn_need
