#!/bin/sh
# Installs the Debian packages sandtrace needs to build and test, and does
# nothing when they are all present. Run as root (or with sudo available).
set -eu
PKGS="g++ make cmake pkg-config libseccomp-dev capnproto libcapnp-dev libzstd-dev zstd \
libcli11-dev libgtest-dev libbenchmark-dev git python3"
missing=""
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0
echo "install_deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install_deps: need root to install:$missing" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
