#!/bin/sh
# Installs the Debian packages the build, the tests and the benchmarks use,
# only those missing. (qemu-system-x86, busybox-static and the Debian kernel
# image join this list with the tests that use them: the unmodified-OS path.)
set -e
PKGS="build-essential pkg-config clang libclang-rt-14-dev check liburing-dev libfdt-dev
      xenstore-utils xen-utils-4.17 python3-pyxs fio iproute2 procps"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
if [ "$(id -u)" != 0 ]; then
    echo "deps: need root to install:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || true
apt-get install -y -qq --no-install-recommends $missing
