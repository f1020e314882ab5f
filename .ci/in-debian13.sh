#!/usr/bin/env bash
# Runs a command on Node 24 inside the Debian 13 root filesystem, on a copy of this checkout.
# Usage: .ci/in-debian13.sh <rootfs> [command...]   (default command: npm ci && npm test)
# unshare gives the chroot its own mount and pid namespaces: whatever the run leaves mounted or
# running is gone when it ends. unshare ignores SIGTERM, so the time limit sends SIGKILL.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
root="$1"; shift
cmd="${*:-npm ci && npm test}"
limit="${TSWS_CI_NODE24_TIMEOUT:-1500}"

# A copy, not a bind mount: npm ci in there must not replace the host's node_modules.
rm -rf "$root/work/tsws"
mkdir -p "$root/work/tsws"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents -P {} "$root/work/tsws/")
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

# env -i: nothing of the host's npm settings (its ~/.npmrc sets nodedir to Node 20's headers) or
# Node options reaches the Node 24 run; the CA bundle is the root filesystem's own, which holds
# the host's added certificates (.ci/debian13-rootfs.sh).
exec timeout --signal=KILL "$limit" unshare --mount --pid --fork --kill-child -- /bin/bash -c '
  set -e
  root="$1"; cmd="$2"
  mount --make-rprivate /
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs -o size=2g tmpfs "$root/dev/shm"
  mount -t tmpfs tmpfs "$root/tmp"
  mount --rbind /sys "$root/sys"
  exec chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
    LANG=C.UTF-8 TERM=dumb CI="${CI:-true}" \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt npm_config_cafile=/etc/ssl/certs/ca-certificates.crt \
    npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false \
    /bin/bash -c "cd /work/tsws && node --version && $cmd"
' _ "$root" "$cmd"
