#!/bin/sh
# bench/setup.sh: what `npm run bench` needs beyond `npm ci`. Installs the Debian packages only
# when missing (wrk, libwebsockets-test-server, gcc), then builds the C load generator into bench/.work/bin.
set -eu
cd "$(dirname "$0")"

missing=""
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
command -v libwebsockets-test-server >/dev/null 2>&1 || missing="$missing libwebsockets-test-server"
command -v gcc >/dev/null 2>&1 || missing="$missing gcc libc6-dev"
if [ -n "$missing" ]; then
  echo "bench/setup.sh: installing$missing" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
fi

mkdir -p .work/bin
src="loadgen/main.c loadgen/conn.c loadgen/frames.c loadgen/hist.c"
if [ ! -x .work/bin/loadgen ] || [ -n "$(find loadgen -newer .work/bin/loadgen)" ]; then
  gcc -O2 -Wall -Wextra -std=gnu11 -o .work/bin/loadgen $src
  echo "bench/setup.sh: built bench/.work/bin/loadgen" >&2
fi
