#!/bin/bash
# Builds the test machine's files from Debian packages and prints the
# directory that holds them: vmlinuz, initrd.gz (busybox + the modules that
# mount the root), root.img (ext4: debootstrap minbase with what the tests
# use, and the kernel's modules). Cached under $TANDEM_VM_CACHE (default
# /var/cache/tandem-vm), keyed by the versions of every package that goes
# in and by this script, so a second start reuses it; a stale entry is
# removed when a new one is made. Nothing is installed into the host: the
# kernel package is fetched with `apt-get download` and unpacked with
# `dpkg -x`.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${TANDEM_VM_CACHE:-/var/cache/tandem-vm}
SUITE=bookworm
# What the guest tests (and `make bench`) run inside the machine.
PKGS=(procps python3 iproute2 iputils-ping libfdt1 liburing2 libsubunit0 xenstore-utils
      xen-utils-4.17 python3-pyxs fio kmod make tini libasan8 libubsan1 util-linux
      e2fsprogs busybox-static binutils)
# Modules the initramfs loads to mount the root, in dependency order.
INITRD_MODS=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
             virtio_blk crc16 mbcache jbd2 crc32c_generic ext4)
NEED_FREE_MB=2500

die() { echo "tests/vm: $*" >&2; exit 1; }
log() { echo "tests/vm: $*" >&2; }

for tool in qemu-system-x86_64 debootstrap busybox mkfs.ext4 depmod modprobe cpio apt-get dpkg; do
    command -v "$tool" > /dev/null ||
        die "$tool is missing: run 'make deps' (as root) to install the test machine's packages"
done
# grep reads the whole list: with pipefail, grep -q exiting early made busybox die of
# SIGPIPE now and then, and the check failed on a good busybox.
busybox --list | grep -x switch_root > /dev/null || die "busybox has no switch_root: install busybox-static"
[ "$(id -u)" = 0 ] || die "building the test machine needs root (debootstrap, apt-get download)"


# The kernel: whatever linux-image-amd64 points at today.
kernel_package() {
    apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
KPKG=$(kernel_package)
if [ -z "$KPKG" ]; then
    log "apt knows no linux-image-amd64: running apt-get update"
    apt-get update -qq || die "apt-get update failed: cannot find Debian's kernel package"
    KPKG=$(kernel_package)
    [ -n "$KPKG" ] || die "apt-cache finds no linux-image-amd64 in the configured archive"
fi

# "package=candidate version" for everything that goes in (one apt-cache call).
versions() {
    local list p
    list=$(apt-cache policy "$KPKG" "${PKGS[@]}" 2>/dev/null |
           awk '/^[^ ].*:$/ { p = substr($0, 1, length($0) - 1) } /Candidate:/ { print p "=" $2 }')
    for p in "$KPKG" "${PKGS[@]}"; do
        grep -qE "^$p=[^(]" <<< "$list" || die "package $p is not in the configured archive"
    done
    echo "$list"
    sha256sum "$HERE/image.sh" "$HERE/initrd-init" "$HERE/boot" | awk '{ print $1 }'
}
KEY=$(versions | sha256sum | cut -c1-16)
OUT=$CACHE/$KEY
if [ -f "$OUT/ready" ]; then
    echo "$OUT"
    exit 0
fi

mkdir -p "$CACHE" || die "cannot create the cache directory $CACHE"
exec 9> "$CACHE/lock"
flock 9
if [ -f "$OUT/ready" ]; then # built by another run while we waited
    echo "$OUT"
    exit 0
fi
free_mb=$(df -Pm "$CACHE" | awk 'NR == 2 { print $4 }')
[ "$free_mb" -ge "$NEED_FREE_MB" ] ||
    die "$CACHE has $free_mb MiB free; building the test machine needs $NEED_FREE_MB MiB (set TANDEM_VM_CACHE elsewhere)"

# The archive the host's apt uses (debootstrap needs it by URL).
mirror() {
    [ -n "${TANDEM_VM_MIRROR:-}" ] && { echo "$TANDEM_VM_MIRROR"; return; }
    apt-cache policy 2>/dev/null | awk -v s=" $SUITE/main amd64 Packages" \
        'index($0, s) && $2 ~ /^https?:/ { print $2; exit }'
}
MIRROR=$(mirror)
[ -n "$MIRROR" ] || die "no $SUITE/main archive in apt's sources (set TANDEM_VM_MIRROR)"

T0=$SECONDS
WORK=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
log "building the test machine image in $OUT (first time for these package versions; a few minutes)"

log "fetching $KPKG"
(cd "$WORK" && apt-get download -o APT::Sandbox::User=root -qq "$KPKG") ||
    die "cannot fetch $KPKG with apt-get download"
dpkg -x "$WORK"/"$KPKG"_*.deb "$WORK/kernel"
KVER=${KPKG#linux-image-}
depmod -b "$WORK/kernel" "$KVER"

log "debootstrap $SUITE (minbase) from $MIRROR"
inc=$(IFS=,; echo "${PKGS[*]}")
if ! debootstrap --variant=minbase --include="$inc" "$SUITE" "$WORK/root" "$MIRROR" \
        > "$WORK/debootstrap.log" 2>&1; then
    tail -n 20 "$WORK/debootstrap.log" >&2
    die "debootstrap failed (log above)"
fi
rm -rf "$WORK/root/var/cache/apt/archives"/*.deb "$WORK/root/var/lib/apt/lists"/*
mkdir -p "$WORK/root/lib/modules"
cp -a "$WORK/kernel/lib/modules/$KVER" "$WORK/root/lib/modules/"
install -m 0755 "$HERE/boot" "$WORK/root/sbin/tandem-vm-boot"
echo tandem-vm > "$WORK/root/etc/hostname"
printf '127.0.0.1 localhost tandem-vm\n::1 localhost\n' > "$WORK/root/etc/hosts"
mkdir -p "$WORK/root/result" "$WORK/root/dev/hugepages"

log "making root.img"
size_mb=$(( $(du -sm "$WORK/root" | cut -f1) + 512 ))
truncate -s "${size_mb}M" "$WORK/root.img"
mkfs.ext4 -q -F -L tandem-vm -d "$WORK/root" "$WORK/root.img" ||
    die "mkfs.ext4 -d failed"

log "making initrd.gz"
I=$WORK/initrd
mkdir -p "$I/bin" "$I/mods" "$I/dev" "$I/proc" "$I/sys" "$I/newroot"
cp "$(command -v busybox)" "$I/bin/busybox"
install -m 0755 "$HERE/initrd-init" "$I/init"
for m in "${INITRD_MODS[@]}"; do
    f=$(modprobe -d "$WORK/kernel" -S "$KVER" --show-depends "$m" | awk 'END { print $2 }')
    [ -f "$f" ] || die "module $m not found in $KPKG"
    cp "$f" "$I/mods/$(printf '%02d' "$(ls "$I/mods" | wc -l)")-$m.ko"
done
(cd "$I" && find . | cpio -o -H newc --quiet | gzip -1) > "$WORK/initrd.gz"

cp "$WORK/kernel/boot/vmlinuz-$KVER" "$WORK/vmlinuz"
versions > "$WORK/versions"
rm -rf "$WORK/root" "$WORK/kernel" "$I" "$WORK"/*.deb
for old in "$CACHE"/*/ready; do # one image at a time: drop the stale ones
    [ -e "$old" ] && rm -rf "$(dirname "$old")"
done
touch "$WORK/ready"
mv "$WORK" "$OUT"
trap - EXIT
log "image ready in $((SECONDS - T0)) s"
echo "$OUT"
