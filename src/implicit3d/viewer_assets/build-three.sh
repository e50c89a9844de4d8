#!/usr/bin/env bash
# Rebuild three.min.js (the vendored three.js of viewer.html) from the npm registry:
#   bash src/implicit3d/viewer_assets/build-three.sh [THREE_VERSION] [ESBUILD_VERSION]
# three.js ships no minified single-file build any more (build/three.module.js imports
# three.core.js), so esbuild bundles what three-entry.js names, plus OrbitControls, into one
# minified IIFE. Needs node and npm; works in a temporary folder. Update README.md here after.
set -euo pipefail
THREE_VERSION=${1:-0.187.0}
ESBUILD_VERSION=${2:-0.28.2}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent "three@$THREE_VERSION" "esbuild@$ESBUILD_VERSION"
cp "$HERE/three-entry.js" entry.js
node_modules/.bin/esbuild entry.js --bundle --format=iife --global-name=THREE --minify --target=es2020 \
  --legal-comments=eof --outfile="$HERE/three.min.js"
cp node_modules/three/LICENSE "$HERE/LICENSE.three"
echo "three $THREE_VERSION ($(npm view "three@$THREE_VERSION" dist.integrity)), esbuild $ESBUILD_VERSION -> $HERE/three.min.js"
