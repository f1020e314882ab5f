#!/bin/sh
# bench/setup.sh: what `npm run bench` needs beyond `npm ci`. Installs the Debian packages only
# when missing (wrk, libwebsockets-test-server, nginx, redis-server, gcc, libssl-dev), then builds the C load generator into
# bench/.work/bin and prepares Node 24 (bench/node24.sh).
set -eu
cd "$(dirname "$0")"

missing=""
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
command -v libwebsockets-test-server >/dev/null 2>&1 || missing="$missing libwebsockets-test-server"
command -v gcc >/dev/null 2>&1 || missing="$missing gcc libc6-dev"
# nginx: the static-file and proxy contender (run by the harness with its own config, never as a service)
[ -x /usr/sbin/nginx ] || missing="$missing nginx"
# redis-server: the cluster scenario's two tsws instances share one
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
# OpenSSL's headers: the load generator speaks TLS for the TLS echo scenario
[ -f /usr/include/openssl/ssl.h ] || missing="$missing libssl-dev"
if [ -n "$missing" ]; then
  echo "bench/setup.sh: installing$missing" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
fi

mkdir -p .work/bin
src="loadgen/main.c loadgen/conn.c loadgen/frames.c loadgen/hist.c loadgen/tls.c"
if [ ! -x .work/bin/loadgen ] || [ -n "$(find loadgen -newer .work/bin/loadgen)" ]; then
  gcc -O2 -Wall -Wextra -std=gnu11 -o .work/bin/loadgen $src -lssl -lcrypto
  echo "bench/setup.sh: built bench/.work/bin/loadgen" >&2
fi

sh ./node24.sh
