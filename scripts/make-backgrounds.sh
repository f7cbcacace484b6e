#!/usr/bin/env bash
# Makes the bundled virtual background images (src/web/media/effects/backgrounds/*.jpg) with ffmpeg: colour
# gradients and soft patterns computed per pixel, so they are Tertulia's own (no licence beyond the project's).
# The images are committed; run this only to change them.
set -euo pipefail
OUT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/src/web/media/effects/backgrounds"
mkdir -p "$OUT"
make() {
  ffmpeg -loglevel error -y -f lavfi -i "color=black:s=960x540,format=rgb24" -vf "geq=$2" -frames:v 1 -q:v 4 "$OUT/$1.jpg"
}
# orange at the top to purple at the bottom
make dusk "r='255*(0.95-0.35*Y/H)':g='255*(0.55-0.35*Y/H)':b='255*(0.35+0.3*Y/H)'"
# blue, lighter downwards, with soft waves
make sea "r='20+15*sin(X/37+3*sin(Y/53))':g='90+40*Y/H+20*sin(X/41+Y/29)':b='170+50*Y/H+20*sin(X/23-Y/61)'"
# green, with soft leaf-like patches
make forest "r='40+20*sin(X/61)*sin(Y/47)':g='115+40*sin(X/53+Y/71)*sin(Y/37)':b='50+20*sin(Y/43)'"
