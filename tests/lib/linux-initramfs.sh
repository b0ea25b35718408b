#!/bin/bash
# tests/lib/linux-initramfs.sh -o OUT -i INIT [options]: builds a gzip'd
# newc cpio initramfs for a Linux guest from what Debian ships:
#   /init                  the caller's init script (mode 0755)
#   /bin/busybox           a static busybox (default: `command -v busybox`,
#                          Debian's busybox-static), with a symlink for each
#                          applet it lists (`busybox --list-full`)
#   /lib/modules/KVER/...  the chosen modules and everything they need,
#                          resolved by `modprobe --show-depends` (softdeps
#                          included) from a modules dir, with a modules.dep
#                          made by depmod for those alone (busybox modprobe
#                          reads it)
#   /etc/initramfs-modules the same modules in load order (dependencies
#                          first), one absolute path a line: an init loads
#                          them with `while read -r m; do insmod "$m"; done`
#   /dev /proc /sys /tmp /run /newroot (empty mount points)
# plus the files given with --file.
#
# Options:
#   -o, --output FILE       the initramfs to write (required)
#   -i, --init FILE         the init script (required)
#   -M, --modules-dir DIR   the modules of one kernel, as /lib/modules/KVER
#                           (default /lib/modules/$(uname -r), the running kernel)
#   -k, --kver KVER         that kernel's version (default: DIR's last component)
#   -m, --module NAME       a module to add, with its dependencies (repeatable)
#       --no-default-modules  only the -m modules; the default set is
#                           xen-blkfront xen-netfront ext4 (hvc_xen and xenbus
#                           are built into Debian's kernel)
#   -f, --file SRC:DEST     copy SRC (a file or a directory) to DEST (repeatable)
#   -x, --exec PROG         a program of this host (a name on PATH or a path),
#                           at its own path, with the shared libraries and the
#                           dynamic loader `ldd` names for it (repeatable):
#                           fio, iperf3 for the benchmarks
#   -b, --busybox FILE      the busybox to use (must be statically linked)
# Exits 0 with the initramfs written, or 1 with one line on stderr saying what
# was wrong; OUT is then left untouched.
set -euo pipefail
PROG=tests/lib/linux-initramfs.sh
DEFAULT_MODULES=(xen-blkfront xen-netfront ext4)

die() { echo "$PROG: $*" >&2; exit 1; }
usage() { die "usage: $PROG -o OUT -i INIT [-M MODULES_DIR] [-k KVER] [-m MODULE]... [--no-default-modules] [-f SRC:DEST]... [-x PROG]... [-b BUSYBOX]"; }

# --- The command line, parsed and checked here and only here. ---
OUT= INIT= MODDIR= KVER= BUSYBOX= DEFAULTS=1
MODS=() FILES=() EXECS=()
need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
    case $1 in
        -o|--output) need_arg "$@"; OUT=$2; shift 2;;
        -i|--init) need_arg "$@"; INIT=$2; shift 2;;
        -M|--modules-dir) need_arg "$@"; MODDIR=$2; shift 2;;
        -k|--kver) need_arg "$@"; KVER=$2; shift 2;;
        -m|--module) need_arg "$@"; MODS+=("$2"); shift 2;;
        --no-default-modules) DEFAULTS=0; shift;;
        -f|--file) need_arg "$@"; FILES+=("$2"); shift 2;;
        -x|--exec) need_arg "$@"; EXECS+=("$2"); shift 2;;
        -b|--busybox) need_arg "$@"; BUSYBOX=$2; shift 2;;
        -h|--help) usage;;
        *) die "unknown argument '$1' (see the comment at the top of $PROG)";;
    esac
done
[ -n "$OUT" ] || usage
[ -n "$INIT" ] || usage
[ -f "$INIT" ] || die "init script $INIT: no such file"
[ "$(head -c 2 "$INIT")" = '#!' ] || die "init script $INIT does not start with #! (the kernel cannot run it)"
[ "$DEFAULTS" = 1 ] && MODS=("${DEFAULT_MODULES[@]}" "${MODS[@]}")
[ -n "$MODDIR" ] || MODDIR=/lib/modules/$(uname -r)
[ -n "$KVER" ] || KVER=$(basename "$MODDIR")
[[ $KVER =~ ^[A-Za-z0-9._+-]+$ ]] || die "kernel version '$KVER' is not a version (use -k)"
if [ ${#MODS[@]} -gt 0 ]; then
    [ -d "$MODDIR" ] || die "modules dir $MODDIR: no such directory"
    [ -f "$MODDIR/modules.dep.bin" ] || die "modules dir $MODDIR has no modules.dep.bin: run depmod for it"
fi
for f in "${FILES[@]}"; do
    [[ $f == *:/* ]] || die "--file $f: expected SRC:/DEST (DEST absolute)"
    [ -e "${f%%:/*}" ] || die "--file $f: ${f%%:/*} does not exist"
done
# Each program as an absolute path, and what it needs (ldd: the libraries
# as "NAME => PATH (ADDR)", the loader as "PATH (ADDR)"; a static program
# has none).
EXEC_FILES=()
for x in "${EXECS[@]}"; do
    p=$x
    [[ $p == /* ]] || p=$(command -v "$x") || die "--exec $x: no such program on PATH"
    [ -f "$p" ] && [ -x "$p" ] || die "--exec $x: $p is not an executable file"
    EXEC_FILES+=("$p")
    if ldd_out=$(ldd "$p" 2>&1); then
        while read -r lib; do
            [ -f "$lib" ] || die "--exec $x: ldd names $lib, which is not a file"
            EXEC_FILES+=("$lib")
        done < <(printf '%s\n' "$ldd_out" | sed -n 's|.*=> \(/[^ ]*\) (.*|\1|p; s|^[[:space:]]*\(/[^ ]*\) (.*|\1|p')
        [[ $ldd_out != *"not found"* ]] || die "--exec $x: a library is missing: $(printf '%s\n' "$ldd_out" | sed -n '/not found/{s/^[[:space:]]*//p;q}')"
    fi
done
[ -n "$BUSYBOX" ] || BUSYBOX=$(command -v busybox) || die "no busybox on PATH: install busybox-static"
[ -f "$BUSYBOX" ] && [ -x "$BUSYBOX" ] || die "busybox $BUSYBOX is not an executable file"
# (grep reads it all: under pipefail an early exit could SIGPIPE readelf.)
if readelf -l "$BUSYBOX" 2> /dev/null | grep 'Requesting program interpreter' > /dev/null; then
    die "busybox $BUSYBOX is dynamically linked (an initramfs has no libc): install busybox-static"
fi
for tool in cpio gzip modprobe depmod; do
    command -v "$tool" > /dev/null || die "$tool is missing (packages cpio, gzip, kmod)"
done

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/linux-initramfs.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
R=$STAGE/root
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,run,newroot}

# --- busybox and its applet links ---
cp "$BUSYBOX" "$R/bin/busybox"
chmod 0755 "$R/bin/busybox"
# The whole list is read (under pipefail an early-exiting reader would kill
# busybox with SIGPIPE).
applets=$("$BUSYBOX" --list-full) || die "$BUSYBOX --list-full failed: not a busybox?"
links=()
while read -r a; do
    [[ $a =~ ^([a-z]+/)*[a-z0-9._[-]+$ ]] && [ "$a" != bin/busybox ] && links+=("$R/$a")
done <<< "$applets"
# One process for the ~400 links (a fork each costs seconds on a loaded host);
# perl-base is Essential in Debian.
perl -e 'for (@ARGV) { next if -e $_ || -l $_; symlink("/bin/busybox", $_) or die "$_: $!\n" }' "${links[@]}" ||
    die "cannot make busybox's applet links in $R"
[ -L "$R/bin/sh" ] || die "$BUSYBOX has no sh applet"

# --- modules: each once, dependencies first ---
: > "$R/etc/initramfs-modules"
if [ ${#MODS[@]} -gt 0 ]; then
    # modprobe wants ROOT/lib/modules/KVER: a link gives any modules dir that shape.
    mkdir -p "$STAGE/src/lib/modules"
    ln -s "$(cd "$MODDIR" && pwd)" "$STAGE/src/lib/modules/$KVER"
    mdst=$R/lib/modules/$KVER
    mkdir -p "$mdst"
    declare -A seen=()
    for m in "${MODS[@]}"; do
        # -C /dev/null: the host's modprobe.d (options, blacklists) is not the guest's.
        deps=$(modprobe -C /dev/null -d "$STAGE/src" -S "$KVER" --show-depends "$m" 2> "$STAGE/err") ||
            die "module $m: $(head -n 1 "$STAGE/err" | sed "s|$STAGE/src/lib/modules/$KVER|$MODDIR|")"
        while read -r kind path _; do
            [ "$kind" = insmod ] || continue # "builtin NAME": in the kernel already
            rel=${path#"$STAGE/src/lib/modules/$KVER/"}
            [ "$rel" != "$path" ] || die "module $m: modprobe named $path, outside $MODDIR"
            [ -z "${seen[$rel]:-}" ] || continue
            seen[$rel]=1
            mkdir -p "$mdst/$(dirname "$rel")"
            # busybox's insmod takes plain ELF: a compressed module is unpacked here.
            case $rel in
                *.ko) ko=$rel; unpack=(cat);;
                *.ko.xz) ko=${rel%.xz}; unpack=(xz -dc);;
                *.ko.gz) ko=${rel%.gz}; unpack=(gzip -dc);;
                *.ko.zst) ko=${rel%.zst}; unpack=(zstd -qdc);;
                *) die "module $m: $path is not a .ko[.xz|.gz|.zst]";;
            esac
            "${unpack[@]}" "$path" > "$mdst/$ko" || die "module $m: cannot copy $path"
            echo "/lib/modules/$KVER/$ko" >> "$R/etc/initramfs-modules"
        done <<< "$deps"
    done
    for f in modules.builtin modules.builtin.modinfo; do
        [ -f "$MODDIR/$f" ] && cp "$MODDIR/$f" "$mdst/"
    done
    sed "s|^/lib/modules/$KVER/||" "$R/etc/initramfs-modules" > "$mdst/modules.order"
    depmod -b "$R" "$KVER" 2> "$STAGE/err" || die "depmod for the initramfs failed: $(head -n 1 "$STAGE/err")"
fi

# --- the caller's files, then init ---
for f in "${FILES[@]}"; do
    src=${f%%:/*} dst=/${f#*:/}
    mkdir -p "$R$(dirname "$dst")"
    cp -a "$src" "$R$dst" || die "--file $f: cannot copy"
done
# Programs and libraries at the paths they have here (symlinks followed:
# the loader finds each library under the name ldd printed).
for p in "${EXEC_FILES[@]}"; do
    mkdir -p "$R$(dirname "$p")"
    [ -e "$R$p" ] || cp -L "$p" "$R$p" || die "--exec: cannot copy $p"
done
install -m 0755 "$INIT" "$R/init"

# Sorted names, one mtime, --reproducible: the same inputs give the same bytes.
mkdir -p "$(dirname "$OUT")"
find "$R" -exec touch -h -d @0 {} +
(cd "$R" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible -R 0:0 | gzip -n -6) \
    > "$STAGE/out.gz" || die "cpio or gzip failed"
mv "$STAGE/out.gz" "$OUT" || die "cannot write $OUT"
