#!/bin/sh
# Installs the Debian packages the build, the tests and the benchmarks use,
# only those missing. The last line is the test machine's (tests/vm: QEMU,
# debootstrap for its root, busybox for its initramfs, the tools that make
# its image; gcc-12, libelf1 and xz-utils rebuild its kvm.ko with Xen support
# against Debian's headers: gcc-12 is the compiler they name, libelf1 their
# objtool's library, xz the source tarball's); Debian's kernel, headers and
# source for it are fetched with `apt-get download` by tests/vm/image.sh,
# never installed. grub-pc-bin (with grub-common's grub-mkimage) is the GRUB
# that tests/integration/pc_images.bash puts on the PC boot tests' disk image.
set -e
if [ "${TANDEM_TEST_VM:-0}" = 1 ]; then
    exit 0 # inside the test machine: its packages come with its image
fi
PKGS="build-essential pkg-config clang libclang-rt-14-dev check liburing-dev libfdt-dev
      zlib1g-dev libbz2-dev liblzma-dev liblz4-dev libzstd-dev
      xenstore-utils xen-utils-4.17 python3-pyxs fio iperf3 iproute2 procps seabios grub-pc-bin
      qemu-system-x86 qemu-system-data debootstrap busybox-static e2fsprogs cpio kmod util-linux gcc-12 libelf1 xz-utils"
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
