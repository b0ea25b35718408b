#!/bin/bash
# Builds the test machine's files from Debian packages and prints the
# directory that holds them: vmlinuz, initrd.gz (busybox + the modules that
# mount the root), root.img (ext4: debootstrap minbase with what the tests
# use, the kernel's modules, and the kernel itself in /boot for Linux guests),
# kvm-xen (whether KVM has Xen support, see below). Cached under $TANDEM_VM_CACHE (default
# /var/cache/tandem-vm), keyed by the versions of every package that goes
# in and by this script, so a second start reuses it; a stale entry is
# removed when a new one is made. Nothing is installed into the host: the
# kernel package is fetched with `apt-get download` and unpacked with
# `dpkg -x`.
#
# KVM with Xen support: Debian's kernel is built without CONFIG_KVM_XEN, so
# its KVM cannot hand a Linux guest's Xen hypercalls to userspace
# (KVM_CAP_XEN_HVM). kvm.ko and kvm-amd.ko are rebuilt with it, out of tree,
# from Debian's linux-source of the kernel's own version (only arch/x86/kvm
# and virt/kvm are unpacked) against its linux-headers, with the compiler the
# headers name, and installed in the image's /lib/modules/KVER/updates/, which
# modprobe prefers. This runs beside debootstrap. If any step fails, the image
# is still made, with Debian's own KVM, and /etc/tandem-vm/kvm-xen in the image
# (and kvm-xen here) says why: the tests that need it skip with that reason.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${TANDEM_VM_CACHE:-/var/cache/tandem-vm}
SUITE=bookworm
# What the guest tests (and `make bench`) run inside the machine (cpio: tests/lib/linux-initramfs.sh;
# grub-pc-bin: the GRUB disk pc_linux.sh boots Linux from; dnsmasq-base: pc_net.sh's DHCP server).
PKGS=(procps python3 iproute2 iputils-ping libfdt1 liburing2 libsubunit0 xenstore-utils
      xen-utils-4.17 python3-pyxs fio kmod make tini libasan8 libubsan1 util-linux
      e2fsprogs busybox-static binutils cpio iperf3 grub-pc-bin dnsmasq-base)
# Modules the initramfs loads to mount the root (tests/lib/linux-initramfs.sh
# adds what they depend on).
INITRD_MODS=(virtio_pci virtio_blk ext4)
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
KVER=${KPKG#linux-image-}
HPKG=linux-headers-$KVER

# The candidate records of everything that goes in, and of the kernel's
# headers (whose Depends name the rest of the KVM build): one apt-cache call.
META=$(apt-cache show --no-all-versions "$KPKG" "$HPKG" "${PKGS[@]}" 2> /dev/null) || true
# "package=version" of each record.
LIST=$(awk '/^Package: / { p = $2 } /^Version: / { print p "=" $2 }' <<< "$META")
for p in "$KPKG" "${PKGS[@]}"; do
    grep -qE "^$p=" <<< "$LIST" || die "package $p is not in the configured archive"
done
KV=$(sed -n "s/^$KPKG=//p" <<< "$LIST")

# What the KVM build takes, all of the kernel's own version V: the headers,
# the headers-common and kbuild packages of their Depends, linux-source-X.Y
# (X.Y from the kbuild package's name) and the compiler of the
# linux-compiler-gcc-N-x86 dependency (gcc-N, the host's). KX_WHY is set
# instead when one of them is missing.
KX_WHY=
kvm_xen_plan() {
    local hv hdeps dep ccdep
    hv=$(sed -n "s/^$HPKG=//p" <<< "$LIST")
    [ -n "$hv" ] || { KX_WHY="$HPKG is not in the configured archive"; return; }
    [ "$hv" = "$KV" ] || { KX_WHY="$HPKG is version $hv, the kernel $KV"; return; }
    hdeps=$(awk -v p="$HPKG" '/^Package: / { in_p = ($2 == p) } in_p && /^Depends: / { sub(/^Depends: /, ""); print }' <<< "$META" |
            tr ',' '\n' | sed 's/^ *//; s/ .*//')
    KX_COMMON= KX_KBUILD= KX_CC=
    for dep in $hdeps; do
        case $dep in
            linux-headers-*-common) KX_COMMON=$dep;;
            linux-kbuild-[0-9]*) KX_KBUILD=$dep;;
            linux-compiler-gcc-[0-9]*-x86) ccdep=${dep#linux-compiler-}; KX_CC=${ccdep%-x86};;
        esac
    done
    [ -n "$KX_COMMON" ] && [ -n "$KX_KBUILD" ] && [ -n "$KX_CC" ] ||
        { KX_WHY="$HPKG's Depends name no headers-common, kbuild or compiler package: '$(echo $hdeps)'"; return; }
    KX_SRC=linux-source-${KX_KBUILD#linux-kbuild-}
    KX_CCV=$(dpkg-query -W -f='${Version}' "$KX_CC" 2> /dev/null) || KX_CCV=
    [ -n "$KX_CCV" ] && command -v "$KX_CC" > /dev/null ||
        { KX_WHY="the kernel's compiler $KX_CC is not installed on this host (apt-get install $KX_CC)"; return; }
    command -v make > /dev/null || { KX_WHY="make is not installed on this host"; return; }
    KX_PKGS=("$HPKG=$KV" "$KX_COMMON=$KV" "$KX_KBUILD=$KV" "$KX_SRC=$KV")
}
kvm_xen_plan

# "package=candidate version" for everything that goes in, the KVM build's
# packages and compiler (or why there is none), and the scripts' hashes.
versions() {
    grep -v "^$HPKG=" <<< "$LIST"
    if [ -n "$KX_WHY" ]; then
        echo "kvm-xen: none ($KX_WHY)"
    else
        echo "kvm-xen: ${KX_PKGS[*]} $KX_CC=$KX_CCV"
    fi
    sha256sum "$HERE/image.sh" "$HERE/initrd-init" "$HERE/boot" "$HERE/../lib/linux-initramfs.sh" | awk '{ print $1 }'
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

# Builds kvm.ko and kvm-amd.ko with CONFIG_KVM_XEN into $WORK/kvmxen/out
# (run in the background). A step that fails writes why to
# $WORK/kvmxen/failed and ends the build; the image goes on without it.
build_kvm_xen() {
    local D=$WORK/kvmxen H S K n
    kx_fail() { echo "$*" > "$D/failed"; echo "tests/vm: kvm-xen: $*"; exit 1; }
    mkdir -p "$D/root" "$D/out"
    cd "$D" || kx_fail "cannot enter $D"
    apt-get download -o APT::Sandbox::User=root -qq "${KX_PKGS[@]}" ||
        kx_fail "apt-get download ${KX_PKGS[*]} failed"
    for n in "$HPKG" "$KX_COMMON" "$KX_KBUILD"; do
        dpkg -x "$D/${n}_"*.deb "$D/root" || kx_fail "dpkg -x of $n failed"
    done
    H=$D/root/usr/src/$HPKG
    # The headers' Makefile includes the common one by its installed path.
    sed -i "s|^include /usr/src/|include $D/root/usr/src/|" "$H/Makefile"
    grep -q "^include $D/root/usr/src/$KX_COMMON/Makefile" "$H/Makefile" ||
        kx_fail "$H/Makefile does not include $KX_COMMON's Makefile (layout changed?)"
    # Only the two KVM directories of the 140 MB source tarball (which tar
    # still reads through: ~10 s).
    dpkg-deb --fsys-tarfile "$D/${KX_SRC}_"*.deb | tar -xO "./usr/src/$KX_SRC.tar.xz" |
        tar -xJ -C "$D" "$KX_SRC/arch/x86/kvm" "$KX_SRC/virt/kvm" ||
        kx_fail "cannot unpack arch/x86/kvm and virt/kvm from $KX_SRC"
    rm -f "$D"/*.deb
    S=$D/$KX_SRC K=$S/arch/x86/kvm
    # Out of tree: $(srctree) is the headers, so the KVM sources are named
    # from $(src); CONFIG_KVM_XEN on for the Makefile and the compiler.
    sed -i -e 's|^ccflags-y += -I $(srctree)/arch/x86/kvm$|ccflags-y += -I $(src) -I $(src)/.. -DCONFIG_KVM_XEN=1\nCONFIG_KVM_XEN := y|' \
           -e 's|^include $(srctree)/virt/kvm/Makefile.kvm$|include $(src)/../../../virt/kvm/Makefile.kvm|' "$K/Makefile"
    grep -q '^CONFIG_KVM_XEN := y$' "$K/Makefile" && grep -q '^include $(src)/../../../virt/kvm/Makefile.kvm$' "$K/Makefile" ||
        kx_fail "$KX_SRC's arch/x86/kvm/Makefile has changed: the two lines to edit are not there"
    # kvm-intel is not built: the machine's CPU is QEMU TCG's, which has SVM
    # and no VMX. No debug info (-g0): half the compile time, 2 MB modules.
    make -C "$H" M="$K" CONFIG_KVM_INTEL= KCFLAGS=-g0 -j2 modules > "$D/make.log" 2>&1 ||
        { tail -n 20 "$D/make.log"; kx_fail "compiling $KX_SRC's KVM with CONFIG_KVM_XEN failed (log above)"; }
    for n in kvm kvm-amd; do
        [ "$(modinfo -F vermagic "$K/$n.ko" | awk '{ print $1 }')" = "$KVER" ] ||
            kx_fail "$n.ko was built, but not for $KVER"
        cp "$K/$n.ko" "$D/out/" || kx_fail "cannot copy $n.ko"
    done
}

T0=$SECONDS
WORK=$(mktemp -d "$CACHE/build.XXXXXX")
KX_PID=
# The KVM build runs in its own process group: stopped whole if we stop.
trap '[ -n "$KX_PID" ] && kill -- -"$KX_PID" 2> /dev/null; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
log "building the test machine image in $OUT (first time for these package versions; a few minutes)"

log "fetching $KPKG"
(cd "$WORK" && apt-get download -o APT::Sandbox::User=root -qq "$KPKG") ||
    die "cannot fetch $KPKG with apt-get download"
dpkg -x "$WORK"/"$KPKG"_*.deb "$WORK/kernel"

if [ -z "$KX_WHY" ]; then
    log "building kvm.ko and kvm-amd.ko with CONFIG_KVM_XEN ($KX_SRC $KV, $KX_CC) beside debootstrap"
    set -m
    build_kvm_xen > "$WORK/kvmxen.log" 2>&1 &
    KX_PID=$!
    set +m
fi

log "debootstrap $SUITE (minbase) from $MIRROR"
inc=$(IFS=,; echo "${PKGS[*]}")
if ! debootstrap --variant=minbase --include="$inc" "$SUITE" "$WORK/root" "$MIRROR" \
        > "$WORK/debootstrap.log" 2>&1; then
    tail -n 20 "$WORK/debootstrap.log" >&2
    die "debootstrap failed (log above)"
fi
rm -rf "$WORK/root/var/cache/apt/archives"/*.deb "$WORK/root/var/lib/apt/lists"/*

# KVM: the rebuilt modules in updates/ (modprobe takes them first), or why not.
MODS=$WORK/kernel/lib/modules/$KVER
if [ -n "$KX_PID" ]; then
    t=$SECONDS
    wait "$KX_PID" || true
    KX_PID=
    [ $((SECONDS - t)) -gt 1 ] && log "waited $((SECONDS - t)) s for the KVM build after debootstrap"
    if [ -f "$WORK/kvmxen/failed" ]; then
        KX_WHY=$(cat "$WORK/kvmxen/failed")
        sed 's/^/  kvm-xen: /' "$WORK/kvmxen.log" | tail -n 25 >&2
    elif [ ! -f "$WORK/kvmxen/out/kvm-amd.ko" ]; then
        KX_WHY="the KVM build stopped without a reason (log: $(tail -n 1 "$WORK/kvmxen.log"))"
    else
        mkdir -p "$MODS/updates"
        cp "$WORK/kvmxen/out/"*.ko "$MODS/updates/"
    fi
fi
depmod -b "$WORK/kernel" "$KVER"
if [ -z "$KX_WHY" ]; then
    for m in kvm kvm_amd; do
        modprobe -C /dev/null -d "$WORK/kernel" -S "$KVER" --show-depends "$m" | grep " $MODS/updates/" > /dev/null && continue
        KX_WHY="modprobe does not take $m from updates/ (this host's depmod.d search order?)"
        rm -rf "$MODS/updates"
        depmod -b "$WORK/kernel" "$KVER"
        break
    done
fi
mkdir -p "$WORK/root/etc/tandem-vm"
if [ -z "$KX_WHY" ]; then
    printf 'status=built\ndetail=%s\n' "kvm.ko and kvm-amd.ko with CONFIG_KVM_XEN from $KX_SRC $KV ($KX_CC $KX_CCV) in /lib/modules/$KVER/updates" \
        > "$WORK/root/etc/tandem-vm/kvm-xen"
    log "KVM with Xen support: kvm.ko and kvm-amd.ko built from $KX_SRC $KV"
else
    printf 'status=stock\ndetail=%s\n' "the test machine has Debian's own KVM: $KX_WHY" > "$WORK/root/etc/tandem-vm/kvm-xen"
    log "WARNING: the image gets Debian's own KVM, without Xen support: $KX_WHY (the tests that need KVM_CAP_XEN_HVM will skip)"
fi
cp "$WORK/root/etc/tandem-vm/kvm-xen" "$WORK/kvm-xen"
rm -rf "$WORK/kvmxen" "$WORK/kvmxen.log"

mkdir -p "$WORK/root/lib/modules" "$WORK/root/boot"
cp -a "$MODS" "$WORK/root/lib/modules/"
# The kernel itself, for tests that boot it as a Linux guest.
cp "$WORK/kernel/boot/vmlinuz-$KVER" "$WORK/kernel/boot/config-$KVER" "$WORK/root/boot/"
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
INITRD_ARGS=()
for m in "${INITRD_MODS[@]}"; do INITRD_ARGS+=(-m "$m"); done
"$HERE/../lib/linux-initramfs.sh" -o "$WORK/initrd.gz" -i "$HERE/initrd-init" -M "$MODS" -k "$KVER" \
    --no-default-modules "${INITRD_ARGS[@]}" || die "cannot make the initramfs (above)"

cp "$WORK/kernel/boot/vmlinuz-$KVER" "$WORK/vmlinuz"
versions > "$WORK/versions"
rm -rf "$WORK/root" "$WORK/kernel" "$WORK"/*.deb
for old in "$CACHE"/*/ready; do # one image at a time: drop the stale ones
    [ -e "$old" ] && rm -rf "$(dirname "$old")"
done
touch "$WORK/ready"
mv "$WORK" "$OUT"
trap - EXIT
log "image ready in $((SECONDS - T0)) s"
echo "$OUT"
