#!/bin/sh
# Trims production node_modules for a Linux container: uWebSockets.js ships ~250 MB of
# binaries for every OS, CPU and Node ABI; a Linux x64 or arm64 image on this Node needs two
# files of ~7 MB. Run by the Dockerfile right after `npm ci --omit=dev`, and in the same way by
# test/container-contract.test.ts, which then starts tsws on what is left.
# Usage: sh deploy/prune-node-modules.sh [node_modules]
set -eu
uws="${1:-node_modules}/uWebSockets.js"
abi="$(node -p process.versions.modules)"
[ -f "$uws/uws_linux_x64_${abi}.node" ] || { echo "prune: $uws has no binary for Node ABI $abi" >&2; exit 1; }
find "$uws" -maxdepth 1 -name 'uws_*.node' ! -name "uws_linux_x64_${abi}.node" ! -name "uws_linux_arm64_${abi}.node" -delete
# sources, docs and examples: uws.js loads the binary, nothing else is read at run time
rm -rf "$uws/docs" "$uws/examples" "$uws/misc" "$uws/src" "$uws/tests" "$uws/mvp" "$uws/scripts" "$uws/build.c" "$uws/Makefile" "$uws/logo.svg"
