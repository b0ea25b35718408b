#!/bin/bash
# tests/lib/linux-initramfs.sh on the host: a modules tree of small ELF
# objects made here (their dependencies are real symbol references, which
# depmod resolves; one softdep, one xz-compressed module, one builtin, one
# module nobody asked for), the host's busybox, and the archive's contents
# read back with cpio -t / cpio -i.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MK=$ROOT/tests/lib/linux-initramfs.sh
T=$(mktemp -d /tmp/tandem-initramfs-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }
for tool in gcc depmod cpio xz busybox; do
    command -v "$tool" > /dev/null || { fail setup "$tool is missing (make deps)"; exit 1; }
done

KV=9.9.9-tandem-test
M=$T/mods/lib/modules/$KV
# fake_module NAME RELPATH 'EXPORTS' 'IMPORTS' [MODINFO...]: an ELF relocatable
# object exporting and calling the named functions, with a .modinfo section.
fake_module() {
    local name=$1 rel=$2 exports=$3 imports=$4 c=$T/src/$1.c e i info
    shift 4
    mkdir -p "$T/src" "$M/$(dirname "$rel")"
    info="name=$name"
    for e in "$@"; do info="$info\\0$e"; done
    {
        echo "__attribute__((section(\".modinfo\"), used)) static const char modinfo[] = \"$info\";"
        local ks=""
        for e in $exports; do ks="$ks$e\\0"; done
        [ -n "$ks" ] && echo "__attribute__((section(\"__ksymtab_strings\"), used)) static const char ksym[] = \"$ks\";"
        for i in $imports; do echo "extern int $i(void);"; done
        for e in $exports; do echo "int $e(void) { return 0; }"; done
        echo "int ${name//-/_}_init(void) { return 0$(for i in $imports; do printf ' + %s()' "$i"; done); }"
    } > "$c"
    gcc -c -o "$M/$rel" "$c" || return 1
}
fake_module crc16 kernel/lib/crc16.ko crc16 "" &&
fake_module mbcache kernel/fs/mbcache.ko mb_cache_create "" &&
fake_module jbd2 kernel/fs/jbd2/jbd2.ko jbd2_journal_init crc16 &&
fake_module crc32c_generic kernel/crypto/crc32c_generic.ko "" "" "alias=crc32c" &&
fake_module ext4 kernel/fs/ext4/ext4.ko "" "crc16 mb_cache_create jbd2_journal_init" "softdep=pre: crc32c" &&
fake_module xen-blkfront kernel/drivers/block/xen-blkfront.ko "" "" &&
fake_module xen-netfront kernel/drivers/net/xen-netfront.ko "" "" &&
fake_module unused kernel/drivers/misc/unused.ko "" crc16 || { fail setup "gcc could not make the fake modules"; exit 1; }
xz "$M/kernel/lib/crc16.ko" # -> crc16.ko.xz: the builder unpacks it
printf 'kernel/drivers/xen/xenbus/xenbus.ko\n' > "$M/modules.builtin"
depmod -b "$T/mods" "$KV" 2> /dev/null || { fail setup "depmod of the fake tree failed"; exit 1; }
printf '#!/bin/sh\necho tandem-test-init\n' > "$T/init"
echo extra-content > "$T/extra.txt"
mkdir -p "$T/extradir/sub" && echo deep > "$T/extradir/sub/f"

# The default set plus a builtin, a module ext4 needs anyway (each goes in
# once) and extra files.
if "$MK" -o "$T/a/initrd.gz" -i "$T/init" -M "$M" -m xenbus -m jbd2 \
        -f "$T/extra.txt:/etc/extra.txt" -f "$T/extradir:/opt/x" 2> "$T/err"; then
    pass build-default-set
else
    fail build-default-set "$(cat "$T/err")"
    exit 1
fi
gzip -t "$T/a/initrd.gz" && pass gzip-valid || fail gzip-valid "not a valid gzip file"
zcat "$T/a/initrd.gz" | cpio -t --quiet > "$T/list" 2> "$T/err" || fail cpio-list "$(cat "$T/err")"
want_kos="lib/modules/$KV/kernel/crypto/crc32c_generic.ko
lib/modules/$KV/kernel/drivers/block/xen-blkfront.ko
lib/modules/$KV/kernel/drivers/net/xen-netfront.ko
lib/modules/$KV/kernel/fs/ext4/ext4.ko
lib/modules/$KV/kernel/fs/jbd2/jbd2.ko
lib/modules/$KV/kernel/fs/mbcache.ko
lib/modules/$KV/kernel/lib/crc16.ko"
got_kos=$(grep -E '\.ko(\.[a-z]+)?$' "$T/list" | LC_ALL=C sort)
[ "$got_kos" = "$want_kos" ] && pass modules-with-deps-only ||
    fail modules-with-deps-only "got: $(echo $got_kos), want: $(echo $want_kos)"
for f in init bin/busybox bin/sh sbin/insmod etc/initramfs-modules etc/extra.txt opt/x/sub/f \
         "lib/modules/$KV/modules.dep" "lib/modules/$KV/modules.dep.bin" dev proc sys newroot; do
    grep -qx "$f" "$T/list" || missing="${missing:-} $f"
done
[ -z "${missing:-}" ] && pass contents-listed || fail contents-listed "not in the archive:$missing"

mkdir -p "$T/x"
(cd "$T/x" && zcat "$T/a/initrd.gz" | cpio -id --quiet --no-absolute-filenames) || fail cpio-extract "cpio -i failed"
X=$T/x
[ -x "$X/init" ] && cmp -s "$X/init" "$T/init" && pass init-installed || fail init-installed "/init differs or is not executable"
[ "$(readlink "$X/bin/sh")" = /bin/busybox ] && cmp -s "$X/bin/busybox" "$(command -v busybox)" &&
    pass busybox-and-links || fail busybox-and-links "bin/sh -> $(readlink "$X/bin/sh"), busybox copied: $(cmp "$X/bin/busybox" "$(command -v busybox)" 2>&1)"
[ "$(head -c 4 "$X/lib/modules/$KV/kernel/lib/crc16.ko" | od -An -c | tr -d ' ')" = '177ELF' ] &&
    pass xz-module-unpacked || fail xz-module-unpacked "crc16.ko is not an ELF object"
[ "$(cat "$X/etc/extra.txt")" = extra-content ] && [ "$(cat "$X/opt/x/sub/f")" = deep ] &&
    pass extra-files || fail extra-files "--file contents differ"
# Load order: every module after all it needs.
order=$(sed 's|.*/||; s|\.ko$||' "$X/etc/initramfs-modules" | tr '\n' ' ')
pos() { local i=0 w; for w in $order; do [ "$w" = "$1" ] && { echo $i; return; }; i=$((i + 1)); done; echo 999; }
ok=1
for pair in crc16:jbd2 crc16:ext4 jbd2:ext4 mbcache:ext4 crc32c_generic:ext4; do
    [ "$(pos "${pair%%:*}")" -lt "$(pos "${pair#*:}")" ] && [ "$(pos "${pair#*:}")" != 999 ] || ok=0
done
[ "$(wc -l < "$X/etc/initramfs-modules")" = 7 ] || ok=0
grep -qv "^/lib/modules/$KV/" "$X/etc/initramfs-modules" && ok=0
[ $ok = 1 ] && pass load-order || fail load-order "etc/initramfs-modules: $order"
grep -q "^kernel/fs/ext4/ext4.ko: .*kernel/fs/jbd2/jbd2.ko" "$X/lib/modules/$KV/modules.dep" &&
    pass modules-dep || fail modules-dep "the initramfs's modules.dep lacks ext4's dependencies"

# The same inputs give the same bytes.
"$MK" -o "$T/b/initrd.gz" -i "$T/init" -M "$M" -m xenbus -m jbd2 -f "$T/extra.txt:/etc/extra.txt" -f "$T/extradir:/opt/x" 2> "$T/err"
cmp -s "$T/a/initrd.gz" "$T/b/initrd.gz" && pass reproducible || fail reproducible "two builds differ"

# Only the given modules; -k with a modules dir not named after the version.
mv "$M" "$T/mods/lib/modules/other-name"
"$MK" -o "$T/c.gz" -i "$T/init" -M "$T/mods/lib/modules/other-name" -k "$KV" --no-default-modules -m jbd2 2> "$T/err" &&
    [ "$(zcat "$T/c.gz" | cpio -t --quiet | grep -c '\.ko$')" = 2 ] && pass only-given-modules ||
    fail only-given-modules "$(cat "$T/err")"
mv "$T/mods/lib/modules/other-name" "$M"

# --exec: a program with its libraries and loader at the paths ldd gives,
# which the loader finds there (run it with the archive's loader and only
# the archive's libraries).
gcc -o "$T/prog" -x c - -lz <<'C' || { fail setup "gcc could not make the test program"; exit 1; }
#include <stdio.h>
#include <zlib.h>
int main(void) { printf("zlib %s\n", zlibVersion()); return 0; }
C
if "$MK" -o "$T/e.gz" -i "$T/init" --no-default-modules -x "$T/prog" -x cat 2> "$T/err"; then
    mkdir -p "$T/e"
    (cd "$T/e" && zcat "$T/e.gz" | cpio -id --quiet --no-absolute-filenames)
    libz=$(ldd "$T/prog" | sed -n 's|.*=> \(/[^ ]*libz[^ ]*\) (.*|\1|p')
    loader=$(ldd "$T/prog" | sed -n 's|^[[:space:]]*\(/[^ ]*ld-linux[^ ]*\) (.*|\1|p')
    cat_bin=$(command -v cat)
    if [ -x "$T/e$T/prog" ] && [ -f "$T/e$libz" ] && [ -f "$T/e$loader" ] && [ -x "$T/e$cat_bin" ] &&
        [ ! -L "$T/e$libz" ] && cmp -s "$T/e$libz" "$libz"; then
        pass exec-with-libraries
    else
        fail exec-with-libraries "missing in the archive: prog, $libz, $loader or $cat_bin"
    fi
    libdir=$(dirname "$T/e$libz")
    out=$("$T/e$loader" --inhibit-cache --library-path "$libdir" "$T/e$T/prog" 2>&1)
    [[ $out == "zlib "* ]] && pass exec-runs-from-the-archive || fail exec-runs-from-the-archive "$out"
else
    fail exec-with-libraries "$(cat "$T/err")"
fi

# Bad input: one line saying what, status 1, OUT untouched.
bad() { # name regex args...
    local name=$1 re=$2
    shift 2
    echo keep > "$T/out.gz"
    if "$MK" "$@" > "$T/out" 2> "$T/err"; then
        fail "$name" "accepted"
    elif [ "$?" != 1 ] || ! grep -qE -- "$re" "$T/err" || [ "$(cat "$T/out.gz")" != keep ]; then
        fail "$name" "status/message/output wrong: $(cat "$T/err")"
    else
        pass "$name"
    fi
}
printf 'echo no shebang\n' > "$T/noshebang"
mkdir -p "$T/nodep"
bad unknown-module "module nosuch: .*not found" -o "$T/out.gz" -i "$T/init" -M "$M" -m nosuch
bad init-missing "init script $T/nope: no such file" -o "$T/out.gz" -i "$T/nope" -M "$M"
bad init-no-shebang "does not start with #!" -o "$T/out.gz" -i "$T/noshebang" -M "$M"
bad no-modules-dep "has no modules.dep.bin: run depmod" -o "$T/out.gz" -i "$T/init" -M "$T/nodep"
bad dynamic-busybox "is dynamically linked" -o "$T/out.gz" -i "$T/init" -M "$M" -b /bin/ls
bad bad-file-arg "expected SRC:/DEST" -o "$T/out.gz" -i "$T/init" -M "$M" -f "$T/extra.txt"
bad unknown-option "unknown argument '--frob'" -o "$T/out.gz" -i "$T/init" --frob
bad no-output "usage:" -i "$T/init" -M "$M"
bad exec-missing "--exec no-such-prog-xyz: no such program on PATH" -o "$T/out.gz" -i "$T/init" -M "$M" -x no-such-prog-xyz
bad exec-not-a-program "--exec $T/extra.txt: .* is not an executable file" -o "$T/out.gz" -i "$T/init" -M "$M" -x "$T/extra.txt"
bad missing-value "-m needs a value" -o "$T/out.gz" -i "$T/init" -m
